// backends/cpu/images.cpp — data augmentation's crop, pad and mirror (place_images), in parallel over images.
// Each output row is a fill, a copied (or mirrored) span of an image row, and a fill.
#include <algorithm>

#include "backends/cpu/cpu_backend.h"

namespace bplab {

void CpuBackend::place_images(Tensor& out, const Tensor& x, const Tensor& placement, double fill) {
    const std::int64_t b = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3), size = out.size(1);
    const auto* at = placement.data<std::int64_t>();  // (B, 3): dy, dx, flip
    cpu::dispatch_float("place_images", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T* src = x.data<T>();
        T* dst = out.data<T>();
        const T f = static_cast<T>(fill);
#pragma omp parallel for if (out.numel() > cpu::kParallelGrain)
        for (std::int64_t n = 0; n < b; ++n) {
            const std::int64_t dy = at[3 * n], dx = at[3 * n + 1];
            const bool flip = at[3 * n + 2] != 0;
            // Output columns [j0, j1) read image columns j + dx inside [0, w).
            const std::int64_t j0 = std::clamp<std::int64_t>(-dx, 0, size), j1 = std::clamp<std::int64_t>(w - dx, j0, size);
            for (std::int64_t i = 0; i < size; ++i) {
                T* o = dst + ((n * size + i) * size) * c;
                const std::int64_t r = i + dy;
                if (r < 0 || r >= h) {
                    std::fill(o, o + size * c, f);
                    continue;
                }
                std::fill(o, o + j0 * c, f);
                const T* row = src + ((n * h + r) * w) * c;
                if (flip)
                    for (std::int64_t j = j0; j < j1; ++j) std::copy_n(row + (w - 1 - (j + dx)) * c, c, o + j * c);
                else
                    std::copy_n(row + (j0 + dx) * c, (j1 - j0) * c, o + j0 * c);
                std::fill(o + j1 * c, o + size * c, f);
            }
        }
    });
}

}  // namespace bplab
