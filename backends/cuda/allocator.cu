// backends/cuda/allocator.cu — cudaMalloc/cudaFree behind the caching policy of core/caching_allocator.h.
// cudaMalloc's out-of-memory is reported as nullptr, so the policy can return its cache and retry.
#include "backends/cuda/allocator.h"
#include "backends/cuda/check.h"
#include "backends/cuda/device.h"

namespace bplab::cuda {
namespace {

class CudaMalloc final : public RawAllocator {
public:
    void* allocate(std::size_t nbytes) override {
        void* p = nullptr;
        const cudaError_t err = cudaMalloc(&p, nbytes);
        if (err == cudaErrorMemoryAllocation) {
            cudaGetLastError();  // not sticky: clear it and let the caller retry
            return nullptr;
        }
        BPLAB_CUDA_CHECK(err);
        return p;
    }
    void deallocate(void* ptr) override { BPLAB_CUDA_CHECK(cudaFree(ptr)); }
    std::string name() const override {
        int device = 0;
        BPLAB_CUDA_CHECK(cudaGetDevice(&device));
        return "cuda:" + std::to_string(device);
    }
};

}  // namespace

CachingAllocator& install_allocator() {
    if (device_count() == 0) throw std::runtime_error("cuda: no GPU is present (cudaGetDeviceCount found none)");
    static CudaMalloc raw;
    static CachingAllocator allocator(raw, kCacheFreedBlocks);
    static Allocator* const poisoned_allocator =  // never destroyed, like the CPU's: tensors may outlive statics
        poison_requested()
            ? poisoned(allocator, [](void* p, std::size_t n) { BPLAB_CUDA_CHECK(cudaMemset(p, 0xFF, n)); }).release()
            : nullptr;
    static const bool registered =
        (register_allocator(DeviceType::cuda, poisoned_allocator ? poisoned_allocator : &allocator), true);
    (void)registered;
    return allocator;
}

}  // namespace bplab::cuda
