// core/train/backprop.h — one step of plain backpropagation: forward, loss, backward, update all.
// The baseline every other method (Backforward, SBP) is compared with.
#pragma once
#include "core/optim/optimizer.h"
#include "core/train/batch.h"
#include "models/model.h"

namespace bplab {

/// Cross-entropy of the model on a batch, with the batch's label smoothing (with graph if recording is on).
Tensor batch_loss(const Model& model, const Batch& batch);

/// Zeroes gradients, runs forward and backward, updates every parameter. Returns the loss before the update.
double backprop_step(Model& model, const Batch& batch, Optimizer& optimizer);

}  // namespace bplab
