// layers/norm.cpp — the LayerNorm and LayerScale modules.
// The arithmetic is the layer_norm op (core/ops/layer_norm.cpp).
#include "layers/norm.h"

#include "core/ops.h"

namespace bplab {

LayerNorm::LayerNorm(std::int64_t channels, double eps, DType dtype) : eps_(eps) {
    weight_ = register_parameter("weight", Tensor::full({channels}, 1.0, dtype));
    bias_ = register_parameter("bias", Tensor::zeros({channels}, dtype));
}

Tensor LayerNorm::forward(const Tensor& x) const { return layer_norm(x, weight_, bias_, eps_); }

LayerScale::LayerScale(std::int64_t channels, double init, DType dtype) {
    gamma_ = register_parameter("gamma", Tensor::full({channels}, init, dtype));
}

Tensor LayerScale::forward(const Tensor& x) const { return mul(x, gamma_); }

}  // namespace bplab
