// core/ops/recompute.cpp — fused ops that save less for backward by redoing cheap elementwise work there:
// LayerNorm then Linear saves x alone; GELU then Linear (then layer scale γ) saves GELU's input alone.
#include <algorithm>
#include <stdexcept>

#include "backends/backend.h"
#include "core/ops.h"

namespace bplab {

Tensor layer_norm_linear(const Tensor& x, const Tensor& norm_w, const Tensor& norm_b, double eps, const Tensor& w,
                         const Tensor& b) {
    Tensor y;
    {
        NoGradGuard no_grad;  // the checks and kernels of the two ops; the normalised rows are freed here
        y = linear(layer_norm(x, norm_w, norm_b, eps), w, b);
    }
    const Tensor sx = x.detach(), snw = norm_w.defined() ? norm_w.detach() : Tensor(),
                 snb = norm_b.defined() ? norm_b.detach() : Tensor(), sw = w.detach();
    return record(y, "layer_norm_linear", {x, norm_w, norm_b, w, b},
                  [sx, snw, snb, eps, sw](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Tensor> {
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
                      be.linear_backward(dn, dw, db, dy, n.defined() ? n : sx, sw);  // x is read only for dw
                      n = Tensor();
                      if (norm_needs) {
                          if (needs[0]) dx = Tensor::empty_like(sx);
                          if (needs[1]) dnw = Tensor::empty_like(snw);
                          if (needs[2]) dnb = Tensor::empty_like(snb);
                          be.layer_norm_backward(dx, dnw, dnb, dn, sx, snw, mean, rstd);
                      }
                      return {dx, dnw, dnb, dw, db};
                  });
}

Tensor gelu_linear(const Tensor& a, const Tensor& w, const Tensor& b, const Tensor& gamma) {
    if (gamma.defined() && (gamma.dim() != 1 || w.dim() != 2 || gamma.size(0) != w.size(0)))
        throw std::invalid_argument("gelu_linear: layer scale of shape " + shape_str(gamma.shape()) + " for weight " +
                                    shape_str(w.shape()) + " (expected (out,), one scale per output)");
    Tensor y;
    {
        NoGradGuard no_grad;  // GELU's output is freed here
        y = linear(gelu(a), w, b);
        if (gamma.defined()) y = mul(y, gamma);
    }
    const Tensor sa = a.detach(), sw = w.detach(), sb = b.defined() ? b.detach() : Tensor(),
                 sg = gamma.defined() ? gamma.detach() : Tensor();
    return record(y, "gelu_linear", {a, w, b, gamma},
                  [sa, sw, sb, sg](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Tensor> {
                      Backend& be = backend_for(dy.device());
                      Tensor h;  // (R, I) = GELU(a), as in the forward: read only for dW, and with γ for dγ
                      if (needs[1] || (sg.defined() && needs[3])) {
                          h = Tensor::empty_like(sa);
                          be.gelu_forward(h, sa);
                      }
                      Tensor dh, dw, db, dgamma;
                      if (!sg.defined()) {
                          if (needs[0]) dh = Tensor::empty_like(sa);
                          if (needs[1]) dw = Tensor::empty_like(sw);
                          if (needs[2]) db = Tensor::empty({sw.size(0)}, sw.dtype(), sw.device());
                          be.linear_backward(dh, dw, db, dy, h.defined() ? h : sa, sw);
                          h = Tensor();
                      } else {  // backward runs without recording, so the small (O)- and (O, I)-sized steps use ops
                          // y = z · γ with z = h Wᵀ + b, and z is not saved. With G = dyᵀ h (O, I), the product
                          // dW needs anyway: dW = γ ⊙rows G, dγ = Σ_I (G ⊙ W) + b ⊙ Σ_rows dy,
                          // db = γ ⊙ Σ_rows dy, dh = dy (γ ⊙rows W).
                          Tensor g, none;
                          if (h.defined()) {
                              g = Tensor::empty_like(sw);  // (O, I)
                              be.linear_backward(none, g, none, dy, h, sw);
                              h = Tensor();
                          }
                          if (needs[1]) dw = scale_rows(g, sg);
                          const Tensor dy_sums = (needs[2] || needs[3]) ? sum(dy.reshape({-1, sw.size(0)}), 0) : Tensor();
                          if (needs[2]) db = mul(dy_sums, sg);
                          if (needs[3]) {
                              dgamma = sum(mul(g, sw), 1);
                              if (sb.defined()) dgamma = add(dgamma, mul(dy_sums, sb));
                          }
                          if (needs[0]) {
                              dh = Tensor::empty_like(sa);
                              be.linear_backward(dh, none, none, dy, sa, scale_rows(sw, sg));  // sa stands in for x
                          }
                      }
                      Tensor da;
                      if (needs[0]) {
                          da = Tensor::empty_like(sa);
                          be.gelu_backward(da, dh, sa);
                      }
                      return {da, dw, db, dgamma};
                  });
}

}  // namespace bplab
