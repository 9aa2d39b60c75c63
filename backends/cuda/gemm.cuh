// backends/cuda/gemm.cuh — row-major (strided-batched) GEMM on cuBLAS, shared by matmul, linear, attention
// and convolution. cuBLAS is column-major, so Cᵀ = op(B)ᵀ op(A)ᵀ is computed on the same memory.
#pragma once
#include <algorithm>
#include <climits>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "backends/cuda/check.h"

namespace bplab::cuda {

/// C (batch, M, N) = alpha op(A) op(B) + beta C, row-major; A (M, K) or, transposed, (K, M); B (K, N) or (N, K).
/// A stride of 0 shares one matrix across the batch.
template <class T>
void gemm(cublasHandle_t h, T* c, const T* a, const T* b, std::int64_t m, std::int64_t n, std::int64_t k, bool trans_a,
          bool trans_b, std::int64_t batch, std::int64_t stride_a, std::int64_t stride_b, T alpha, T beta) {
    if (std::max({m, n, k, batch}) > INT_MAX)  // cuBLAS takes int sizes
        throw std::length_error("cuda gemm: (" + std::to_string(batch) + ", " + std::to_string(m) + ", " +
                                std::to_string(k) + ") x (" + std::to_string(k) + ", " + std::to_string(n) +
                                ") has a size over cuBLAS's limit of 2^31 - 1");
    const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    // cuBLAS wants every leading dimension >= 1, even for empty matrices.
    const auto lda = static_cast<int>(std::max<std::int64_t>(1, trans_a ? m : k));
    const auto ldb = static_cast<int>(std::max<std::int64_t>(1, trans_b ? k : n));
    const auto ldc = static_cast<int>(std::max<std::int64_t>(1, n));
    const auto M = static_cast<int>(m), N = static_cast<int>(n), K = static_cast<int>(k), B = static_cast<int>(batch);
    if constexpr (std::is_same_v<T, float>)
        BPLAB_CUBLAS_CHECK(cublasSgemmStridedBatched(h, op_b, op_a, N, M, K, &alpha, b, ldb, stride_b, a, lda, stride_a,
                                                     &beta, c, ldc, m * n, B));
    else
        BPLAB_CUBLAS_CHECK(cublasDgemmStridedBatched(h, op_b, op_a, N, M, K, &alpha, b, ldb, stride_b, a, lda, stride_a,
                                                     &beta, c, ldc, m * n, B));
}

}  // namespace bplab::cuda
