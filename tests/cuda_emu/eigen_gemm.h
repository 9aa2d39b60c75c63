// tests/cuda_emu/eigen_gemm.h — the column-major GEMM that the emulated cuBLAS and cuBLASLt both compute (in f32,
// f64, f32 with TF32 operands, or f32 sums of bf16 operands), and the touch of a workspace such a call may use
// whole; on host memory with Eigen.
#pragma once
#include <Eigen/Core>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

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

/// TF32's operand rounding: an f32 with the 13 low bits of its mantissa rounded off (to nearest, ties to even),
/// as tensor cores read f32 operands when cuBLAS may use TF32. Infinities and NaN pass unchanged.
inline float to_tf32(float v) {
    std::uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    if ((bits & 0x7f800000u) == 0x7f800000u) return v;
    bits += 0x0fffu + ((bits >> 13) & 1u);  // ties to even; a carry into the exponent rounds up a binade
    bits &= ~0x1fffu;
    std::memcpy(&v, &bits, sizeof v);
    return v;
}

/// The column-major (rows, cols) matrix at `a` with leading dimension `ld`, each element converted to f32 by
/// `to_f32`, packed (leading dimension rows).
template <class S, class F>
std::vector<float> packed_f32(const S* a, Eigen::Index rows, Eigen::Index cols, Eigen::Index ld, F to_f32) {
    std::vector<float> out(static_cast<std::size_t>(rows * cols));
    for (Eigen::Index j = 0; j < cols; ++j)
        for (Eigen::Index i = 0; i < rows; ++i) out[static_cast<std::size_t>(j * rows + i)] = to_f32(a[j * ld + i]);
    return out;
}

/// gemm on packed f32 copies of A and B made by `to_f32`, from their elements of type S: TF32's rounding of f32
/// operands, or bf16 operands read exactly.
template <class S, class F>
void gemm_converted(bool trans_a, bool trans_b, Eigen::Index m, Eigen::Index n, Eigen::Index k, float alpha, const S* a,
                    Eigen::Index lda, const S* b, Eigen::Index ldb, float beta, float* c, Eigen::Index ldc, F to_f32) {
    const Eigen::Index rows_a = trans_a ? k : m, cols_a = trans_a ? m : k, rows_b = trans_b ? n : k, cols_b = trans_b ? k : n;
    const auto ca = packed_f32(a, rows_a, cols_a, lda, to_f32), cb = packed_f32(b, rows_b, cols_b, ldb, to_f32);
    gemm(trans_a, trans_b, m, n, k, alpha, ca.data(), std::max<Eigen::Index>(rows_a, 1), cb.data(),
         std::max<Eigen::Index>(rows_b, 1), beta, c, ldc);
}

/// gemm with TF32 operands (f32 sums), as cuBLAS computes f32 GEMMs in CUBLAS_TF32_TENSOR_OP_MATH or with
/// CUBLAS_COMPUTE_32F_FAST_TF32.
inline void gemm_tf32(bool trans_a, bool trans_b, Eigen::Index m, Eigen::Index n, Eigen::Index k, float alpha, const float* a,
                      Eigen::Index lda, const float* b, Eigen::Index ldb, float beta, float* c, Eigen::Index ldc) {
    gemm_converted(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, to_tf32);
}

/// gemm with bf16 operands (given as their 16 bits) and f32 sums and output, as cuBLAS computes CUDA_R_16BF
/// products with CUBLAS_COMPUTE_32F.
inline void gemm_bf16(bool trans_a, bool trans_b, Eigen::Index m, Eigen::Index n, Eigen::Index k, float alpha,
                      const std::uint16_t* a, Eigen::Index lda, const std::uint16_t* b, Eigen::Index ldb, float beta,
                      float* c, Eigen::Index ldc) {
    const auto widen = [](std::uint16_t bits) {
        const std::uint32_t wide = std::uint32_t{bits} << 16;
        float v;
        std::memcpy(&v, &wide, sizeof v);
        return v;
    };
    gemm_converted(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, widen);
}

/// Writes the first and last byte of a workspace the library may use whole, so that a freed or too small one
/// fails under AddressSanitizer.
inline void touch_workspace(void* workspace, std::size_t bytes) {
    if (bytes == 0) return;
    auto* w = static_cast<unsigned char*>(workspace);
    w[0] = w[bytes - 1] = 0xA5;
}

}  // namespace bplab_emu
