// backends/cuda/gemm.cuh — row-major (strided-batched) GEMM on cuBLAS, shared by matmul, linear, attention
// and convolution, and the bf16 products of autocast's linear layers and attention. cuBLAS is column-major, so Cᵀ = op(B)ᵀ op(A)ᵀ
// is computed on the same memory.
#pragma once
#include <algorithm>
#include <climits>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "backends/cuda/check.h"
#include "core/bfloat16.h"

namespace bplab::cuda {

/// cuBLAS's view of a row-major product C (batch, M, N) = op(A) op(B): the operations and leading dimensions of
/// Cᵀ = op(B)ᵀ op(A)ᵀ, and the sizes as ints (checked against cuBLAS's limit).
struct ColumnMajorGemm {
    cublasOperation_t op_a, op_b;
    int lda, ldb, ldc, m, n, k, batch;
};

inline ColumnMajorGemm column_major(std::int64_t m, std::int64_t n, std::int64_t k, bool trans_a, bool trans_b,
                                    std::int64_t batch) {
    if (std::max({m, n, k, batch}) > INT_MAX)  // cuBLAS takes int sizes
        throw std::length_error("cuda gemm: (" + std::to_string(batch) + ", " + std::to_string(m) + ", " +
                                std::to_string(k) + ") x (" + std::to_string(k) + ", " + std::to_string(n) +
                                ") has a size over cuBLAS's limit of 2^31 - 1");
    // cuBLAS wants every leading dimension >= 1, even for empty matrices.
    return {trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
            trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
            static_cast<int>(std::max<std::int64_t>(1, trans_a ? m : k)),
            static_cast<int>(std::max<std::int64_t>(1, trans_b ? k : n)),
            static_cast<int>(std::max<std::int64_t>(1, n)),
            static_cast<int>(m),
            static_cast<int>(n),
            static_cast<int>(k),
            static_cast<int>(batch)};
}

/// C = beta C for an inner dimension K of 0, which cuBLAS leaves undocumented (BLAS scales C; some GPU libraries
/// return first): written here, for beta 0 (zeros) or 1 (C as it is), the only ones bplab passes. True when K is 0.
template <class T>
bool empty_inner_product(T* c, std::int64_t count, std::int64_t k, T beta) {
    if (k > 0) return false;
    if (beta != T(0) && beta != T(1)) throw std::invalid_argument("cuda gemm: an inner dimension of 0 with beta not 0 or 1");
    if (beta == T(0) && count > 0) BPLAB_CUDA_CHECK(cudaMemsetAsync(c, 0, static_cast<std::size_t>(count) * sizeof(T)));
    return true;
}

/// C (batch, M, N) = alpha op(A) op(B) + beta C, row-major; A (M, K) or, transposed, (K, M); B (K, N) or (N, K).
/// A stride of 0 shares one matrix across the batch.
template <class T>
void gemm(cublasHandle_t h, T* c, const T* a, const T* b, std::int64_t m, std::int64_t n, std::int64_t k, bool trans_a,
          bool trans_b, std::int64_t batch, std::int64_t stride_a, std::int64_t stride_b, T alpha, T beta) {
    const ColumnMajorGemm g = column_major(m, n, k, trans_a, trans_b, batch);
    if (empty_inner_product(c, batch * m * n, k, beta)) return;
    if constexpr (std::is_same_v<T, float>)
        BPLAB_CUBLAS_CHECK(cublasSgemmStridedBatched(h, g.op_b, g.op_a, g.n, g.m, g.k, &alpha, b, g.ldb, stride_b, a,
                                                     g.lda, stride_a, &beta, c, g.ldc, m * n, g.batch));
    else
        BPLAB_CUBLAS_CHECK(cublasDgemmStridedBatched(h, g.op_b, g.op_a, g.n, g.m, g.k, &alpha, b, g.ldb, stride_b, a,
                                                     g.lda, stride_a, &beta, c, g.ldc, m * n, g.batch));
}

/// gemm with bf16 A and B and an f32 C: autocast's products (linear layers, attention), on tensor cores with f32
/// sums (CUBLAS_COMPUTE_32F).
inline void gemm_bf16(cublasHandle_t h, float* c, const BFloat16* a, const BFloat16* b, std::int64_t m, std::int64_t n,
                      std::int64_t k, bool trans_a, bool trans_b, std::int64_t batch, std::int64_t stride_a,
                      std::int64_t stride_b, float alpha, float beta) {
    const ColumnMajorGemm g = column_major(m, n, k, trans_a, trans_b, batch);
    if (empty_inner_product(c, batch * m * n, k, beta)) return;
    BPLAB_CUBLAS_CHECK(cublasGemmStridedBatchedEx(h, g.op_b, g.op_a, g.n, g.m, g.k, &alpha, b, CUDA_R_16BF, g.ldb,
                                                  stride_b, a, CUDA_R_16BF, g.lda, stride_a, &beta, c, CUDA_R_32F,
                                                  g.ldc, m * n, g.batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

}  // namespace bplab::cuda
