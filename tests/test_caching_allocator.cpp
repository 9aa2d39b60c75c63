// tests/test_caching_allocator.cpp — the CUDA backend's caching policy, on a fake device with a capacity:
// reuse by size class, statistics, the retry with an empty cache, and a clear out-of-memory error.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <unordered_map>

#include "core/caching_allocator.h"

using namespace bplab;

namespace {

/// A device of `capacity` bytes backed by malloc, counting its calls.
class FakeDevice final : public RawAllocator {
public:
    explicit FakeDevice(std::size_t capacity) : capacity_(capacity) {}
    void* allocate(std::size_t nbytes) override {
        if (used_ + nbytes > capacity_) return nullptr;
        void* p = std::malloc(nbytes);
        sizes_[p] = nbytes;
        used_ += nbytes;
        ++calls;
        return p;
    }
    void deallocate(void* ptr) override {
        used_ -= sizes_.at(ptr);
        sizes_.erase(ptr);
        std::free(ptr);
        ++frees;
    }
    std::string name() const override { return "fake:0"; }
    std::size_t used() const { return used_; }
    int calls = 0, frees = 0;

private:
    std::size_t capacity_, used_ = 0;
    std::unordered_map<void*, std::size_t> sizes_;
};

constexpr std::size_t MiB = 1 << 20;

}  // namespace

TEST_CASE("caching allocator: size classes round up by 512 B below 1 MiB, by a quarter power of two above", "[unit]") {
    CHECK(CachingAllocator::size_class(0) == 512);
    CHECK(CachingAllocator::size_class(1) == 512);
    CHECK(CachingAllocator::size_class(512) == 512);
    CHECK(CachingAllocator::size_class(513) == 1024);
    CHECK(CachingAllocator::size_class(MiB - 1) == MiB);
    CHECK(CachingAllocator::size_class(MiB) == MiB);
    CHECK(CachingAllocator::size_class(MiB + 1) == MiB + MiB / 4);
    CHECK(CachingAllocator::size_class(3 * MiB) == 3 * MiB);
    CHECK(CachingAllocator::size_class(3 * MiB + 1) == 3 * MiB + MiB / 2);
    for (std::size_t n : {std::size_t{700}, 5 * MiB + 3, 100 * MiB + 1}) {
        const std::size_t c = CachingAllocator::size_class(n);
        CHECK(c >= n);
        CHECK(c <= n + n / 4 + 512);
    }
}

TEST_CASE("caching allocator: a freed block is reused for any request of its class, not for another class", "[unit]") {
    FakeDevice device(64 * MiB);
    CachingAllocator a(device);
    void* p = a.allocate(1000);
    a.deallocate(p, 1000);
    CHECK(a.allocate(900) == p);  // same 1024-byte class: no device call
    CHECK(device.calls == 1);
    void* q = a.allocate(5000);  // another class
    CHECK(q != p);
    CHECK(device.calls == 2);
    a.deallocate(q, 5000);
    a.deallocate(p, 900);
    // A warm loop of the same shapes makes no device call.
    for (int step = 0; step < 3; ++step) {
        void* x = a.allocate(1000);
        void* y = a.allocate(5000);
        a.deallocate(y, 5000);
        a.deallocate(x, 1000);
    }
    CHECK(a.raw_allocations() == 2);
}

TEST_CASE("caching allocator: current and peak count requested bytes, reserved counts blocks held", "[unit]") {
    FakeDevice device(64 * MiB);
    CachingAllocator a(device);
    void* p = a.allocate(1000);
    void* q = a.allocate(3 * MiB + 1);
    MemoryStats s = a.stats();
    CHECK(s.current_bytes == 1000 + 3 * MiB + 1);
    CHECK(s.peak_bytes == s.current_bytes);
    CHECK(s.reserved_bytes == static_cast<std::int64_t>(1024 + 3 * MiB + MiB / 2));
    CHECK(s.allocations == 2);
    a.deallocate(q, 3 * MiB + 1);
    s = a.stats();
    CHECK(s.current_bytes == 1000);
    CHECK(s.peak_bytes == 1000 + 3 * MiB + 1);
    CHECK(s.reserved_bytes == static_cast<std::int64_t>(1024 + 3 * MiB + MiB / 2));  // cached, still held
    a.reset_peak();
    CHECK(a.stats().peak_bytes == 1000);
    a.empty_cache();
    CHECK(a.stats().reserved_bytes == 1024);
    CHECK(device.used() == 1024);
    a.deallocate(p, 1000);
}

TEST_CASE("caching allocator: a full device is retried with an empty cache, then fails with a clear error", "[unit]") {
    FakeDevice device(8 * MiB);
    CachingAllocator a(device);
    void* p = a.allocate(6 * MiB);
    a.deallocate(p, 6 * MiB);  // 6 MiB cached: a 4 MiB request only fits once the cache is returned
    void* q = a.allocate(4 * MiB);
    CHECK(q != nullptr);
    CHECK(device.frees == 1);
    CHECK(a.stats().reserved_bytes == static_cast<std::int64_t>(4 * MiB));
    try {
        a.allocate(5 * MiB);
        FAIL("expected OutOfMemory");
    } catch (const OutOfMemory& e) {
        const std::string what = e.what();
        INFO(what);
        CHECK(what.find("fake:0") != std::string::npos);
        CHECK(what.find("5.0 MiB") != std::string::npos);
        CHECK(what.find("in use 4.0 MiB") != std::string::npos);
        CHECK(what.find("reserved 4.0 MiB") != std::string::npos);
    }
    CHECK(a.stats().current_bytes == static_cast<std::int64_t>(4 * MiB));  // the failed request left no trace
    a.deallocate(q, 4 * MiB);
}

TEST_CASE("caching allocator: the destructor returns every cached block to the device", "[unit]") {
    FakeDevice device(64 * MiB);
    {
        CachingAllocator a(device);
        void* small = a.allocate(100);
        void* medium = a.allocate(2000);
        void* large = a.allocate(2 * MiB);
        a.deallocate(large, 2 * MiB);
        a.deallocate(medium, 2000);
        a.deallocate(small, 100);
        CHECK(device.used() == 512 + 2048 + 2 * MiB);
    }
    CHECK(device.used() == 0);
    CHECK(device.frees == 3);
}

TEST_CASE("caching allocator: keep_freed = false hands every freed block back, counting the same", "[unit]") {
    FakeDevice device(64 * MiB);
    CachingAllocator a(device, false);
    void* p = a.allocate(3 * MiB + 1);
    CHECK(device.used() == 3 * MiB + 1);  // the exact size, not the size class: ASan sees an overrun by one byte
    a.deallocate(p, 3 * MiB + 1);
    p = a.allocate(3 * MiB);
    a.deallocate(p, 3 * MiB);
    CHECK(device.frees == 2);
    CHECK(device.used() == 0);
    const MemoryStats s = a.stats();
    CHECK(s.current_bytes == 0);
    CHECK(s.peak_bytes == static_cast<std::int64_t>(3 * MiB + 1));
    CHECK(s.reserved_bytes == 0);
    a.deallocate(a.allocate(3 * MiB), 3 * MiB);
    CHECK(device.calls == 3);  // nothing was cached to reuse
}
