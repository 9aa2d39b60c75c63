// core/data/augment.h — image transforms for training batches: fit to the model's size, random crop
// with padding, horizontal flip. Channels-last (B, H, W, C) on the CPU, driven by a seeded Rng.
#pragma once
#include "core/rng.h"
#include "core/tensor.h"

namespace bplab {

struct AugmentOptions {
    std::int64_t size = 0;  ///< output height = width (0 keeps the input's)
    std::int64_t pad = 0;   ///< random crop from the image padded by this much on each side
    bool flip = false;      ///< mirror each image left-right with probability 1/2
    double fill = 0.0;      ///< value of padding (a black pixel after normalisation)
};

/// Centre-pads (or centre-crops) every image to size × size.
Tensor fit_images(const Tensor& x, std::int64_t size, double fill);
/// The training transform; with pad = 0 and no flip it is fit_images.
Tensor augment_images(const Tensor& x, const AugmentOptions& options, Rng& rng);

}  // namespace bplab
