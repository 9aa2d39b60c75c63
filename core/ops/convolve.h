// core/ops/convolve.h — what conv2d and depthwise_conv2d share after their checks: the backend calls, the rounding
// under autocast (core/autocast.h) and the autograd record. Their backends' entries have the same signatures.
#pragma once
#include <array>
#include <cstdint>

#include "backends/backend.h"

namespace bplab::detail {

using ConvForward = void (Backend::*)(Tensor&, const Tensor&, const Tensor&, const Tensor&, std::array<std::int64_t, 2>,
                                      std::array<std::int64_t, 2>);
using ConvBackward = void (Backend::*)(Tensor&, Tensor&, Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                       std::array<std::int64_t, 2>, std::array<std::int64_t, 2>);

/// Fills y (B, Ho, Wo, O) with the convolution of x (B, H, W, C) by w and b, and records its backward as `name`.
/// Under autocast x and w are read rounded to bf16 (x kept so, w rounded again in backward), dy is rounded for dx
/// and dw, and db sums dy itself, as linear's does; sums and outputs stay f32.
Tensor convolve(const char* name, Tensor y, const Tensor& x, const Tensor& w, const Tensor& b,
                std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding, ConvForward forward,
                ConvBackward backward);

}  // namespace bplab::detail
