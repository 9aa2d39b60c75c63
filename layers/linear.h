// layers/linear.h — the fully connected layer y = x Wᵀ + b, with W (out, in) as in PyTorch.
// Parameters are named "weight" and "bias"; initialisation is the owner's choice.
#pragma once
#include "core/rng.h"
#include "layers/module.h"

namespace bplab {

class Linear : public Module {
public:
    /// PyTorch's default initialisation: weight and bias U(−1/√in, 1/√in).
    Linear(std::int64_t in, std::int64_t out, Rng& rng, bool bias = true, DType dtype = DType::f32);
    /// Takes the given initial values: weight (out, in), bias (out) or undefined.
    Linear(Tensor weight, Tensor bias);
    /// (..., in) -> (..., out)
    Tensor forward(const Tensor& x) const;

    const Tensor& weight() const { return weight_; }
    const Tensor& bias() const { return bias_; }
    std::int64_t in_features() const { return in_; }
    std::int64_t out_features() const { return out_; }

private:
    std::int64_t in_, out_;
    Tensor weight_;
    Tensor bias_;  ///< undefined without bias
};

}  // namespace bplab
