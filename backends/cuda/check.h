// backends/cuda/check.h — every CUDA runtime and cuBLAS call goes through these checks, so a failure
// names the call's file and line and the library's own message instead of surfacing later as garbage.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace bplab::cuda {

[[noreturn]] inline void fail(const char* what, const std::string& message, const char* file, int line) {
    throw std::runtime_error(std::string("cuda: ") + what + " failed at " + file + ":" + std::to_string(line) + ": " +
                             message);
}

}  // namespace bplab::cuda

#define BPLAB_CUDA_CHECK(call)                                                                            \
    do {                                                                                                  \
        const cudaError_t bplab_err_ = (call);                                                           \
        if (bplab_err_ != cudaSuccess) ::bplab::cuda::fail(#call, cudaGetErrorString(bplab_err_), __FILE__, __LINE__); \
    } while (0)

#define BPLAB_CUBLAS_CHECK(call)                                                                          \
    do {                                                                                                  \
        const cublasStatus_t bplab_status_ = (call);                                                     \
        if (bplab_status_ != CUBLAS_STATUS_SUCCESS)                                                       \
            ::bplab::cuda::fail(#call, cublasGetStatusString(bplab_status_), __FILE__, __LINE__);         \
    } while (0)
