// layers/init.h — parameter initialisers, seeded by bplab's Rng.
// Kaiming-normal (He) for ReLU nets, timm's truncated normal, and PyTorch's default uniform.
#pragma once
#include "core/rng.h"
#include "core/tensor.h"

namespace bplab::init {

/// N(0, std²) with std = gain / √fan_in, gain = √2 (ReLU): torch.nn.init.kaiming_normal_(mode='fan_in').
Tensor kaiming_normal(const Shape& shape, std::int64_t fan_in, Rng& rng, DType dtype = DType::f32);
/// N(0, std²) redrawn outside [lo, hi] (absolute bounds, as timm's trunc_normal_(std=0.02, a=-2, b=2)).
Tensor trunc_normal(const Shape& shape, double std, Rng& rng, DType dtype = DType::f32, double lo = -2.0, double hi = 2.0);
/// U(−bound, bound): PyTorch's default for Linear (bound = 1/√fan_in for weights and biases).
Tensor uniform(const Shape& shape, double bound, Rng& rng, DType dtype = DType::f32);

}  // namespace bplab::init
