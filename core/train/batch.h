// core/train/batch.h — one minibatch: inputs and integer labels on the same device.
// Shared by every training method (backprop, Backforward) and the data loaders.
#pragma once
#include "core/tensor.h"

namespace bplab {

struct Batch {
    Tensor x;  ///< (B, ...) f32
    Tensor y;  ///< (B) i64 class labels
};

}  // namespace bplab
