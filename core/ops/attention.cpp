// core/ops/attention.cpp — scaled dot-product attention as one op with its own backward.
// Memory saved for backward: q, k, v (already alive as inputs) and (..., Nq) log-sum-exps, no (Nq, Nk) map.
#include <stdexcept>

#include "backends/backend.h"
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
    backend_for(q.device()).attention_forward(out, lse, q, k, v, scale);
    const Tensor sq = q.detach(), sk = k.detach(), sv = v.detach();
    return record(out, "attention", {q, k, v},
                  [sq, sk, sv, lse, scale](const Tensor& dout, const NeedsGrad& needs) -> std::vector<Tensor> {
                      Tensor dq = needs[0] ? Tensor::empty_like(sq) : Tensor();
                      Tensor dk = needs[1] ? Tensor::empty_like(sk) : Tensor();
                      Tensor dv = needs[2] ? Tensor::empty_like(sv) : Tensor();
                      backend_for(dout.device()).attention_backward(dq, dk, dv, dout, sq, sk, sv, lse, scale);
                      return {dq, dk, dv};
                  });
}

}  // namespace bplab
