// core/train/backprop.h — one step of plain backpropagation: forward, loss, backward, update all.
// The baseline every other method (Backforward, SBP) is compared with.
#pragma once
#include "core/optim/optimizer.h"
#include "core/train/batch.h"
#include "models/model.h"

namespace bplab {

/// Cross-entropy of logits (B, classes) on a batch, with its label smoothing and its mixing: λ·CE(y) +
/// (1 − λ)·CE(mix_y), which is the cross-entropy against the mixed (smoothed) one-hot targets.
Tensor batch_loss(const Tensor& logits, const Batch& batch);
/// batch_loss of the model's logits on the batch (with graph if recording is on).
Tensor batch_loss(const Model& model, const Batch& batch);

/// Zeroes gradients, runs forward and backward, updates every parameter. Returns the loss before the update.
double backprop_step(Model& model, const Batch& batch, Optimizer& optimizer);

}  // namespace bplab
