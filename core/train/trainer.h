// core/train/trainer.h — the epoch loop: seeded batches, one method's steps, evaluation, metrics.
// Callers (the bplab program, tests) observe progress and epochs through callbacks.
#pragma once
#include <functional>

#include "core/data/mnist.h"
#include "core/train/evaluate.h"
#include "core/train/method.h"

namespace bplab {

struct EpochMetrics {
    int epoch = 0;
    double train_loss = 0.0;  ///< mean of the batch losses seen during the epoch
    double test_loss = 0.0;
    double test_accuracy = 0.0;
    double model_norm = 0.0;
    double seconds = 0.0;     ///< training time of the epoch (evaluation excluded)
};

struct FitOptions {
    int epochs = 5;
    std::int64_t batch_size = 128;
    bool drop_last = true;
    std::uint64_t seed = 2525;
    /// After every step: (epoch, step index, steps in the epoch, loss of the step).
    std::function<void(int, std::int64_t, std::int64_t, double)> on_step;
    /// After every epoch's evaluation; return false to stop.
    std::function<bool(const EpochMetrics&)> on_epoch;
};

/// Trains for options.epochs epochs; the batch order is fixed by options.seed.
/// Throws if a loss turns NaN or infinite (naming the epoch and step).
std::vector<EpochMetrics> fit(Model& model, Optimizer& optimizer, const TrainTest& data, const StepFn& step,
                              const FitOptions& options);

}  // namespace bplab
