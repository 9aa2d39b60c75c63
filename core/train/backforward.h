// core/train/backforward.h — Backforward Propagation: update the units one at a time, first to last,
// each with a gradient computed after the units before it were updated. See docs/derivations/backforward.md.
#pragma once
#include "core/optim/optimizer.h"
#include "core/train/batch.h"
#include "models/model.h"

namespace bplab {

/// Faithful: for k = 1..n, forward the whole model, backward, update unit k only (n full forwards).
/// Returns the loss before any update; each unit's grad() holds the gradient it was updated with.
double backforward_step(Model& model, const Batch& batch, Optimizer& optimizer);

/// Incremental: the same updates as backforward_step, but the input of unit k is cached and advanced
/// through the updated unit without recording, so pass k forwards units k..n only (n(n+1)/2 unit passes
/// plus n−1 to advance the cache, instead of n²).
double backforward_incremental_step(Model& model, const Batch& batch, Optimizer& optimizer);

/// As released with the paper's code: every unit updated in turn with the others frozen (fc1, then fc2
/// for the 2-layer MLP), then one more full backprop step on all units: n + 1 passes, two updates per unit.
/// Kept to reproduce and explain the published numbers.
double backforward_as_released_step(Model& model, const Batch& batch, Optimizer& optimizer);

}  // namespace bplab
