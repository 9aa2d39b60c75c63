// tests/cuda/test_cuda_staging.cpp — the pinned ring of small uploads: thousands of copies of mixed sizes
// wrap it many times while the GPU is held back, their sources are overwritten at once, and every
// destination still holds its data.
#include <cuda_runtime.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "backends/cuda/check.h"
#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/device.h"
#include "backends/cuda/staging.h"

using namespace bplab;

TEST_CASE("cuda staging: uploads that wrap the pinned ring many times each land intact", "[cuda]") {
    if (cuda::device_count() == 0) std::exit(77);
    cuda::install();
    // The stream first runs a 200 ms host function, so the copies queued behind it are still pending when the
    // ring comes round to their slots: only waiting for them keeps their bytes intact.
    BPLAB_CUDA_CHECK(cudaLaunchHostFunc(
        nullptr, [](void*) { std::this_thread::sleep_for(std::chrono::milliseconds(200)); }, nullptr));
    // 6000 uploads of 1 to 17 KiB (about 55 MB) through the 2 MiB ring, plus a few too large for it.
    constexpr std::int64_t kUploads = 6000;
    std::vector<Tensor> on_gpu;
    std::vector<std::int64_t> host;
    const auto value = [](std::int64_t i, std::int64_t j) { return i * 100000 + j; };
    for (std::int64_t i = 0; i < kUploads; ++i) {
        const std::int64_t n = i % 500 == 0 ? 20000 : 128 + (i * 7919) % 2048;  // elements of 8 bytes
        host.assign(static_cast<std::size_t>(n), 0);
        for (std::int64_t j = 0; j < n; ++j) host[static_cast<std::size_t>(j)] = value(i, j);
        Tensor d = Tensor::empty({n}, DType::i64, Device::cuda());
        cuda::upload(d.raw_data(), host.data(), static_cast<std::size_t>(n) * sizeof(std::int64_t));
        host.assign(static_cast<std::size_t>(n), -1);  // the source may be reused as soon as upload returns
        on_gpu.push_back(d);
        REQUIRE(cuda::pending_uploads() <= cuda::kRingBytes / cuda::kSlotBytes);  // bounded by the ring's slots
    }
    for (std::int64_t i = 0; i < kUploads; ++i) {
        const Tensor back = on_gpu[static_cast<std::size_t>(i)].to(Device::cpu());
        const auto* p = back.data<std::int64_t>();
        std::int64_t wrong = 0;
        for (std::int64_t j = 0; j < back.numel(); ++j) wrong += p[j] != value(i, j);
        INFO("upload " << i << " of " << back.numel() << " elements");
        REQUIRE(wrong == 0);
    }
}
