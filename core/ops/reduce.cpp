// core/ops/reduce.cpp — sums and means over one axis or all elements, argmax and the L2 norm.
// The gradient of a sum repeats dy along the reduced axis.
#include <cmath>
#include <stdexcept>

#include "backends/backend.h"
#include "core/ops.h"
#include "core/ops/check.h"

namespace bplab {

Tensor sum(const Tensor& x, std::int64_t axis, bool keepdim) {
    detail::require_float("sum", x);
    const std::int64_t a = detail::normalize_axis("sum", axis, x.dim());
    const std::int64_t outer = detail::span_numel(x.shape(), 0, a), n = x.size(a),
                       inner = detail::span_numel(x.shape(), a + 1, x.dim());
    Shape shape = x.shape();
    if (keepdim) shape[static_cast<std::size_t>(a)] = 1;
    else shape.erase(shape.begin() + a);
    Tensor out = Tensor::empty(shape, x.dtype(), x.device());
    backend_for(x.device()).sum_axis(out, x, outer, n, inner);
    const Shape x_shape = x.shape();
    return record(out, "sum", {x}, [x_shape, outer, n, inner](const Tensor& dy, const NeedsGrad&) -> std::vector<Tensor> {
        Tensor dx = Tensor::empty(x_shape, dy.dtype(), dy.device());
        backend_for(dy.device()).repeat_axis(dx, dy, outer, n, inner);
        return {dx};
    });
}

Tensor mean(const Tensor& x, std::int64_t axis, bool keepdim) {
    const std::int64_t n = x.size(detail::normalize_axis("mean", axis, x.dim()));
    return scale(sum(x, axis, keepdim), 1.0 / static_cast<double>(n));
}

Tensor sum(const Tensor& x) { return sum(x.reshape({1, -1}), 1); }

Tensor mean(const Tensor& x) { return scale(sum(x), 1.0 / static_cast<double>(x.numel())); }

Tensor argmax(const Tensor& x) {
    detail::require_float("argmax", x);
    detail::require_dims_at_least("argmax", x, 1);
    const Shape& shape = x.shape();
    const std::int64_t rows = shape_numel(Shape(shape.begin(), shape.end() - 1));
    if (rows > 0 && x.size(-1) == 0)
        throw std::invalid_argument("argmax: input " + shape_str(shape) + " has rows with no columns (no maximum)");
    Tensor out = Tensor::empty({rows}, DType::i64, x.device());
    backend_for(x.device()).argmax_rows(out, x);
    return out;
}

double l2_norm(const Tensor& x) {
    detail::require_float("l2_norm", x);
    Tensor out = Tensor::empty({1}, DType::f64, x.device());
    backend_for(x.device()).sum_squares(out, x);
    return std::sqrt(out.item());
}

}  // namespace bplab
