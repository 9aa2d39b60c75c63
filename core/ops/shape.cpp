// core/ops/shape.cpp — reshape and flatten_leading (views) and transpose (a copy), with their backwards.
// Views share storage, so reshape costs no memory and its gradient is a view too.
#include <stdexcept>

#include "backends/backend.h"
#include "core/ops.h"
#include "core/ops/check.h"

namespace bplab {

Tensor reshape(const Tensor& x, const Shape& shape) {
    Shape resolved = shape;
    std::int64_t known = 1, infer = -1;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == -1) {
            if (infer >= 0) throw std::invalid_argument("reshape: more than one -1 in " + shape_str(shape));
            infer = static_cast<std::int64_t>(i);
        } else if (shape[i] < 0) {
            throw std::invalid_argument("reshape: negative dimension in " + shape_str(shape));
        } else {
            known *= shape[i];
        }
    }
    if (infer >= 0) {
        if (known == 0 || x.numel() % known != 0)
            throw std::invalid_argument("reshape: cannot view " + shape_str(x.shape()) + " as " + shape_str(shape));
        resolved[static_cast<std::size_t>(infer)] = x.numel() / known;
    }
    if (shape_numel(resolved) != x.numel())
        throw std::invalid_argument("reshape: cannot view " + shape_str(x.shape()) + " (" + std::to_string(x.numel()) +
                                    " elements) as " + shape_str(resolved));
    Tensor out = x.detach();
    out.impl().shape = resolved;
    const Shape original = x.shape();
    return record(out, "reshape", {x}, [original](const Tensor& dy, const NeedsGrad&) -> std::vector<Tensor> {
        Tensor dx = dy.detach();
        dx.impl().shape = original;
        return {dx};
    });
}

Tensor flatten_leading(const Tensor& x, std::int64_t trailing) {
    if (trailing < 0 || trailing > x.dim())
        throw std::invalid_argument("flatten_leading: " + std::to_string(trailing) + " trailing dims of " +
                                    shape_str(x.shape()) + " (expected 0 to " + std::to_string(x.dim()) + ")");
    const auto split = x.shape().end() - trailing;
    Shape shape{shape_numel(Shape(x.shape().begin(), split))};
    shape.insert(shape.end(), split, x.shape().end());
    return reshape(x, shape);
}

Tensor transpose(const Tensor& x) {
    detail::require_dims_at_least("transpose", x, 2);
    Shape shape = x.shape();
    std::swap(shape[shape.size() - 1], shape[shape.size() - 2]);
    Tensor out = Tensor::empty(shape, x.dtype(), x.device());
    backend_for(x.device()).transpose(out, x);
    return record(out, "transpose", {x}, [](const Tensor& dy, const NeedsGrad&) -> std::vector<Tensor> {
        return {transpose(dy)};
    });
}

}  // namespace bplab
