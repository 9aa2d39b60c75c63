// layers/conv.h — Conv2d and DepthwiseConv2d modules on channels-last maps (B, H, W, C).
// Weights keep PyTorch's layouts ((O, I, kh, kw) and (C, 1, kh, kw)) so checkpoints exchange with timm.
#pragma once
#include <array>

#include "core/rng.h"
#include "layers/module.h"

namespace bplab {

class Conv2d : public Module {
public:
    /// trunc-normal(0.02) weights and zero bias (timm's ConvNeXt initialisation).
    Conv2d(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride, std::int64_t padding, Rng& init,
           DType dtype = DType::f32);
    /// (B, H, W, in) -> (B, Ho, Wo, out)
    Tensor forward(const Tensor& x) const;

private:
    std::array<std::int64_t, 2> stride_, padding_;
    Tensor weight_, bias_;
};

class DepthwiseConv2d : public Module {
public:
    DepthwiseConv2d(std::int64_t channels, std::int64_t kernel, std::int64_t padding, Rng& init, DType dtype = DType::f32);
    /// (B, H, W, C) -> (B, H, W, C) for stride 1 and padding (kernel − 1) / 2
    Tensor forward(const Tensor& x) const;

private:
    std::array<std::int64_t, 2> padding_;
    Tensor weight_, bias_;
};

}  // namespace bplab
