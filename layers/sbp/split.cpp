// layers/sbp/split.cpp — split_apply and merge_rows on top of gather_rows / interleave_rows.
// The dropped branch reads a detached x, so nothing below it is reached from the dropped rows.
#include "layers/sbp/split.h"

#include "core/ops.h"

namespace bplab::sbp {

Tensor merge_rows(const Tensor& kept, const Tensor& dropped, const RowSplit& rows, std::int64_t axis) {
    return interleave_rows({kept, dropped}, {rows.keep, rows.drop}, axis);
}

Tensor split_apply(const Tensor& x, const RowSplit& rows, std::int64_t axis, const std::function<Tensor(const Tensor&)>& f) {
    if (rows.drop.numel() == 0) return f(x);  // r = 1: nothing to drop, the exact sub-block
    if (rows.keep.numel() == 0) {              // a sparse grid can keep nothing at some phases
        NoGradGuard no_grad;
        return f(x.detach());
    }
    const Tensor kept = f(gather_rows(x, rows.keep, axis));
    Tensor dropped;
    {
        NoGradGuard no_grad;
        dropped = f(gather_rows(x.detach(), rows.drop, axis));
    }
    return merge_rows(kept, dropped, rows, axis);
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b, const RowSplit& rows, std::int64_t axis) {
    return split_apply(x, rows, axis, [&](const Tensor& t) { return bplab::linear(t, w, b); });
}

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, std::array<std::int64_t, 2> stride,
              std::array<std::int64_t, 2> padding, const RowSplit& out_rows) {
    const Tensor y = bplab::conv2d(x, w, b, stride, padding);  // (B, Ho, Wo, O)
    const Tensor rows = y.reshape({y.size(0), y.size(1) * y.size(2), y.size(3)});
    const Tensor kept = gather_rows(rows, out_rows.keep, 1), dropped = gather_rows(rows.detach(), out_rows.drop, 1);
    return merge_rows(kept, dropped, out_rows, 1).reshape(y.shape());
}

}  // namespace bplab::sbp
