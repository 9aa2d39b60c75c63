// core/data/augment.h — image transforms for training batches: fit to the model's size, random crop
// with padding, horizontal flip. Channels-last (B, H, W, C) on any device, driven by a seeded Rng on the host.
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
/// The training transform; with pad = 0 and no flip it is fit_images. Runs on x's device: a batch is uploaded at
/// the dataset's size (28² for MNIST) and padded there, not at the model's (224², 64× the bytes).
Tensor augment_images(const Tensor& x, const AugmentOptions& options, Rng& rng);

}  // namespace bplab
