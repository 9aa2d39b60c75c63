// core/ops/permute.cpp — permute (reorder dims), permute_unbind (the slices of a permute, made directly), concat
// (interleave_rows with consecutive ranges) and per-row scaling: data movement or a broadcast that the
// elementwise ops do not cover (a leading axis).
#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

#include "backends/backend.h"
#include "core/ops.h"
#include "core/ops/check.h"

namespace bplab {

namespace {

/// The shape x takes under dims, and the inverse permutation; throws unless dims reorders x's dims.
std::pair<Shape, std::vector<std::int64_t>> permuted(const char* op, const Tensor& x, const std::vector<std::int64_t>& dims) {
    std::vector<std::int64_t> sorted = dims;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::int64_t> identity(static_cast<std::size_t>(x.dim()));
    std::iota(identity.begin(), identity.end(), 0);
    if (sorted != identity)
        throw std::invalid_argument(std::string(op) + ": dims must be a permutation of 0.." + std::to_string(x.dim() - 1) +
                                    " for shape " + shape_str(x.shape()));
    Shape shape(dims.size());
    std::vector<std::int64_t> inverse(dims.size());
    for (std::size_t i = 0; i < dims.size(); ++i) {
        shape[i] = x.shape()[static_cast<std::size_t>(dims[i])];
        inverse[static_cast<std::size_t>(dims[i])] = static_cast<std::int64_t>(i);
    }
    return {shape, inverse};
}

}  // namespace

Tensor permute(const Tensor& x, const std::vector<std::int64_t>& dims) {
    const auto [shape, inverse] = permuted("permute", x, dims);
    Tensor out = Tensor::empty(shape, x.dtype(), x.device());
    backend_for(x.device()).permute(out, x, dims);
    return record(out, "permute", {x}, [inverse](const Tensor& dy, const NeedsGrad&) -> std::vector<Tensor> {
        return {permute(dy, inverse)};
    });
}

std::vector<Tensor> permute_unbind(const Tensor& x, const std::vector<std::int64_t>& dims) {
    const auto [shape, inverse] = permuted("permute_unbind", x, dims);
    if (shape.size() < 2 || shape[0] < 1 || static_cast<std::size_t>(shape[0]) > Backend::kMaxPermuteParts)
        throw std::invalid_argument("permute_unbind: " + shape_str(x.shape()) + " permuted to " + shape_str(shape) +
                                    " (expected 2 dims or more and 1 to " + std::to_string(Backend::kMaxPermuteParts) +
                                    " slices along the first)");
    const Shape slice(shape.begin() + 1, shape.end());
    std::vector<Tensor> slices;
    std::vector<Tensor*> outs;
    for (std::int64_t i = 0; i < shape[0]; ++i) slices.push_back(Tensor::empty(slice, x.dtype(), x.device()));
    for (Tensor& t : slices) outs.push_back(&t);
    backend_for(x.device()).permute_parts(outs, {&x}, x.shape(), dims);
    const Shape whole = shape, x_shape = x.shape();
    return record_outputs(std::move(slices), "permute_unbind", {x},
                          [whole, inverse, x_shape](const std::vector<Tensor>& douts, const NeedsGrad&) -> std::vector<Tensor> {
                              // dx is the inverse permute of the slices' gradients, read where they are (zeros
                              // stand in for a slice that got none).
                              const Tensor& some = some_gradient("permute_unbind", douts);
                              Tensor zeros;
                              std::vector<const Tensor*> xs;
                              for (const Tensor& d : douts) {
                                  if (!d.defined() && !zeros.defined()) zeros = Tensor::zeros_like(some);
                                  xs.push_back(d.defined() ? &d : &zeros);
                              }
                              Tensor dx = Tensor::empty(x_shape, some.dtype(), some.device());
                              backend_for(dx.device()).permute_parts({&dx}, xs, whole, inverse);
                              return {dx};
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
