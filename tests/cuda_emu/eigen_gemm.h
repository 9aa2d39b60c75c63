// tests/cuda_emu/eigen_gemm.h — the column-major GEMM that the emulated cuBLAS and cuBLASLt both compute, and the
// touch of a workspace that such a call may use whole; on host memory with Eigen.
#pragma once
#include <Eigen/Core>
#include <cstddef>

namespace bplab_emu {

/// C (m, n) = alpha op(A) op(B) + beta C, column-major with leading dimensions lda, ldb, ldc; op(A) is (m, k) and
/// op(B) (k, n). C is not read when beta is 0: it may hold anything, NaN included.
template <class T>
void gemm(bool trans_a, bool trans_b, Eigen::Index m, Eigen::Index n, Eigen::Index k, T alpha, const T* a,
          Eigen::Index lda, const T* b, Eigen::Index ldb, T beta, T* c, Eigen::Index ldc) {
    using In = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>, 0, Eigen::OuterStride<>>;
    Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>, 0, Eigen::OuterStride<>> C(c, m, n, Eigen::OuterStride<>(ldc));
    if (beta == T(0)) C.setZero();
    else C *= beta;
    if (k == 0) return;
    const In A(a, trans_a ? k : m, trans_a ? m : k, Eigen::OuterStride<>(lda));
    const In B(b, trans_b ? n : k, trans_b ? k : n, Eigen::OuterStride<>(ldb));
    if (!trans_a && !trans_b) C.noalias() += alpha * A * B;
    else if (!trans_a) C.noalias() += alpha * A * B.transpose();
    else if (!trans_b) C.noalias() += alpha * A.transpose() * B;
    else C.noalias() += alpha * A.transpose() * B.transpose();
}

/// Writes the first and last byte of a workspace the library may use whole, so that a freed or too small one
/// fails under AddressSanitizer.
inline void touch_workspace(void* workspace, std::size_t bytes) {
    if (bytes == 0) return;
    auto* w = static_cast<unsigned char*>(workspace);
    w[0] = w[bytes - 1] = 0xA5;
}

}  // namespace bplab_emu
