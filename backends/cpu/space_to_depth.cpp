// backends/cpu/space_to_depth.cpp — s x s blocks of pixels to channels and back, as contiguous copies.
// For a fixed block row dy, the s pixels of a block are s·C contiguous elements on both sides: one memcpy.
#include <cstring>

#include "backends/cpu/cpu_backend.h"

namespace bplab {
namespace {

// Calls copy(block_offset, pixel_offset, bytes) for every (b, i, j, dy), with offsets in bytes into
// the blocked tensor (B, H/s, W/s, s·s·C) and the pixel tensor (B, H, W, C).
template <class F>
void for_each_block_row(const Tensor& pixels, std::int64_t s, F copy) {
    const std::int64_t batch = pixels.size(0), h = pixels.size(1), w = pixels.size(2), c = pixels.size(3);
    const std::int64_t ho = h / s, wo = w / s;
    const std::size_t es = dtype_size(pixels.dtype()), run = static_cast<std::size_t>(s * c) * es;
#pragma omp parallel for if (pixels.numel() > cpu::kParallelGrain)
    for (std::int64_t r = 0; r < batch * ho; ++r) {  // (b, i)
        const std::int64_t b = r / ho, i = r % ho;
        for (std::int64_t dy = 0; dy < s; ++dy)
            for (std::int64_t j = 0; j < wo; ++j)
                copy(static_cast<std::size_t>(((r * wo + j) * s + dy) * s * c) * es,
                     static_cast<std::size_t>(((b * h + i * s + dy) * w + j * s) * c) * es, run);
    }
}

}  // namespace

void CpuBackend::space_to_depth(Tensor& out, const Tensor& x, std::int64_t s) {
    const auto* src = static_cast<const char*>(x.raw_data());
    auto* dst = static_cast<char*>(out.raw_data());
    for_each_block_row(x, s, [&](std::size_t block, std::size_t pixel, std::size_t n) {
        std::memcpy(dst + block, src + pixel, n);
    });
}

void CpuBackend::depth_to_space(Tensor& out, const Tensor& x, std::int64_t s) {
    const auto* src = static_cast<const char*>(x.raw_data());
    auto* dst = static_cast<char*>(out.raw_data());
    for_each_block_row(out, s, [&](std::size_t block, std::size_t pixel, std::size_t n) {
        std::memcpy(dst + pixel, src + block, n);
    });
}

}  // namespace bplab
