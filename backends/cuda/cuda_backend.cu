// backends/cuda/cuda_backend.cu — the backend's lifetime: its cuBLAS handle, and install(), which registers
// the backend and the caching allocator for DeviceType::cuda once a GPU is known to be present.
#include "backends/cuda/allocator.h"
#include "backends/cuda/device.h"
#include "backends/cuda/kernels.cuh"

namespace bplab::cuda {

CudaBackend::CudaBackend() { BPLAB_CUBLAS_CHECK(cublasCreate(&cublas_)); }

CudaBackend::~CudaBackend() {
    if (cublas_) cublasDestroy(cublas_);
}

void CudaBackend::synchronize() { cuda::synchronize(); }

CudaBackend& install(int index) {
    static const int selected = [&] {
        if (index < 0 || index >= device_count())
            throw std::runtime_error("cuda: device " + std::to_string(index) + " requested, but this machine has " +
                                     std::to_string(device_count()) + " usable GPU(s)");
        BPLAB_CUDA_CHECK(cudaSetDevice(index));
        return index;
    }();
    if (index != selected)
        throw std::runtime_error("cuda: this process uses cuda:" + std::to_string(selected) + "; cuda:" +
                                 std::to_string(index) + " was asked for too");
    install_allocator();
    static CudaBackend backend;
    static const bool registered = (register_backend(DeviceType::cuda, &backend), true);
    (void)registered;
    return backend;
}

}  // namespace bplab::cuda
