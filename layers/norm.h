// layers/norm.h — LayerNorm over the channel (last) dim (timm's nn.LayerNorm and LayerNorm2d), and LayerScale.
// bplab keeps images channels-last, so one module serves tokens (B, N, C) and maps (B, H, W, C).
#pragma once
#include "layers/module.h"

namespace bplab {

class LayerNorm : public Module {
public:
    /// weight = 1, bias = 0 (PyTorch's initialisation).
    explicit LayerNorm(std::int64_t channels, double eps = 1e-6, DType dtype = DType::f32);
    /// (..., C) -> (..., C)
    Tensor forward(const Tensor& x) const;
    const Tensor& weight() const { return weight_; }
    const Tensor& bias() const { return bias_; }
    double eps() const { return eps_; }

private:
    double eps_;
    Tensor weight_, bias_;
};

/// timm's LayerScale: a learned per-channel scale γ (C), initialised to a small constant.
class LayerScale : public Module {
public:
    LayerScale(std::int64_t channels, double init, DType dtype = DType::f32);
    /// (..., C) -> (..., C)
    Tensor forward(const Tensor& x) const;

private:
    Tensor gamma_;
};

}  // namespace bplab
