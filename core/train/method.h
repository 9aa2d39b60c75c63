// core/train/method.h — training methods by name, so experiments run them side by side.
// A method is one step: given a model, a batch and an optimiser, update the model, return the loss.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/optim/optimizer.h"
#include "core/train/batch.h"
#include "models/model.h"

namespace bplab {

/// Runs one training step; returns the batch loss before the update. Leaves in each parameter's
/// grad() the gradient its update used.
using StepFn = std::function<double(Model&, const Batch&, Optimizer&)>;

/// The names `--method` accepts.
const std::vector<std::string>& method_names();
/// The step function of a method; throws listing the valid names otherwise.
StepFn step_method(const std::string& name);

}  // namespace bplab
