// layers/regularize.h — dropout and DropPath (stochastic depth), active only in training mode.
// Both scale what they keep by 1/(1−p) so that evaluation needs no rescaling.
#pragma once
#include "core/rng.h"
#include "core/tensor.h"

namespace bplab {

/// Zeroes each element with probability p (training only); p = 0 or eval returns x itself.
Tensor dropout(const Tensor& x, double p, bool training, Rng& rng);
/// Zeroes each sample (dim 0) of a residual branch with probability p (training only).
Tensor drop_path(const Tensor& x, double p, bool training, Rng& rng);

}  // namespace bplab
