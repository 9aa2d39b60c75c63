// tests/cuda_emu/cublas.cpp — the GEMMs of include/cublas_v2.h (strided-batched in f32, f64 and bf16), computed
// with Eigen on host memory after the same argument checks cuBLAS makes, so a wrong leading dimension fails as it
// would on a GPU.
#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>

#include "cublas_v2.h"
#include "eigen_gemm.h"

struct bplab_emu_cublas {
    void* workspace = nullptr;
    std::size_t workspace_bytes = 0;
    cublasMath_t math = CUBLAS_DEFAULT_MATH;
};

namespace {

/// cuBLAS's checks of a GEMM's handle, sizes and leading dimensions; then, for a call with work to do, the wait for
/// earlier work (a faulted context fails the call) and the touch of the workspace. The callers return early where
/// it finds no work.
cublasStatus_t check(cublasHandle_t handle, cublasOperation_t op_a, cublasOperation_t op_b, int m, int n, int k, int lda,
                     int ldb, int ldc, int batch) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    const int rows_a = op_a == CUBLAS_OP_N ? m : k, rows_b = op_b == CUBLAS_OP_N ? k : n;
    if (m < 0 || n < 0 || k < 0 || batch < 0 || lda < std::max(1, rows_a) || ldb < std::max(1, rows_b) ||
        ldc < std::max(1, m))
        return CUBLAS_STATUS_INVALID_VALUE;
    // cuBLAS does not document C for k = 0 (BLAS scales it by beta; MAGMA once returned early): left untouched
    // here, the way that breaks a caller who relies on either.
    if (m == 0 || n == 0 || k == 0 || batch == 0) return CUBLAS_STATUS_SUCCESS;
    if (cudaDeviceSynchronize() != cudaSuccess) return CUBLAS_STATUS_EXECUTION_FAILED;
    bplab_emu::touch_workspace(handle->workspace, handle->workspace_bytes);
    return CUBLAS_STATUS_SUCCESS;
}

/// C (m, n) = alpha op(A) op(B) + beta C for each batch entry, column-major, as cublas<t>gemmStridedBatched.
template <class T>
cublasStatus_t gemm(cublasHandle_t handle, cublasOperation_t op_a, cublasOperation_t op_b, int m, int n, int k,
                    const T* alpha, const T* a, int lda, long long stride_a, const T* b, int ldb, long long stride_b,
                    const T* beta, T* c, int ldc, long long stride_c, int batch) {
    if (const cublasStatus_t status = check(handle, op_a, op_b, m, n, k, lda, ldb, ldc, batch);
        status != CUBLAS_STATUS_SUCCESS || m == 0 || n == 0 || k == 0 || batch == 0)
        return status;
    for (int i = 0; i < batch; ++i) {
        if constexpr (std::is_same_v<T, float>)
            if (handle->math == CUBLAS_TF32_TENSOR_OP_MATH) {
                bplab_emu::gemm_tf32(op_a != CUBLAS_OP_N, op_b != CUBLAS_OP_N, m, n, k, *alpha, a + i * stride_a, lda,
                                     b + i * stride_b, ldb, *beta, c + i * stride_c, ldc);
                continue;
            }
        bplab_emu::gemm(op_a != CUBLAS_OP_N, op_b != CUBLAS_OP_N, m, n, k, *alpha, a + i * stride_a, lda,
                        b + i * stride_b, ldb, *beta, c + i * stride_c, ldc);
    }
    return CUBLAS_STATUS_SUCCESS;
}

}  // namespace

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
    *handle = new bplab_emu_cublas;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t handle) {
    delete handle;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetWorkspace(cublasHandle_t handle, void* workspace, std::size_t bytes) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    if ((!workspace && bytes > 0) || reinterpret_cast<std::uintptr_t>(workspace) % 256 != 0) return CUBLAS_STATUS_INVALID_VALUE;
    handle->workspace = workspace;
    handle->workspace_bytes = bytes;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (mode != CUBLAS_DEFAULT_MATH && mode != CUBLAS_TF32_TENSOR_OP_MATH) return CUBLAS_STATUS_INVALID_VALUE;
    handle->math = mode;
    return CUBLAS_STATUS_SUCCESS;
}

const char* cublasGetStatusString(cublasStatus_t status) {
    switch (status) {
        case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
        case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
        case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
        case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
        case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
        case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    }
    return "CUBLAS_STATUS_UNKNOWN";
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t op_a, cublasOperation_t op_b, int m,
                                         int n, int k, const float* alpha, const float* a, int lda, long long stride_a,
                                         const float* b, int ldb, long long stride_b, const float* beta, float* c,
                                         int ldc, long long stride_c, int batch) {
    return gemm(handle, op_a, op_b, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta, c, ldc, stride_c, batch);
}

cublasStatus_t cublasDgemmStridedBatched(cublasHandle_t handle, cublasOperation_t op_a, cublasOperation_t op_b, int m,
                                         int n, int k, const double* alpha, const double* a, int lda,
                                         long long stride_a, const double* b, int ldb, long long stride_b,
                                         const double* beta, double* c, int ldc, long long stride_c, int batch) {
    return gemm(handle, op_a, op_b, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta, c, ldc, stride_c, batch);
}

cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t op_a, cublasOperation_t op_b, int m,
                                          int n, int k, const void* alpha, const void* a, cudaDataType_t a_type, int lda,
                                          long long stride_a, const void* b, cudaDataType_t b_type, int ldb,
                                          long long stride_b, const void* beta, void* c, cudaDataType_t c_type, int ldc,
                                          long long stride_c, int batch, cublasComputeType_t compute, cublasGemmAlgo_t) {
    if (a_type != CUDA_R_16BF || b_type != CUDA_R_16BF || c_type != CUDA_R_32F || compute != CUBLAS_COMPUTE_32F)
        return CUBLAS_STATUS_NOT_SUPPORTED;
    if (const cublasStatus_t status = check(handle, op_a, op_b, m, n, k, lda, ldb, ldc, batch);
        status != CUBLAS_STATUS_SUCCESS || m == 0 || n == 0 || k == 0 || batch == 0)
        return status;
    const auto* pa = static_cast<const std::uint16_t*>(a);
    const auto* pb = static_cast<const std::uint16_t*>(b);
    for (int i = 0; i < batch; ++i)
        bplab_emu::gemm_bf16(op_a != CUBLAS_OP_N, op_b != CUBLAS_OP_N, m, n, k, *static_cast<const float*>(alpha),
                             pa + i * stride_a, lda, pb + i * stride_b, ldb, *static_cast<const float*>(beta),
                             static_cast<float*>(c) + i * stride_c, ldc);
    return CUBLAS_STATUS_SUCCESS;
}
