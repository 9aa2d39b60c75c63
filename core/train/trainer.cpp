// core/train/trainer.cpp — the epoch loop.
// The batch-order Rng is separate from the model's, so methods see identical batches.
#include "core/train/trainer.h"

#include <chrono>
#include <cmath>
#include <stdexcept>

namespace bplab {

std::vector<EpochMetrics> fit(Model& model, Optimizer& optimizer, const TrainTest& data, const StepFn& step,
                              const FitOptions& options) {
    Rng batch_rng(options.seed);
    std::vector<EpochMetrics> history;
    for (int epoch = 1; epoch <= options.epochs; ++epoch) {
        model.train();
        const auto start = std::chrono::steady_clock::now();
        const auto batches = epoch_batches(data.train.size(), options.batch_size, true, options.drop_last, batch_rng);
        double loss_sum = 0.0;
        for (std::size_t i = 0; i < batches.size(); ++i) {
            const double loss = step(model, make_batch(data.train, batches[i]), optimizer);
            if (!std::isfinite(loss))
                throw std::runtime_error("train: loss is " + std::to_string(loss) + " at epoch " + std::to_string(epoch) +
                                         ", step " + std::to_string(i + 1) + " (try a smaller learning rate)");
            loss_sum += loss;
            if (options.on_step)
                options.on_step(epoch, static_cast<std::int64_t>(i), static_cast<std::int64_t>(batches.size()), loss);
        }
        EpochMetrics m;
        m.epoch = epoch;
        m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        m.train_loss = batches.empty() ? 0.0 : loss_sum / static_cast<double>(batches.size());
        const EvalResult test = evaluate(model, data.test);
        m.test_loss = test.loss;
        m.test_accuracy = test.accuracy;
        m.model_norm = model_norm(model);
        history.push_back(m);
        if (options.on_epoch && !options.on_epoch(m)) break;
    }
    return history;
}

}  // namespace bplab
