// core/train/evaluate.h — what we measure about a model: test loss and accuracy, and its norm.
// Evaluation runs the exact model under NoGradGuard, in eval mode.
#pragma once
#include <functional>

#include "core/data/dataset.h"
#include "models/model.h"

namespace bplab {

struct EvalResult {
    double loss = 0.0;      ///< mean cross-entropy
    double accuracy = 0.0;  ///< fraction of argmax == label
};

/// Applied to each batch's inputs on the model's device before the model sees them (e.g. fit_images to its size).
using BatchTransform = std::function<Tensor(const Tensor&)>;

/// After each batch: (batches done, batches in all), e.g. for a progress bar.
using BatchProgress = std::function<void(std::int64_t, std::int64_t)>;

EvalResult evaluate(Model& model, const Dataset& data, std::int64_t batch_size = 1000, const BatchTransform& transform = {},
                    const BatchProgress& progress = {});

/// Σ over parameter tensors of their L2 norm (the published Backforward code's "model norm").
double model_norm(const Model& model);

}  // namespace bplab
