// core/ops/rows.cpp — gather_rows / scatter_rows / interleave_rows / unbind: index-select, index-put, the join of
// parts at given rows and the split into slices along one axis. SBP splits and merges token rows with them.
#include <stdexcept>

#include "backends/backend.h"
#include "core/ops.h"
#include "core/ops/check.h"

namespace bplab {
namespace {

struct RowView {
    std::int64_t axis, outer, n, inner;
};

RowView row_view(const char* op, const Tensor& x, std::int64_t axis) {
    if (!x.defined()) throw std::invalid_argument(std::string(op) + ": input is undefined");
    const std::int64_t a = detail::normalize_axis(op, axis, x.dim());
    return {a, detail::span_numel(x.shape(), 0, a), x.size(a), detail::span_numel(x.shape(), a + 1, x.dim())};
}

Tensor gather_raw(const Tensor& x, const Tensor& idx, const RowView& v) {
    Shape shape = x.shape();
    shape[static_cast<std::size_t>(v.axis)] = idx.numel();
    Tensor out = Tensor::empty(shape, x.dtype(), x.device());
    backend_for(x.device()).gather_rows(out, x, idx, v.outer, v.n, v.inner);
    return out;
}

/// A new tensor of `shape` whose rows rows[i] along v's axis are parts[i] (zeros for an undefined part); the
/// rows name every row once. The forward of interleave_rows and the backward of unbind.
Tensor place_rows(const Shape& shape, const std::vector<Tensor>& parts, const std::vector<Tensor>& rows, const RowView& v,
                  DType dtype, Device device) {
    Tensor out = Tensor::empty(shape, dtype, device);  // every row is written below
    Backend& be = backend_for(device);
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (parts[i].defined()) be.scatter_rows(out, parts[i], rows[i], v.outer, v.n, v.inner);
        else be.fill_rows(out, rows[i], 0.0, v.outer, v.n, v.inner);
    }
    return out;
}

}  // namespace

Tensor gather_rows(const Tensor& x, const Tensor& idx, std::int64_t axis) {
    const RowView v = row_view("gather_rows", x, axis);
    const Tensor on = detail::row_indices("gather_rows", idx, v.n, x.device());
    Tensor out = gather_raw(x, on, v);
    const Shape x_shape = x.shape();
    return record(out, "gather_rows", {x}, [x_shape, on, v](const Tensor& dy, const NeedsGrad&) -> std::vector<Tensor> {
        Tensor dx = Tensor::zeros(x_shape, dy.dtype(), dy.device());
        backend_for(dy.device()).scatter_rows(dx, dy, on, v.outer, v.n, v.inner);
        return {dx};
    });
}

Tensor scatter_rows(const Tensor& base, const Tensor& src, const Tensor& idx, std::int64_t axis) {
    const RowView v = row_view("scatter_rows", base, axis);
    if (!src.defined()) throw std::invalid_argument("scatter_rows: src is undefined");
    detail::require_same("scatter_rows", base, src);
    const Tensor on = detail::row_indices("scatter_rows", idx, v.n, base.device());
    Shape expected = base.shape();
    expected[static_cast<std::size_t>(v.axis)] = idx.numel();
    if (src.shape() != expected)
        throw std::invalid_argument("scatter_rows: src of shape " + shape_str(src.shape()) + " (expected " +
                                    shape_str(expected) + " for " + std::to_string(idx.numel()) + " rows into " +
                                    shape_str(base.shape()) + ")");
    Tensor out = base.clone();
    backend_for(base.device()).scatter_rows(out, src, on, v.outer, v.n, v.inner);
    return record(out, "scatter_rows", {base, src}, [on, v](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Tensor> {
        Tensor dbase, dsrc;
        if (needs[0]) {
            dbase = dy.clone();
            backend_for(dy.device()).fill_rows(dbase, on, 0.0, v.outer, v.n, v.inner);
        }
        if (needs[1]) dsrc = gather_raw(dy, on, v);
        return {dbase, dsrc};
    });
}

Tensor interleave_rows(const std::vector<Tensor>& parts, const std::vector<Tensor>& idx, std::int64_t axis) {
    if (parts.empty() || parts.size() != idx.size())
        throw std::invalid_argument("interleave_rows: " + std::to_string(parts.size()) + " parts and " +
                                    std::to_string(idx.size()) + " index tensors (expected the same number, at least one)");
    const Tensor& first = parts[0];
    const RowView part_view = row_view("interleave_rows", first, axis);
    Shape shape = first.shape();
    shape[static_cast<std::size_t>(part_view.axis)] = 0;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        detail::require_same("interleave_rows", first, parts[i]);
        Shape expected = first.shape();
        expected[static_cast<std::size_t>(part_view.axis)] = idx[i].defined() ? idx[i].numel() : 0;
        if (parts[i].shape() != expected)
            throw std::invalid_argument("interleave_rows: part " + std::to_string(i) + " of shape " +
                                        shape_str(parts[i].shape()) + " (expected " + shape_str(expected) +
                                        ": the first part's shape with one row per index along axis " +
                                        std::to_string(axis) + ")");
        shape[static_cast<std::size_t>(part_view.axis)] += expected[static_cast<std::size_t>(part_view.axis)];
    }
    const RowView v{part_view.axis, part_view.outer, shape[static_cast<std::size_t>(part_view.axis)], part_view.inner};
    const std::vector<Tensor> on = detail::row_partition("interleave_rows", idx, first.device());
    Tensor out = place_rows(shape, parts, on, v, first.dtype(), first.device());
    return record(out, "interleave_rows", parts, [on, v](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Tensor> {
        std::vector<Tensor> grads(on.size());
        for (std::size_t i = 0; i < on.size(); ++i)
            if (needs[i]) grads[i] = gather_raw(dy, on[i], v);
        return grads;
    });
}

std::vector<Tensor> unbind(const Tensor& x, std::int64_t axis) {
    const RowView v = row_view("unbind", x, axis);
    Shape slice_shape = x.shape();
    slice_shape.erase(slice_shape.begin() + v.axis);
    std::vector<Tensor> slices, rows;
    for (std::int64_t i = 0; i < v.n; ++i) {
        rows.push_back(Tensor::from_indices({i}, {1}).to(x.device()));
        slices.push_back(gather_raw(x, rows.back(), v).reshape(slice_shape));
    }
    const Shape x_shape = x.shape();
    return record_outputs(std::move(slices), "unbind", {x},
                          [rows, v, x_shape](const std::vector<Tensor>& douts, const NeedsGrad&) -> std::vector<Tensor> {
                              const Tensor& some = some_gradient("unbind", douts);
                              return {place_rows(x_shape, douts, rows, v, some.dtype(), some.device())};
                          });
}

}  // namespace bplab
