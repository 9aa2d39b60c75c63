// core/data/augment.cpp — the training transform: random offsets and flips drawn on the host, per image in order
// (so a seed fixes the whole epoch's augmentation), then one place_images on the images' device.
#include "core/data/augment.h"

#include <stdexcept>
#include <vector>

#include "backends/backend.h"

namespace bplab {

Tensor augment_images(const Tensor& x, const AugmentOptions& o, Rng& rng) {
    if (x.dim() != 4 || !is_floating(x.dtype()))
        throw std::invalid_argument("augment: images of shape " + shape_str(x.shape()) + " " + dtype_name(x.dtype()) +
                                    " (expected floats (B, H, W, C))");
    if (o.size < 0 || o.pad < 0)
        throw std::invalid_argument("augment: size " + std::to_string(o.size) + ", pad " + std::to_string(o.pad) +
                                    " (expected >= 0)");
    const std::int64_t b = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3), size = o.size ? o.size : h;
    std::vector<std::int64_t> placement;  // (B, 3): row offset, column offset, flip
    placement.reserve(static_cast<std::size_t>(3 * b));
    for (std::int64_t n = 0; n < b; ++n) {
        // Offset of the output window in image coordinates: centred, then shifted by up to ±pad.
        std::int64_t dy = (h - size) / 2, dx = (w - size) / 2;
        if (o.pad > 0) {
            dy += static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(2 * o.pad + 1))) - o.pad;
            dx += static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(2 * o.pad + 1))) - o.pad;
        }
        const bool flip = o.flip && rng.below(2) == 1;
        placement.insert(placement.end(), {dy, dx, flip ? 1 : 0});
    }
    Tensor out = Tensor::empty({b, size, size, c}, x.dtype(), x.device());
    if (out.numel() == 0) return out;
    const Tensor at = Tensor::from_indices(placement, {b, 3}).to(x.device());
    backend_for(x.device()).place_images(out, x, at, o.fill);
    return out;
}

Tensor fit_images(const Tensor& x, std::int64_t size, double fill) {
    Rng unused(0);
    return augment_images(x, {.size = size, .pad = 0, .flip = false, .fill = fill}, unused);
}

}  // namespace bplab
