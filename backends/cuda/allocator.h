// backends/cuda/allocator.h — the GPU's memory: core/caching_allocator.h over cudaMalloc/cudaFree.
// install_allocator() makes it the allocator of Device::cuda() (memory_stats(Device::cuda()) reads it).
#pragma once
#include "core/caching_allocator.h"

namespace bplab::cuda {

/// The process-wide caching allocator of the current CUDA device, registered for DeviceType::cuda on first
/// use; throws (through the device check) when no GPU is present.
CachingAllocator& install_allocator();

}  // namespace bplab::cuda
