// layers/init.h — parameter initialisers, seeded by bplab's Rng.
// Kaiming-normal (He) for ReLU nets and PyTorch's default uniform for Linear biases.
#pragma once
#include "core/rng.h"
#include "core/tensor.h"

namespace bplab::init {

/// N(0, std²) with std = gain / √fan_in, gain = √2 (ReLU): torch.nn.init.kaiming_normal_(mode='fan_in').
Tensor kaiming_normal(const Shape& shape, std::int64_t fan_in, Rng& rng, DType dtype = DType::f32);
/// U(−bound, bound): PyTorch's default for Linear (bound = 1/√fan_in for weights and biases).
Tensor uniform(const Shape& shape, double bound, Rng& rng, DType dtype = DType::f32);

}  // namespace bplab::init
