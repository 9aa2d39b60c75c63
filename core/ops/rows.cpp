// core/ops/rows.cpp — gather_rows / scatter_rows: index-select and index-put along one axis.
// SBP splits a block's token rows into kept (with graph) and dropped (no graph) with these two.
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

}  // namespace

Tensor gather_rows(const Tensor& x, const Tensor& idx, std::int64_t axis) {
    const RowView v = row_view("gather_rows", x, axis);
    detail::require_row_indices("gather_rows", idx, v.n);
    if (idx.device() != x.device())
        throw std::invalid_argument("gather_rows: indices on " + idx.device().str() + ", input on " + x.device().str());
    Tensor out = gather_raw(x, idx, v);
    const Shape x_shape = x.shape();
    const Tensor sidx = idx.detach();
    return record(out, "gather_rows", {x}, [x_shape, sidx, v](const Tensor& dy, const NeedsGrad&) -> std::vector<Tensor> {
        Tensor dx = Tensor::zeros(x_shape, dy.dtype(), dy.device());
        backend_for(dy.device()).scatter_rows(dx, dy, sidx, v.outer, v.n, v.inner);
        return {dx};
    });
}

Tensor scatter_rows(const Tensor& base, const Tensor& src, const Tensor& idx, std::int64_t axis) {
    const RowView v = row_view("scatter_rows", base, axis);
    if (!src.defined()) throw std::invalid_argument("scatter_rows: src is undefined");
    detail::require_same("scatter_rows", base, src);
    detail::require_row_indices("scatter_rows", idx, v.n);
    Shape expected = base.shape();
    expected[static_cast<std::size_t>(v.axis)] = idx.numel();
    if (src.shape() != expected)
        throw std::invalid_argument("scatter_rows: src of shape " + shape_str(src.shape()) + " (expected " +
                                    shape_str(expected) + " for " + std::to_string(idx.numel()) + " rows into " +
                                    shape_str(base.shape()) + ")");
    Tensor out = base.clone();
    backend_for(base.device()).scatter_rows(out, src, idx, v.outer, v.n, v.inner);
    const Tensor sidx = idx.detach();
    return record(out, "scatter_rows", {base, src}, [sidx, v](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Tensor> {
        Tensor dbase, dsrc;
        if (needs[0]) {
            dbase = dy.clone();
            backend_for(dy.device()).fill_rows(dbase, sidx, 0.0, v.outer, v.n, v.inner);
        }
        if (needs[1]) dsrc = gather_raw(dy, sidx, v);
        return {dbase, dsrc};
    });
}

}  // namespace bplab
