// core/ops/activation.cpp — ReLU and exact (erf) GELU.
// ReLU saves its output (the mask); GELU saves its input, which its derivative needs (rounded to bf16 under
// autocast, core/autocast.h).
#include "backends/backend.h"
#include "core/autocast.h"
#include "core/ops.h"
#include "core/ops/check.h"

namespace bplab {

Tensor relu(const Tensor& x) {
    detail::require_float("relu", x);
    Tensor y = Tensor::empty_like(x);
    backend_for(x.device()).relu_forward(y, x);
    const Tensor sy = y.detach();
    return record(y, "relu", {x}, [sy](const Tensor& dy, const NeedsGrad&) -> std::vector<Tensor> {
        Tensor dx = Tensor::empty_like(dy);
        backend_for(dy.device()).relu_backward(dx, dy, sy);
        return {dx};
    });
}

Tensor gelu(const Tensor& x) {
    detail::require_float("gelu", x);
    // Under autocast GELU is the function of x rounded to bf16, and keeps that bf16 input: the MLP's widest
    // activation at half the bytes (PyTorch's autocast keeps it in bf16 too, as a bf16 linear's output).
    const Tensor sx = autocast_operand(x, autocast_applies(x)).detach();
    Tensor y = Tensor::empty_like(x);
    backend_for(x.device()).gelu_forward(y, autocast_widened(sx));
    return record(y, "gelu", {x}, [sx](const Tensor& dy, const NeedsGrad&) -> std::vector<Tensor> {
        Tensor dx = Tensor::empty_like(dy);
        backend_for(dy.device()).gelu_backward(dx, dy, autocast_widened(sx));
        return {dx};
    });
}

}  // namespace bplab
