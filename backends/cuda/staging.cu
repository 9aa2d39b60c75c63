// backends/cuda/staging.cu — the pinned ring behind upload(): each copy is memcpy'd into the next free slot,
// queued from there, and followed by an event; a slot is reused once the event of the copy that read it fired.
#include <cuda_runtime.h>

#include <cstring>
#include <deque>
#include <mutex>
#include <vector>

#include "backends/cuda/check.h"
#include "backends/cuda/staging.h"

namespace bplab::cuda {
namespace {

/// One queued copy: the ring bytes it reads and the event recorded after it.
struct Pending {
    std::size_t begin, end;
    cudaEvent_t done;
};

/// Slots are taken in ring order, so the copies still pending form one arc from the oldest (front) to the
/// newest, and a new slot can only run into the oldest ones, once the previous lap's copies in the tail that
/// a wrap skips are retired too.
struct Ring {
    std::mutex mutex;
    char* base = nullptr;
    std::size_t head = 0;
    std::deque<Pending> pending;
    std::vector<cudaEvent_t> spare;

    ~Ring() {  // at exit the context may be gone already: errors are ignored, nothing may throw
        for (const Pending& p : pending) cudaEventDestroy(p.done);
        for (cudaEvent_t e : spare) cudaEventDestroy(e);
        if (base) cudaFreeHost(base);
    }

    /// Waits for the oldest pending copy and recycles its event.
    void retire_front() {
        BPLAB_CUDA_CHECK(cudaEventSynchronize(pending.front().done));  // long done, normally
        spare.push_back(pending.front().done);
        pending.pop_front();
    }

    cudaEvent_t event() {
        if (!spare.empty()) {
            cudaEvent_t e = spare.back();
            spare.pop_back();
            return e;
        }
        cudaEvent_t e = nullptr;
        BPLAB_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
        return e;
    }
};

Ring& ring() {
    static Ring r;
    return r;
}

}  // namespace

std::size_t pending_uploads() {
    Ring& r = ring();
    const std::lock_guard<std::mutex> lock(r.mutex);
    return r.pending.size();
}

void upload(void* device_dst, const void* host_src, std::size_t n) {
    if (n == 0) return;
    if (n > kMaxStagedBytes) {
        BPLAB_CUDA_CHECK(cudaMemcpyAsync(device_dst, host_src, n, cudaMemcpyHostToDevice, nullptr));
        return;
    }
    Ring& r = ring();
    const std::lock_guard<std::mutex> lock(r.mutex);
    if (!r.base) BPLAB_CUDA_CHECK(cudaMallocHost(&r.base, kRingBytes));
    const std::size_t size = (n + kSlotBytes - 1) / kSlotBytes * kSlotBytes;
    if (r.head + size > kRingBytes) {  // wrap: the tail is left unused this lap
        while (!r.pending.empty() && r.pending.front().begin >= r.head) r.retire_front();  // the last lap's tail
        r.head = 0;
    }
    const std::size_t begin = r.head, end = begin + size;
    while (!r.pending.empty() && r.pending.front().begin < end && begin < r.pending.front().end) r.retire_front();
    std::memcpy(r.base + begin, host_src, n);
    BPLAB_CUDA_CHECK(cudaMemcpyAsync(device_dst, r.base + begin, n, cudaMemcpyHostToDevice, nullptr));
    const cudaEvent_t done = r.event();
    BPLAB_CUDA_CHECK(cudaEventRecord(done, nullptr));
    r.pending.push_back({begin, end, done});
    r.head = end;
}

}  // namespace bplab::cuda
