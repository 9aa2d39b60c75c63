// core/data/augment.cpp — crop, pad and flip, each output row as a fill, a copied (or mirrored) span and a fill.
// Random choices are drawn per image in order, so a seed fixes the whole epoch's augmentation; the copies run
// in parallel over images.
#include "core/data/augment.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace bplab {
namespace {

/// out[i, j] = x[i + dy, j' + dx] (j' mirrored if flip), or fill outside the image; one image, row by row: the
/// fill and the copied span of each row are contiguous.
void place(const float* src, float* dst, std::int64_t h, std::int64_t w, std::int64_t c, std::int64_t size, std::int64_t dy,
           std::int64_t dx, bool flip, float fill) {
    // Output columns [j0, j1) read image columns j + dx inside [0, w).
    const std::int64_t j0 = std::clamp<std::int64_t>(-dx, 0, size), j1 = std::clamp<std::int64_t>(w - dx, j0, size);
    for (std::int64_t i = 0; i < size; ++i) {
        float* o = dst + i * size * c;
        const std::int64_t si = i + dy;
        if (si < 0 || si >= h) {
            std::fill(o, o + size * c, fill);
            continue;
        }
        std::fill(o, o + j0 * c, fill);
        const float* row = src + si * w * c;
        if (flip)
            for (std::int64_t j = j0; j < j1; ++j) std::copy_n(row + (w - 1 - (j + dx)) * c, c, o + j * c);
        else
            std::copy_n(row + (j0 + dx) * c, (j1 - j0) * c, o + j0 * c);
        std::fill(o + j1 * c, o + size * c, fill);
    }
}

}  // namespace

Tensor augment_images(const Tensor& x, const AugmentOptions& o, Rng& rng) {
    if (x.dim() != 4 || x.dtype() != DType::f32 || !x.device().is_cpu())
        throw std::invalid_argument("augment: images of shape " + shape_str(x.shape()) + " (expected f32 (B, H, W, C) on the cpu)");
    const std::int64_t b = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3), size = o.size ? o.size : h;
    Tensor out = Tensor::empty({b, size, size, c}, DType::f32);
    const float* src = x.data<float>();
    float* dst = out.data<float>();
    // The draws, per image in order (so a seed fixes them), then the copies, in parallel.
    struct Placement {
        std::int64_t dy, dx;
        bool flip;
    };
    std::vector<Placement> at(static_cast<std::size_t>(b));
    for (auto& p : at) {
        // Offset of the output window in image coordinates: centred, then shifted by up to ±pad.
        p = {(h - size) / 2, (w - size) / 2, false};
        if (o.pad > 0) {
            p.dy += static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(2 * o.pad + 1))) - o.pad;
            p.dx += static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(2 * o.pad + 1))) - o.pad;
        }
        p.flip = o.flip && rng.below(2) == 1;
    }
#pragma omp parallel for if (b * size * size * c > (1 << 16))
    for (std::int64_t n = 0; n < b; ++n) {
        const Placement& p = at[static_cast<std::size_t>(n)];
        place(src + n * h * w * c, dst + n * size * size * c, h, w, c, size, p.dy, p.dx, p.flip, static_cast<float>(o.fill));
    }
    return out;
}

Tensor fit_images(const Tensor& x, std::int64_t size, double fill) {
    Rng unused(0);
    return augment_images(x, {.size = size, .pad = 0, .flip = false, .fill = fill}, unused);
}

}  // namespace bplab
