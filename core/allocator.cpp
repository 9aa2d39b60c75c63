// core/allocator.cpp — the CPU allocator (64-byte aligned, counting) and the per-device registry.
// Counting is exact and deterministic, so tests can assert peak bytes of a known graph.
#include "core/allocator.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <stdexcept>

namespace bplab {
namespace {

class CpuAllocator final : public Allocator {
public:
    void* allocate(std::size_t nbytes) override {
        const std::size_t rounded = (std::max<std::size_t>(nbytes, 1) + 63) / 64 * 64;
        void* p = std::aligned_alloc(64, rounded);
        if (!p) throw std::bad_alloc();
        const std::int64_t now = current_ += static_cast<std::int64_t>(nbytes);
        std::int64_t peak = peak_.load();
        while (now > peak && !peak_.compare_exchange_weak(peak, now)) {}
        ++allocations_;
        return p;
    }
    void deallocate(void* ptr, std::size_t nbytes) override {
        std::free(ptr);
        current_ -= static_cast<std::int64_t>(nbytes);
    }
    MemoryStats stats() const override {
        return {current_.load(), peak_.load(), current_.load(), allocations_.load()};
    }
    void reset_peak() override { peak_ = current_.load(); }

private:
    std::atomic<std::int64_t> current_{0}, peak_{0}, allocations_{0};
};

Allocator* g_allocators[2] = {nullptr, nullptr};

}  // namespace

Allocator& allocator_for(Device device) {
    static CpuAllocator cpu;
    if (device.is_cpu()) return cpu;
    Allocator* a = g_allocators[static_cast<int>(DeviceType::cuda)];
    if (!a) throw std::runtime_error("allocator: no allocator for " + device.str() + " (bplab was built without CUDA, or no GPU is present)");
    return *a;
}

void register_allocator(DeviceType type, Allocator* allocator) { g_allocators[static_cast<int>(type)] = allocator; }

}  // namespace bplab
