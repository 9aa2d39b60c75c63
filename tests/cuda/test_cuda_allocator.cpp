// tests/cuda/test_cuda_allocator.cpp — the GPU's caching allocator: blocks reused, statistics, a known graph's
// exact peak, and an out-of-memory error that names the request. Exits with CTest's skip code (77) without a GPU.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "backends/cuda/allocator.h"
#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/device.h"
#include "core/autograd.h"
#include "core/ops.h"
#include "tests/test_helpers.h"

using namespace bplab;

TEST_CASE("cuda allocator: freed blocks are reused (without ASan) and counted, memory_stats(cuda) reads them", "[cuda]") {
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

TEST_CASE("cuda allocator: cuBLAS's workspace is a tensor of the allocator, its recommended size, counted", "[cuda]") {
    if (cuda::device_count() == 0) std::exit(77);
    const cuda::CudaBackend& backend = cuda::install();
    cudaDeviceProp p{};
    REQUIRE(cudaGetDeviceProperties(&p, 0) == cudaSuccess);
    const Tensor& workspace = backend.cublas_workspace();
    CHECK(workspace.device() == Device::cuda());
    CHECK(workspace.nbytes() == (std::size_t{p.major >= 9 ? 32u : 4u} << 20));
    CHECK(memory_stats(Device::cuda()).current_bytes >= static_cast<std::int64_t>(workspace.nbytes()));
}

TEST_CASE("cuda allocator: a request beyond the GPU's memory raises OutOfMemory naming the request", "[cuda]") {
    if (cuda::device_count() == 0) std::exit(77);
    CachingAllocator& a = cuda::install_allocator();
    const std::size_t huge = std::size_t{1} << 45;  // 32 TiB
    CHECK_THROWS_AS(a.allocate(huge), OutOfMemory);
    CHECK_THROWS_WITH(a.allocate(huge), Catch::Contains("out of memory allocating 33554432.0 MiB"));
}

TEST_CASE("cuda allocator: a known graph's peak is exactly the bytes it must hold, as on the CPU", "[cuda]") {
    if (cuda::device_count() == 0) std::exit(77);
    cuda::install();
    // linear (64,32)x(16,32)ᵀ -> relu -> sum, f32 (the graph of test_autograd's memory case): y and r coexist in
    // the forward and r is saved; in the backward, the loss, dx, dw and relu's dx are alive together. A scratch
    // buffer in any of these kernels would show here as extra bytes.
    const auto on_gpu = [](std::uint64_t seed, const Shape& shape) {
        return test::random_tensor(shape, seed, DType::f32).to(Device::cuda()).set_requires_grad(true);
    };
    Tensor x = on_gpu(12, {64, 32}), w = on_gpu(13, {16, 32});
    const std::int64_t base = memory_stats(Device::cuda()).current_bytes;
    reset_peak(Device::cuda());
    Tensor loss = sum(relu(linear(x, w, Tensor())));
    CHECK(memory_stats(Device::cuda()).peak_bytes - base == 4096 + 4096 + 4);
    CHECK(memory_stats(Device::cuda()).current_bytes - base == 4096 + 4);
    reset_peak(Device::cuda());
    backward(loss);
    CHECK(memory_stats(Device::cuda()).peak_bytes - base == 4 + 8192 + 2048 + 4096);
    CHECK(memory_stats(Device::cuda()).current_bytes - base == 4 + 8192 + 2048);
}
