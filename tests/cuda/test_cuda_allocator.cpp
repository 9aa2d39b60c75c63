// tests/cuda/test_cuda_allocator.cpp — the GPU's caching allocator: blocks reused, statistics, and an
// out-of-memory error that names the request. Exits with CTest's skip code (77) without a GPU.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "backends/cuda/allocator.h"
#include "backends/cuda/device.h"

using namespace bplab;

TEST_CASE("cuda allocator: freed blocks are reused (without ASan) and counted; memory_stats(cuda) reads them", "[cuda]") {
    if (cuda::device_count() == 0) std::exit(77);
    CachingAllocator& a = cuda::install_allocator();
    const MemoryStats before = memory_stats(Device::cuda());
    void* p = a.allocate(1 << 20);
    CHECK(memory_stats(Device::cuda()).current_bytes == before.current_bytes + (1 << 20));
    const std::int64_t raw = a.raw_allocations();
    a.deallocate(p, 1 << 20);
    void* q = a.allocate((1 << 20) - 100);
    if (kCacheFreedBlocks) {
        CHECK(q == p);
        CHECK(a.raw_allocations() == raw);
    } else {  // AddressSanitizer builds (the CUDA emulator's) hand every block back at once
        CHECK(a.raw_allocations() == raw + 1);
    }
    a.deallocate(q, (1 << 20) - 100);
    CHECK(memory_stats(Device::cuda()).current_bytes == before.current_bytes);
}

TEST_CASE("cuda allocator: a request beyond the GPU's memory raises OutOfMemory naming the request", "[cuda]") {
    if (cuda::device_count() == 0) std::exit(77);
    CachingAllocator& a = cuda::install_allocator();
    const std::size_t huge = std::size_t{1} << 45;  // 32 TiB
    CHECK_THROWS_AS(a.allocate(huge), OutOfMemory);
    CHECK_THROWS_WITH(a.allocate(huge), Catch::Contains("out of memory allocating 33554432.0 MiB"));
}
