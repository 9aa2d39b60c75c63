// core/data/augment.cpp — crop, pad and flip as one gather per image (source pixel or fill per output pixel).
// Random choices are drawn per image in order, so a seed fixes the whole epoch's augmentation.
#include "core/data/augment.h"

#include <stdexcept>

namespace bplab {
namespace {

/// out[b, i, j] = x[b, i + dy, j' + dx] (j' mirrored if flip), or fill outside the image.
void place(const float* src, float* dst, std::int64_t h, std::int64_t w, std::int64_t c, std::int64_t size, std::int64_t dy,
           std::int64_t dx, bool flip, float fill) {
    for (std::int64_t i = 0; i < size; ++i)
        for (std::int64_t j = 0; j < size; ++j) {
            const std::int64_t si = i + dy, sj0 = j + dx, sj = flip ? w - 1 - sj0 : sj0;
            float* o = dst + (i * size + j) * c;
            if (si < 0 || si >= h || sj0 < 0 || sj0 >= w) {
                for (std::int64_t k = 0; k < c; ++k) o[k] = fill;
            } else {
                const float* s = src + (si * w + sj) * c;
                for (std::int64_t k = 0; k < c; ++k) o[k] = s[k];
            }
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
    for (std::int64_t n = 0; n < b; ++n) {
        // Offset of the output window in image coordinates: centred, then shifted by up to ±pad.
        std::int64_t dy = (h - size) / 2, dx = (w - size) / 2;
        if (o.pad > 0) {
            dy += static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(2 * o.pad + 1))) - o.pad;
            dx += static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(2 * o.pad + 1))) - o.pad;
        }
        const bool flip = o.flip && rng.below(2) == 1;
        place(src + n * h * w * c, dst + n * size * size * c, h, w, c, size, dy, dx, flip, static_cast<float>(o.fill));
    }
    return out;
}

Tensor fit_images(const Tensor& x, std::int64_t size, double fill) {
    Rng unused(0);
    return augment_images(x, {.size = size, .pad = 0, .flip = false, .fill = fill}, unused);
}

}  // namespace bplab
