// core/ops/matmul.cpp — batched matrix products and the linear layer's op, with their backwards.
// The backward of C = op(A) op(B) is two more products, chosen so no transpose is ever copied. Under autocast
// (core/autocast.h) the linear op's products take bf16 operands.
#include <stdexcept>

#include "backends/backend.h"
#include "core/autocast.h"
#include "core/ops.h"
#include "core/ops/check.h"

namespace bplab {
namespace {

struct MatmulDims {
    std::int64_t m, k, n;
    Shape out_shape;
};

MatmulDims matmul_dims(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
    detail::require_float("matmul", a, "a");
    detail::require_float("matmul", b, "b");
    detail::require_same("matmul", a, b);
    detail::require_dims_at_least("matmul", a, 2, "a");
    detail::require_dims_at_least("matmul", b, 2, "b");
    const std::int64_t m = trans_a ? a.size(-1) : a.size(-2), ka = trans_a ? a.size(-2) : a.size(-1);
    const std::int64_t kb = trans_b ? b.size(-1) : b.size(-2), n = trans_b ? b.size(-2) : b.size(-1);
    if (ka != kb)
        throw std::invalid_argument("matmul: shapes " + shape_str(a.shape()) + (trans_a ? "ᵀ" : "") + " x " +
                                    shape_str(b.shape()) + (trans_b ? "ᵀ" : "") +
                                    " do not match on the inner dimension (" + std::to_string(ka) + " vs " +
                                    std::to_string(kb) + ")");
    const Shape a_batch(a.shape().begin(), a.shape().end() - 2), b_batch(b.shape().begin(), b.shape().end() - 2);
    if (!b_batch.empty() && b_batch != a_batch)
        throw std::invalid_argument("matmul: batch dims " + shape_str(a_batch) + " and " + shape_str(b_batch) +
                                    " differ (b may have the same batch dims as a, or none)");
    Shape out = a_batch;
    out.push_back(m);
    out.push_back(n);
    return {m, ka, n, out};
}

Tensor matmul_raw(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
    const MatmulDims d = matmul_dims(a, b, trans_a, trans_b);
    Tensor out = Tensor::empty(d.out_shape, a.dtype(), a.device());
    backend_for(a.device()).matmul(out, a, b, trans_a, trans_b, false);
    return out;
}

// Gradient of a shared (2-D) b when a is batched: Σ over batches of the per-batch gradients.
Tensor shared_b_grad(const Tensor& a, const Tensor& dy, bool trans_a, bool trans_b) {
    if (!trans_a) {
        // Stack the batches as rows: one GEMM over (B·M) rows.
        const Tensor a2 = flatten_leading(a.detach()), dy2 = flatten_leading(dy.detach());
        return trans_b ? matmul_raw(dy2, a2, true, false) : matmul_raw(a2, dy2, true, false);
    }
    Tensor per_batch = trans_b ? matmul_raw(dy, a, true, true) : matmul_raw(a, dy, false, false);
    return sum(flatten_leading(per_batch, 2), 0);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
    Tensor out = matmul_raw(a, b, trans_a, trans_b);
    const Tensor sa = a.detach(), sb = b.detach();
    return record(out, "matmul", {a, b},
                  [sa, sb, trans_a, trans_b](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Tensor> {
                      Tensor da, db;
                      if (needs[0]) {
                          // dA = dC op(B)ᵀ, transposed back when A entered transposed.
                          da = matmul_raw(dy, sb, false, !trans_b);
                          if (trans_a) da = transpose(da);
                      }
                      if (needs[1]) {
                          if (sb.dim() == 2 && sa.dim() > 2) db = shared_b_grad(sa, dy, trans_a, trans_b);
                          else db = trans_b ? matmul_raw(dy, sa, true, trans_a) : matmul_raw(sa, dy, !trans_a, false);
                      }
                      return {da, db};
                  });
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
    detail::require_float("linear", x, "x");
    detail::require_float("linear", w, "weight");
    detail::require_same("linear", x, w);
    detail::require_dims_at_least("linear", x, 1, "x");
    if (w.dim() != 2 || w.size(1) != x.size(-1))
        throw std::invalid_argument("linear: weight of shape " + shape_str(w.shape()) + " for input " +
                                    shape_str(x.shape()) + " (expected (out, " + std::to_string(x.size(-1)) + "))");
    if (b.defined()) {
        detail::require_same("linear", x, b);
        if (b.dim() != 1 || b.size(0) != w.size(0))
            throw std::invalid_argument("linear: bias of shape " + shape_str(b.shape()) + " (expected (" +
                                        std::to_string(w.size(0)) + ",))");
    }
    Shape out_shape = x.shape();
    out_shape.back() = w.size(0);
    Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
    const bool rounded = autocast_applies(x);  // then x is kept in bf16, and w rounded again in backward
    const Tensor sx = autocast_operand(x, rounded).detach(), sw = w.detach();
    backend_for(x.device()).linear_forward(y, sx, autocast_operand(sw, rounded), b);
    return record(y, "linear", {x, w, b},
                  [sx, sw, rounded](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Tensor> {
                      Tensor dx = needs[0] ? Tensor::empty(sx.shape(), dy.dtype(), dy.device()) : Tensor();
                      Tensor dw = needs[1] ? Tensor::empty_like(sw) : Tensor();
                      Tensor db = needs[2] ? Tensor::empty({sw.size(0)}, sw.dtype(), sw.device()) : Tensor();
                      backend_for(dy.device()).linear_backward(dx, dw, db, dy, sx, autocast_operand(sw, rounded));
                      return {dx, dw, db};
                  });
}

}  // namespace bplab
