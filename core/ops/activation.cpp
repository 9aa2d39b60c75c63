// core/ops/activation.cpp — ReLU and exact (erf) GELU.
// ReLU saves its output (the mask); GELU saves its input, which its derivative needs.
#include "backends/backend.h"
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
    Tensor y = Tensor::empty_like(x);
    backend_for(x.device()).gelu_forward(y, x);
    const Tensor sx = x.detach();
    return record(y, "gelu", {x}, [sx](const Tensor& dy, const NeedsGrad&) -> std::vector<Tensor> {
        Tensor dx = Tensor::empty_like(dy);
        backend_for(dy.device()).gelu_backward(dx, dy, sx);
        return {dx};
    });
}

}  // namespace bplab
