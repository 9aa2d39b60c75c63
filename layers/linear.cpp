// layers/linear.cpp — the fully connected layer.
// Forward is the fused `linear` op, whose backward gives dx, dW and db in one call.
#include "layers/linear.h"

#include <cmath>
#include <stdexcept>

#include "core/ops.h"
#include "layers/init.h"

namespace bplab {

Linear::Linear(std::int64_t in, std::int64_t out, Rng& rng, bool bias, DType dtype)
    : Linear(init::uniform({out, in}, 1.0 / std::sqrt(static_cast<double>(in)), rng, dtype),
             bias ? init::uniform({out}, 1.0 / std::sqrt(static_cast<double>(in)), rng, dtype) : Tensor()) {}

Linear::Linear(Tensor weight, Tensor bias) {
    if (weight.dim() != 2 || (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.size(0))))
        throw std::invalid_argument("Linear: weight " + shape_str(weight.shape()) + " and bias " +
                                    (bias.defined() ? shape_str(bias.shape()) : std::string("none")) +
                                    " (expected (out, in) and (out,))");
    in_ = weight.size(1);
    out_ = weight.size(0);
    weight_ = register_parameter("weight", std::move(weight));
    if (bias.defined()) bias_ = register_parameter("bias", std::move(bias));
}

Tensor Linear::forward(const Tensor& x) const { return linear(x, weight_, bias_); }

}  // namespace bplab
