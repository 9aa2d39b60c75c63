// core/ops/recompute.cpp — fused ops that save less for backward: LayerNorm then Linear saves x alone and GELU
// then Linear saves GELU's input alone (both redo the cheap elementwise part in backward); a layer scale γ after a
// Linear is folded into its weight and bias, so the Linear's output is never kept. Under autocast their products
// take bf16 operands, as linear's do, and GELU reads (and gelu_linear keeps) its input in bf16, as gelu's does.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "backends/backend.h"
#include "core/autocast.h"
#include "core/ops.h"

namespace bplab {

Tensor layer_norm_linear(const Tensor& x, const Tensor& norm_w, const Tensor& norm_b, double eps, const Tensor& w,
                         const Tensor& b) {
    Tensor y;
    {
        NoGradGuard no_grad;  // the checks and kernels of the two ops; the normalised rows are freed here
        y = linear(layer_norm(x, norm_w, norm_b, eps), w, b);
    }
    const bool rounded = autocast_applies(x);  // the forward's linear rounded its operands; backward does too
    const Tensor sx = x.detach(), snw = norm_w.defined() ? norm_w.detach() : Tensor(),
                 snb = norm_b.defined() ? norm_b.detach() : Tensor(), sw = w.detach();
    return record(y, "layer_norm_linear", {x, norm_w, norm_b, w, b},
                  [sx, snw, snb, eps, sw, rounded](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Tensor> {
                      Backend& be = backend_for(dy.device());
                      const bool norm_needs = needs[0] || needs[1] || needs[2];
                      Tensor n, mean, rstd, dn, dw, db, dx, dnw, dnb;
                      if (norm_needs || needs[3]) {  // the normalised rows, as the forward made them
                          const std::int64_t rows = sx.numel() / std::max<std::int64_t>(sx.size(-1), 1);
                          n = Tensor::empty_like(sx);
                          mean = Tensor::empty({rows}, sx.dtype(), sx.device());
                          rstd = Tensor::empty({rows}, sx.dtype(), sx.device());
                          be.layer_norm_forward(n, mean, rstd, sx, snw, snb, eps);
                      }
                      if (norm_needs) dn = Tensor::empty_like(sx);
                      if (needs[3]) dw = Tensor::empty_like(sw);
                      if (needs[4]) db = Tensor::empty({sw.size(0)}, sw.dtype(), sw.device());
                      // x is read only for dw: rounded then, and the f32 rows let go once their copy is made
                      Tensor x_op = autocast_operand(n.defined() ? n : sx, rounded && needs[3]);
                      if (rounded && needs[3]) n = Tensor();
                      be.linear_backward(dn, dw, db, dy, x_op, autocast_operand(sw, rounded));
                      x_op = n = Tensor();
                      if (norm_needs) {
                          if (needs[0]) dx = Tensor::empty_like(sx);
                          if (needs[1]) dnw = Tensor::empty_like(snw);
                          if (needs[2]) dnb = Tensor::empty_like(snb);
                          be.layer_norm_backward(dx, dnw, dnb, dn, sx, snw, mean, rstd);
                      }
                      return {dx, dnw, dnb, dw, db};
                  });
}

namespace {

void check_layer_scale(const char* op, const Tensor& w, const Tensor& gamma) {
    if (gamma.defined() && (gamma.dim() != 1 || w.dim() != 2 || gamma.size(0) != w.size(0)))
        throw std::invalid_argument(std::string(op) + ": layer scale of shape " + shape_str(gamma.shape()) +
                                    " for weight " + shape_str(w.shape()) + " (expected (out,), one scale per output)");
}

/// y = x (γ ⊙rows W)ᵀ + γ ⊙ b: the linear with its layer scale folded into the (O, I) weight and the (O) bias, so
/// that no (R, O) product is made for γ. Without γ, the plain linear.
Tensor scaled_linear_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& gamma) {
    NoGradGuard no_grad;
    if (!gamma.defined()) return linear(x, w, b);
    return linear(x, scale_rows(w, gamma), b.defined() ? mul(b, gamma) : Tensor());
}

/// The gradients of scaled_linear_forward for the inputs in `needs` (x, w, b, γ). x is read only for dw and dγ
/// (it may be undefined when neither is needed) and is let go as soon as it has been (a recomputed x is then
/// freed before dx is made); dx takes the shape of `x_like`. `rounded`: the forward ran under autocast, so the
/// products take bf16 operands here too (x may be bf16 already); the gradients stay in dy's dtype. Backward runs
/// without recording, so the small (O)- and (O, I)-sized steps use ops. With G = dyᵀ x (O, I), the product dW needs
/// anyway: dW = γ ⊙rows G, dγ = Σ_I (G ⊙ W) + b ⊙ Σ_rows dy, db = γ ⊙ Σ_rows dy, dx = dy (γ ⊙rows W).
std::vector<Tensor> scaled_linear_backward(const Tensor& dy, Tensor x, const Tensor& x_like, const Tensor& w,
                                           const Tensor& b, const Tensor& gamma, const NeedsGrad& needs, bool rounded) {
    Backend& be = backend_for(dy.device());
    Tensor dx, dw, db, dgamma, none;
    if (!gamma.defined()) {
        if (needs[0]) dx = Tensor::empty(x_like.shape(), dy.dtype(), dy.device());
        if (needs[1]) dw = Tensor::empty_like(w);
        if (needs[2]) db = Tensor::empty({w.size(0)}, w.dtype(), w.device());
        Tensor x_op = autocast_operand(x.defined() ? x : x_like, rounded && needs[1]);  // read only for dw
        if (rounded && needs[1]) x = Tensor();  // its bf16 copy stands in
        be.linear_backward(dx, dw, db, dy, x_op, autocast_operand(w, rounded));
        return {dx, dw, db, dgamma};
    }
    Tensor g;
    if (needs[1] || needs[3]) {
        g = Tensor::empty_like(w);  // (O, I)
        Tensor x_op = autocast_operand(x, rounded);
        if (rounded) x = Tensor();
        be.linear_backward(none, g, none, dy, x_op, autocast_operand(w, rounded));
    }
    x = Tensor();
    if (needs[1]) dw = scale_rows(g, gamma);
    const Tensor dy_sums = (needs[2] || needs[3]) ? sum(flatten_leading(dy), 0) : Tensor();
    if (needs[2]) db = mul(dy_sums, gamma);
    if (needs[3]) {
        dgamma = sum(mul(g, w), 1);
        if (b.defined()) dgamma = add(dgamma, mul(dy_sums, b));
    }
    if (needs[0]) {
        dx = Tensor::empty(x_like.shape(), dy.dtype(), dy.device());
        const Tensor scaled_w = autocast_operand(scale_rows(w, gamma), rounded);
        be.linear_backward(dx, none, none, dy, x_like, scaled_w);  // x_like stands in for x: dw is not asked for
    }
    return {dx, dw, db, dgamma};
}

}  // namespace

Tensor scaled_linear(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& gamma) {
    check_layer_scale("scaled_linear", w, gamma);
    const Tensor y = scaled_linear_forward(x, w, b, gamma);
    const bool rounded = autocast_applies(x);  // then x is kept in bf16
    const Tensor sx = autocast_operand(x, rounded).detach(), sw = w.detach(), sb = b.defined() ? b.detach() : Tensor(),
                 sg = gamma.defined() ? gamma.detach() : Tensor();
    return record(y, "scaled_linear", {x, w, b, gamma},
                  [sx, sw, sb, sg, rounded](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Tensor> {
                      return scaled_linear_backward(dy, sx, sx, sw, sb, sg, needs, rounded);
                  });
}

Tensor gelu_linear(const Tensor& a, const Tensor& w, const Tensor& b, const Tensor& gamma) {
    check_layer_scale("gelu_linear", w, gamma);
    const bool rounded = autocast_applies(a);
    // GELU's input, kept as gelu keeps it: in bf16 under autocast, where GELU reads it rounded
    const Tensor sa = autocast_operand(a, rounded).detach(), sw = w.detach(), sb = b.defined() ? b.detach() : Tensor(),
                 sg = gamma.defined() ? gamma.detach() : Tensor();
    const Tensor y = scaled_linear_forward(gelu(a.detach()), w, b, gamma);  // rounds a as sa; GELU's output is freed
    return record(y, "gelu_linear", {a, w, b, gamma},
                  [sa, sw, sb, sg, rounded](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Tensor> {
                      Backend& be = backend_for(dy.device());
                      Tensor h;  // (R, I) = GELU(a), as in the forward: read only for dW, and with γ for dγ
                      if (needs[1] || (sg.defined() && needs[3])) {
                          h = Tensor::empty(sa.shape(), dy.dtype(), dy.device());
                          be.gelu_forward(h, autocast_widened(sa));
                      }
                      std::vector<Tensor> grads = scaled_linear_backward(dy, std::move(h), sa, sw, sb, sg, needs, rounded);
                      if (needs[0]) be.gelu_backward(grads[0], grads[0], autocast_widened(sa));  // in place: dh becomes da
                      return grads;
                  });
}

}  // namespace bplab
