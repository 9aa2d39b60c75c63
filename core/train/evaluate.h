// core/train/evaluate.h — what we measure about a model: test loss and accuracy, and its norm.
// Evaluation runs the exact model under NoGradGuard, in eval mode.
#pragma once
#include <functional>

#include "core/data/dataset.h"
#include "models/model.h"

namespace bplab {

struct EvalResult {
    double loss = 0.0;      ///< mean cross-entropy
    double accuracy = 0.0;  ///< top-1: fraction of argmax == label (ties: the first index, as argmax)
    double top5 = 0.0;      ///< fraction whose label ranks among the 5 largest logits (ties broken the same way)
};

/// Applied to each batch's inputs on the model's device before the model sees them (e.g. fit_images to its size).
using BatchTransform = std::function<Tensor(const Tensor&)>;

/// After each batch: (batches done, batches in all), e.g. for a progress bar.
using BatchProgress = std::function<void(std::int64_t, std::int64_t)>;

/// How many classes rank before `label` by score: those scored higher, and those scored equal with a smaller
/// index (argmax's tie rule). 0: the prediction; below 5: in the top 5. A row with a NaN score ranks the label
/// last (`classes`): a broken model is never right.
std::int64_t label_rank(const double* scores, std::int64_t classes, std::int64_t label);

EvalResult evaluate(Model& model, const Dataset& data, std::int64_t batch_size = 1000, const BatchTransform& transform = {},
                    const BatchProgress& progress = {});

/// Σ over parameter tensors of their L2 norm (the published Backforward code's "model norm").
double model_norm(const Model& model);

}  // namespace bplab
