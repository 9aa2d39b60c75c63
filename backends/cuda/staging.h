// backends/cuda/staging.h — small host-to-GPU copies (row indices, masks) through a pinned ring buffer, so that
// queuing one never waits for the GPU: from pageable memory, cudaMemcpyAsync may wait for the stream.
#pragma once
#include <cstddef>

namespace bplab::cuda {

/// Copies of at most this many bytes take the ring; larger ones (batches) go straight from pageable memory.
constexpr std::size_t kMaxStagedBytes = 64 << 10;

/// Queues a copy of n bytes from host memory to the GPU on the default stream and returns; `host_src` may be
/// reused at once. Waits only when the ring comes round to copies that are still pending.
void upload(void* device_dst, const void* host_src, std::size_t n);

}  // namespace bplab::cuda
