// core/ops/layer_norm.cpp — layer normalisation over the last dim (channels-last everywhere in bplab).
// Saves x, w and the per-row mean and 1/σ; not the output.
#include <stdexcept>

#include "backends/backend.h"
#include "core/ops.h"
#include "core/ops/check.h"

namespace bplab {

Tensor layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps) {
    detail::require_float("layer_norm", x);
    detail::require_dims_at_least("layer_norm", x, 1);
    const std::int64_t c = x.size(-1);
    for (const Tensor* p : {&w, &b})
        if (p->defined()) {
            detail::require_same("layer_norm", x, *p);
            if (p->dim() != 1 || p->size(0) != c)
                throw std::invalid_argument("layer_norm: affine parameter of shape " + shape_str(p->shape()) +
                                            " for input " + shape_str(x.shape()) + " (expected (" + std::to_string(c) + ",))");
        }
    if (!(eps > 0)) throw std::invalid_argument("layer_norm: eps " + std::to_string(eps) + " (expected > 0)");
    Tensor y = Tensor::empty_like(x);
    const std::int64_t rows = x.numel() / std::max<std::int64_t>(c, 1);
    Tensor mean = Tensor::empty({rows}, x.dtype(), x.device()), rstd = Tensor::empty({rows}, x.dtype(), x.device());
    backend_for(x.device()).layer_norm_forward(y, mean, rstd, x, w, b, eps);
    const Tensor sx = x.detach(), sw = w.defined() ? w.detach() : Tensor();
    return record(y, "layer_norm", {x, w, b}, [sx, sw, mean, rstd](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Tensor> {
        Tensor dx = needs[0] ? Tensor::empty_like(sx) : Tensor();
        Tensor dw = needs[1] ? Tensor::empty_like(sw) : Tensor();
        Tensor db = needs[2] ? Tensor::empty({sx.size(-1)}, sx.dtype(), sx.device()) : Tensor();
        backend_for(dy.device()).layer_norm_backward(dx, dw, db, dy, sx, sw, mean, rstd);
        return {dx, dw, db};
    });
}

}  // namespace bplab
