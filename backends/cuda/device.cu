// backends/cuda/device.cu — device discovery for the CUDA backend and its tests.
// A machine without a GPU is a normal case here (CI), not an error.
#include <cuda_runtime.h>

#include <cstdio>
#include <stdexcept>

#include "backends/cuda/device.h"

namespace bplab::cuda {

int device_count() {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();  // clear the sticky "no device" error
        return 0;
    }
    return n;
}

std::string device_description(int index) {
    cudaDeviceProp p{};
    const cudaError_t err = cudaGetDeviceProperties(&p, index);
    if (err != cudaSuccess)
        throw std::runtime_error("cuda: device " + std::to_string(index) + ": " + cudaGetErrorString(err));
    char text[512];
    std::snprintf(text, sizeof text, "%s, compute %d.%d, %.1f GiB", p.name, p.major, p.minor,
                  static_cast<double>(p.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
    return text;
}

void synchronize() {
    const cudaError_t err = cudaDeviceSynchronize();
    if (err != cudaSuccess) throw std::runtime_error(std::string("cuda: cudaDeviceSynchronize: ") + cudaGetErrorString(err));
}

}  // namespace bplab::cuda
