// core/ops/permute.cpp — permute (reorder dims), concat (interleave_rows with consecutive ranges) and per-row
// scaling: data movement or a broadcast that the elementwise ops do not cover (a leading axis).
#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "backends/backend.h"
#include "core/ops.h"
#include "core/ops/check.h"

namespace bplab {

Tensor permute(const Tensor& x, const std::vector<std::int64_t>& dims) {
    std::vector<std::int64_t> sorted = dims;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::int64_t> identity(static_cast<std::size_t>(x.dim()));
    std::iota(identity.begin(), identity.end(), 0);
    if (sorted != identity)
        throw std::invalid_argument("permute: dims must be a permutation of 0.." + std::to_string(x.dim() - 1) +
                                    " for shape " + shape_str(x.shape()));
    Shape shape(dims.size());
    std::vector<std::int64_t> inverse(dims.size());
    for (std::size_t i = 0; i < dims.size(); ++i) {
        shape[i] = x.shape()[static_cast<std::size_t>(dims[i])];
        inverse[static_cast<std::size_t>(dims[i])] = static_cast<std::int64_t>(i);
    }
    Tensor out = Tensor::empty(shape, x.dtype(), x.device());
    backend_for(x.device()).permute(out, x, dims);
    return record(out, "permute", {x}, [inverse](const Tensor& dy, const NeedsGrad&) -> std::vector<Tensor> {
        return {permute(dy, inverse)};
    });
}

Tensor concat(const std::vector<Tensor>& parts, std::int64_t axis) {
    if (parts.empty()) throw std::invalid_argument("concat: no tensors");
    const Tensor& first = parts[0];
    const std::int64_t a = detail::normalize_axis("concat", axis, first.dim());
    for (const Tensor& p : parts) {
        detail::require_same("concat", first, p);
        Shape s = p.shape(), f = first.shape();
        bool same = s.size() == f.size();
        if (same) {
            s[static_cast<std::size_t>(a)] = f[static_cast<std::size_t>(a)] = 0;
            same = s == f;
        }
        if (!same)
            throw std::invalid_argument("concat: shapes " + shape_str(first.shape()) + " and " + shape_str(p.shape()) +
                                        " differ outside axis " + std::to_string(axis));
    }
    std::vector<Tensor> ranges;  // the rows of each part along the axis, on the CPU (see detail::row_indices)
    std::int64_t start = 0;
    for (const Tensor& p : parts) {
        std::vector<std::int64_t> idx(static_cast<std::size_t>(p.size(a)));
        std::iota(idx.begin(), idx.end(), start);
        start += p.size(a);
        ranges.push_back(Tensor::from_indices(idx, {p.size(a)}));
    }
    return interleave_rows(parts, ranges, a);
}

Tensor scale_rows(const Tensor& x, const Tensor& s) {
    detail::require_float("scale_rows", x);
    detail::require_same("scale_rows", x, s);
    if (s.dim() != 1 || x.dim() < 1 || s.size(0) != x.size(0))
        throw std::invalid_argument("scale_rows: scales of shape " + shape_str(s.shape()) + " for input " +
                                    shape_str(x.shape()) + " (expected one per row along dim 0)");
    Tensor out = Tensor::empty_like(x);
    backend_for(x.device()).scale_rows(out, x, s);
    const Tensor ss = s.detach();
    return record(out, "scale_rows", {x}, [ss](const Tensor& dy, const NeedsGrad&) -> std::vector<Tensor> {
        Tensor dx = Tensor::empty_like(dy);
        backend_for(dy.device()).scale_rows(dx, dy, ss);
        return {dx};
    });
}

}  // namespace bplab
