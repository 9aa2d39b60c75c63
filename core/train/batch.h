// core/train/batch.h — one minibatch: inputs and integer labels on the same device.
// Shared by every training method (backprop, Backforward) and the data loaders.
#pragma once
#include "core/tensor.h"

namespace bplab {

struct Batch {
    Tensor x;  ///< (B, ...) f32
    Tensor y;  ///< (B) i64 class labels
    double label_smoothing = 0.0;  ///< how the labels are scored (cross-entropy's ε)
    /// Mixup / CutMix (core/data/mix.h): the labels of the images mixed in, (B) i64, and λ, the share of the
    /// batch's own labels: the loss is λ·CE(y) + (1 − λ)·CE(mix_y). Undefined and 1 without mixing.
    Tensor mix_y{};
    double mix_weight = 1.0;
};

}  // namespace bplab
