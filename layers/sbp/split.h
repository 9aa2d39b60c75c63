// layers/sbp/split.h — the keep/drop split of the paper's Algorithm 1.
// f runs on the kept rows with recording on and on the dropped rows under NoGradGuard; both are merged.
#pragma once
#include <array>
#include <functional>

#include "layers/sbp/mask.h"

namespace bplab::sbp {

/// f(x) computed row-wise along `axis` as f(x[keep]) with graph and f(x[drop]) without, scattered back.
/// Only the kept rows' activations are saved for backward; dropped rows get no gradient through f.
Tensor split_apply(const Tensor& x, const RowSplit& rows, std::int64_t axis, const std::function<Tensor(const Tensor&)>& f);

/// The inverse of the split: kept rows (with graph) and dropped rows (without) placed back along `axis`.
Tensor merge_rows(const Tensor& kept, const Tensor& dropped, const RowSplit& rows, std::int64_t axis);

/// Generic layers under SBP, for the equation tests of docs/derivations/sbp-*.md:
/// a linear / point-wise conv over rows (Eq. 5), and a k×k conv whose output positions (rows of the
/// (B, Ho·Wo, O) view) are split (Eq. 6): dY at dropped positions is 0. The conv computes every output
/// window with graph (the gradient semantics of Eq. 6, not its memory).
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b, const RowSplit& rows, std::int64_t axis);
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, std::array<std::int64_t, 2> stride,
              std::array<std::int64_t, 2> padding, const RowSplit& out_rows);

}  // namespace bplab::sbp
