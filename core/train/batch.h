// core/train/batch.h — one minibatch: inputs and integer labels on the same device.
// Shared by every training method (backprop, Backforward) and the data loaders.
#pragma once
#include "core/tensor.h"

namespace bplab {

struct Batch {
    Tensor x;  ///< (B, ...) f32
    Tensor y;  ///< (B) i64 class labels
    double label_smoothing = 0.0;  ///< how the labels are scored (cross-entropy's ε)
};

}  // namespace bplab
