// tests/test_caching_allocator.cpp — the caching policy of every device, on a fake device with a capacity:
// segments, best fit, cutting and merging, statistics, the retry with an empty cache, a clear out-of-memory error.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <map>
#include <random>
#include <vector>
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
    /// The allocation of this device that holds [p, p + n) whole; null if none does.
    const char* segment_of(const char* p, std::size_t n) const {
        for (const auto& [start, size] : sizes_) {
            const char* first = static_cast<const char*>(start);
            if (p >= first && p + n <= first + size) return first;
        }
        return nullptr;
    }
    int calls = 0, frees = 0;

private:
    std::size_t capacity_, used_ = 0;
    std::unordered_map<void*, std::size_t> sizes_;
};

constexpr std::size_t MiB = 1 << 20;

}  // namespace

TEST_CASE("caching allocator: blocks are 512-byte multiples, small ones share 2 MiB segments, large ones get 20 MiB or their own", "[unit]") {
    CHECK(CachingAllocator::round_size(0) == 512);
    CHECK(CachingAllocator::round_size(1) == 512);
    CHECK(CachingAllocator::round_size(512) == 512);
    CHECK(CachingAllocator::round_size(513) == 1024);
    CHECK(CachingAllocator::is_small(MiB));
    CHECK_FALSE(CachingAllocator::is_small(MiB + 512));
    CHECK(CachingAllocator::segment_size(512) == 2 * MiB);
    CHECK(CachingAllocator::segment_size(MiB) == 2 * MiB);
    CHECK(CachingAllocator::segment_size(MiB + 512) == 20 * MiB);
    CHECK(CachingAllocator::segment_size(10 * MiB - 512) == 20 * MiB);
    CHECK(CachingAllocator::segment_size(10 * MiB) == 10 * MiB);
    CHECK(CachingAllocator::segment_size(11 * MiB + 512) == 12 * MiB);
}

TEST_CASE("caching allocator: small blocks are cut from one segment side by side and merge back when freed", "[unit]") {
    FakeDevice device(64 * MiB);
    CachingAllocator a(device);
    char* p = static_cast<char*>(a.allocate(1000));
    char* q = static_cast<char*>(a.allocate(100));
    CHECK(q == p + 1024);  // best fit in the same 2 MiB segment, right after p
    CHECK(device.calls == 1);
    CHECK(device.used() == 2 * MiB);
    a.deallocate(p, 1000);
    CHECK(a.allocate(900) == p);  // the freed 1024 bytes are the best fit
    a.deallocate(p, 900);
    a.deallocate(q, 100);
    // Both merged with the rest: the whole segment is one free block again, so 1 MiB fits at its start.
    CHECK(a.allocate(MiB) == p);
    CHECK(device.calls == 1);
    a.empty_cache();  // a segment with a block in use stays
    CHECK(device.used() == 2 * MiB);
    a.deallocate(p, MiB);
    a.empty_cache();
    CHECK(device.used() == 0);
    CHECK(a.stats().reserved_bytes == 0);
}

TEST_CASE("caching allocator: a large request takes the smallest free block that holds it, cut only if 1 MiB+ is left", "[unit]") {
    FakeDevice device(64 * MiB);
    CachingAllocator a(device);
    char* x = static_cast<char*>(a.allocate(2 * MiB));  // a 20 MiB segment: x, y, z, then 12 MiB free
    char* y = static_cast<char*>(a.allocate(4 * MiB));
    char* z = static_cast<char*>(a.allocate(2 * MiB));
    CHECK(y == x + 2 * MiB);
    CHECK(z == y + 4 * MiB);
    CHECK(device.calls == 1);
    a.deallocate(x, 2 * MiB);
    a.deallocate(z, 2 * MiB);  // merges with the free 12 MiB behind it
    // 1.5 MiB: the 2 MiB block at x fits best; the 0.5 MiB rest stays with it (reserved, not cut off).
    CHECK(a.allocate(3 * MiB / 2) == x);
    // 3 MiB: only the 14 MiB block at z holds it; it is cut, and the 11 MiB rest serves the next request.
    CHECK(a.allocate(3 * MiB) == z);
    CHECK(a.allocate(11 * MiB) == z + 3 * MiB);
    CHECK(device.calls == 1);
    // A small request never cuts a large segment: it gets a 2 MiB segment of its own.
    a.deallocate(a.allocate(1000), 1000);
    CHECK(device.calls == 2);
    CHECK(a.stats().reserved_bytes == static_cast<std::int64_t>(22 * MiB));
    a.deallocate(x, 3 * MiB / 2);
    a.deallocate(y, 4 * MiB);
    a.deallocate(z, 3 * MiB);
    a.deallocate(z + 3 * MiB, 11 * MiB);
    a.empty_cache();  // all merged into whole segments again, so all go back
    CHECK(device.used() == 0);
}

TEST_CASE("caching allocator: current and peak count requested bytes, reserved counts segments held", "[unit]") {
    FakeDevice device(64 * MiB);
    CachingAllocator a(device);
    void* p = a.allocate(1000);
    void* q = a.allocate(30 * MiB + 1);
    MemoryStats s = a.stats();
    CHECK(s.current_bytes == 1000 + 30 * MiB + 1);
    CHECK(s.peak_bytes == s.current_bytes);
    CHECK(s.reserved_bytes == static_cast<std::int64_t>(2 * MiB + 32 * MiB));
    CHECK(s.allocations == 2);
    a.deallocate(q, 30 * MiB + 1);
    s = a.stats();
    CHECK(s.current_bytes == 1000);
    CHECK(s.peak_bytes == 1000 + 30 * MiB + 1);
    CHECK(s.reserved_bytes == static_cast<std::int64_t>(34 * MiB));  // free, still held
    a.reset_peak();
    CHECK(a.stats().peak_bytes == 1000);
    a.empty_cache();
    CHECK(a.stats().reserved_bytes == static_cast<std::int64_t>(2 * MiB));
    CHECK(device.used() == 2 * MiB);
    a.deallocate(p, 1000);
}

