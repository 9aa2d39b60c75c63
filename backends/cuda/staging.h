// backends/cuda/staging.h — small host-to-GPU copies (row indices, masks) through a pinned ring buffer, so that
// queuing one never waits for the GPU: from pageable memory, cudaMemcpyAsync may wait for the stream.
#pragma once
#include <cstddef>

namespace bplab::cuda {

/// Copies of at most kMaxStagedBytes take the ring, each in slots of kSlotBytes; larger ones (batches) go
/// straight from pageable memory.
constexpr std::size_t kRingBytes = 2 << 20, kSlotBytes = 256, kMaxStagedBytes = 64 << 10;

/// Queues a copy of n bytes from host memory to the GPU on the default stream and returns; `host_src` may be
/// reused at once. Waits only when the ring comes round to copies that are still pending.
void upload(void* device_dst, const void* host_src, std::size_t n);

/// Copies queued through the ring whose slots are not yet known to be free again (for tests: bounded by the
/// ring's size, however many uploads ran).
std::size_t pending_uploads();

}  // namespace bplab::cuda
