// core/ops/attention.cpp — scaled dot-product attention as one op with its own backward.
// Memory saved for backward: q, k, v (already alive as inputs; bf16 copies under autocast; v only if q or k needs
// a gradient) and (..., Nq) log-sum-exps, no (Nq, Nk) map.
#include <stdexcept>

#include "backends/backend.h"
#include "core/autocast.h"
#include "core/ops.h"
#include "core/ops/check.h"

namespace bplab {

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
    for (const Tensor* t : {&q, &k, &v}) {
        detail::require_float("attention", *t);
        detail::require_dims_at_least("attention", *t, 2);
    }
    detail::require_same("attention", q, k);
    detail::require_same("attention", q, v);
    const Shape bq(q.shape().begin(), q.shape().end() - 2), bk(k.shape().begin(), k.shape().end() - 2);
    if (k.shape() != v.shape() || bq != bk || q.size(-1) != k.size(-1))
        throw std::invalid_argument("attention: q " + shape_str(q.shape()) + ", k " + shape_str(k.shape()) + ", v " +
                                    shape_str(v.shape()) + " (expected q (..., Nq, D), k and v (..., Nk, D))");
    Tensor out = Tensor::empty_like(q);
    Shape lse_shape = bq;
    lse_shape.push_back(q.size(-2));
    Tensor lse = Tensor::empty(lse_shape, q.dtype(), q.device());
    // Under autocast the backends get q, k, v (and dout) in bf16 and read every product's operands in bf16, the
    // probabilities and dS rounded too; sums, softmax and outputs stay f32 (core/autocast.h).
    const bool rounded = autocast_applies(q);
    const Tensor sq = autocast_operand(q, rounded).detach(), sk = autocast_operand(k, rounded).detach(),
                 fv = autocast_operand(v, rounded).detach();
    backend_for(q.device()).attention_forward(out, lse, sq, sk, fv, scale);
    // Backward reads v only for dP, which only dq and dk need (SBP's query mode detaches q and k of dropped rows).
    const Tensor sv = needs_grad(q) || needs_grad(k) ? fv : Tensor();
    return record(out, "attention", {q, k, v},
                  [sq, sk, sv, v_shape = v.shape(), lse, scale, rounded](const Tensor& dout,
                                                                        const NeedsGrad& needs) -> std::vector<Tensor> {
                      const auto grad = [&](bool needed, const Shape& shape) {
                          return needed ? Tensor::empty(shape, dout.dtype(), dout.device()) : Tensor();
                      };
                      Tensor dq = grad(needs[0], sq.shape()), dk = grad(needs[1], sk.shape()), dv = grad(needs[2], v_shape);
                      backend_for(dout.device())
                          .attention_backward(dq, dk, dv, autocast_operand(dout, rounded), sq, sk, sv, lse, scale);
                      return {dq, dk, dv};
                  });
}

}  // namespace bplab