TEST_CASE("caching allocator: a full device is retried with the free segments returned, then fails with a clear error", "[unit]") {
    FakeDevice device(24 * MiB);
    CachingAllocator a(device);
    void* p = a.allocate(6 * MiB);  // a 20 MiB segment
    a.deallocate(p, 6 * MiB);
    void* q = a.allocate(22 * MiB);  // does not fit the free 20 MiB segment; its own fits once that is returned
    CHECK(q != nullptr);
    CHECK(device.frees == 1);
    CHECK(a.stats().reserved_bytes == static_cast<std::int64_t>(22 * MiB));
    try {
        a.allocate(3 * MiB);
        FAIL("expected OutOfMemory");
    } catch (const OutOfMemory& e) {
        const std::string what = e.what();
        INFO(what);
        CHECK(what.find("fake:0") != std::string::npos);
        CHECK(what.find("allocating 3.0 MiB") != std::string::npos);
        CHECK(what.find("in use 22.0 MiB") != std::string::npos);
        CHECK(what.find("reserved 22.0 MiB (0.0 MiB of it in free blocks") != std::string::npos);
    }
    CHECK(a.stats().current_bytes == static_cast<std::int64_t>(22 * MiB));  // the failed request left no trace
    a.deallocate(q, 22 * MiB);
}

TEST_CASE("caching allocator: random traffic never hands out overlapping bytes, and a repeated step asks the device for nothing", "[unit][property]") {
    FakeDevice device(1024 * MiB);
    CachingAllocator a(device);
    // One "step": a fixed random mix of small and large tensors, each freed a random number of allocations later.
    std::mt19937_64 rng(2525);
    std::vector<std::pair<std::size_t, int>> plan;  // (bytes, how many later allocations it lives for)
    for (int i = 0; i < 400; ++i) {
        const bool large = rng() % 4 == 0;
        plan.emplace_back(large ? MiB + rng() % (24 * MiB) : 1 + rng() % (64 * 1024), static_cast<int>(rng() % 40));
    }
    const auto run_step = [&] {
        std::map<char*, std::size_t> live;                 // start -> bytes, of every block in use
        std::multimap<int, char*> due;                      // allocation index at which it is freed -> block
        const auto free_due = [&](int now) {
            for (auto it = due.begin(); it != due.end() && it->first <= now; it = due.erase(it)) {
                a.deallocate(it->second, live.at(it->second));
                live.erase(it->second);
            }
        };
        for (int i = 0; i < static_cast<int>(plan.size()); ++i) {
            free_due(i);
            const auto [bytes, lifetime] = plan[i];
            char* p = static_cast<char*>(a.allocate(bytes));
            const char* segment = device.segment_of(p, bytes);
            REQUIRE(segment);
            REQUIRE((p - segment) % 512 == 0);
            const auto next = live.lower_bound(p);
            if (next != live.end()) REQUIRE(p + bytes <= next->first);
            if (next != live.begin()) REQUIRE(std::prev(next)->first + std::prev(next)->second <= p);
            live.emplace(p, bytes);
            due.emplace(i + lifetime, p);
        }
        free_due(static_cast<int>(plan.size()) + 40);
    };
    run_step();
    const std::int64_t first = a.raw_allocations();
    CHECK(a.stats().current_bytes == 0);
    CHECK(a.stats().reserved_bytes == static_cast<std::int64_t>(device.used()));
    for (int step = 0; step < 3; ++step) run_step();
    CHECK(a.raw_allocations() == first);
    a.empty_cache();
    CHECK(device.used() == 0);  // every block merged back into whole segments
}

TEST_CASE("caching allocator: freeing a pointer it does not hold is an error, not a corruption, so is a huge request", "[unit]") {
    FakeDevice device(64 * MiB);
    CachingAllocator a(device);
    void* p = a.allocate(1000);
    int not_ours = 0;
    CHECK_THROWS_WITH(a.deallocate(&not_ours, sizeof not_ours), Catch::Contains("did not hand out"));
    a.deallocate(p, 1000);
    CHECK_THROWS_WITH(a.deallocate(p, 1000), Catch::Contains("did not hand out"));  // a second free
    CHECK(a.stats().current_bytes == 0);  // neither wrong call changed the count
    CHECK_THROWS_AS(a.allocate(~std::size_t{0}), OutOfMemory);  // too large to round up: refused, not wrapped
    CHECK(device.calls == 1);
}

TEST_CASE("caching allocator: the destructor returns every free segment to the device", "[unit]") {
    FakeDevice device(64 * MiB);
    {
        CachingAllocator a(device);
        void* small = a.allocate(100);
        void* medium = a.allocate(2 * MiB);
        void* large = a.allocate(30 * MiB);
        a.deallocate(large, 30 * MiB);
        a.deallocate(medium, 2 * MiB);
        a.deallocate(small, 100);
        CHECK(device.used() == 2 * MiB + 20 * MiB + 30 * MiB);
    }
    CHECK(device.used() == 0);
    CHECK(device.frees == 3);
}

TEST_CASE("caching allocator: keep_freed = false hands every freed block back, counting the same", "[unit]") {
    FakeDevice device(64 * MiB);
    CachingAllocator a(device, false);
    void* p = a.allocate(3 * MiB + 1);
    CHECK(device.used() == 3 * MiB + 1);  // the exact size, not a 512-byte block: ASan sees an overrun by one byte
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
