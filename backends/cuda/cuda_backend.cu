// backends/cuda/cuda_backend.cu — the backend's lifetime: its cuBLAS handle, and install(), which registers
// the backend and the caching allocator for DeviceType::cuda once a GPU is known to be present.
#include "backends/cuda/allocator.h"
#include "backends/cuda/device.h"
#include "backends/cuda/kernels.cuh"

namespace bplab::cuda {

namespace {

/// cuBLAS's recommended workspace for the current GPU: 32 MiB from Hopper (compute 9.0) on, 4 MiB before.
std::size_t cublas_workspace_bytes() {
    int device = 0;
    BPLAB_CUDA_CHECK(cudaGetDevice(&device));
    cudaDeviceProp p{};
    BPLAB_CUDA_CHECK(cudaGetDeviceProperties(&p, device));
    return std::size_t{p.major >= 9 ? 32u : 4u} << 20;
}

}  // namespace

CudaBackend::CudaBackend() {
    BPLAB_CUBLAS_CHECK(cublasCreate(&cublas_));
    // cuBLAS's scratch is a tensor of our allocator, so memory_stats(cuda) counts every byte a step uses (PyTorch's
    // count includes its cuBLAS workspace too); otherwise cuBLAS would cudaMalloc its own, unseen. cublasSetStream
    // would reset it to cuBLAS's own: a backend that ever sets a stream must set the workspace again after.
    try {
        const std::size_t bytes = cublas_workspace_bytes();
        cublas_workspace_ = Tensor::empty({static_cast<std::int64_t>(bytes / sizeof(float))}, DType::f32, Device::cuda());
        BPLAB_CUBLAS_CHECK(cublasSetWorkspace(cublas_, cublas_workspace_.data<float>(), bytes));
    } catch (...) {  // the destructor does not run for a constructor that throws
        cublasDestroy(cublas_);
        throw;
    }
}

CudaBackend::~CudaBackend() {
    if (cublas_) cublasDestroy(cublas_);
}

void CudaBackend::synchronize() { cuda::synchronize(); }

void CudaBackend::set_tf32(bool on) {
    BPLAB_CUBLAS_CHECK(cublasSetMathMode(cublas_, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    gemm_bias_.set_tf32(on);
    tf32_ = on;
}

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
