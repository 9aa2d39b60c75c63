// core/train/evaluate.cpp — evaluation over a dataset in fixed batches, and the model norm.
// Batches go to the model's device; the model's train/eval mode is restored afterwards.
#include "core/train/evaluate.h"

#include <cmath>

#include "core/ops.h"

namespace bplab {

std::int64_t label_rank(const double* scores, std::int64_t classes, std::int64_t label) {
    for (std::int64_t c = 0; c < classes; ++c)
        if (std::isnan(scores[c])) return classes;
    std::int64_t rank = 0;
    for (std::int64_t c = 0; c < classes; ++c) rank += scores[c] > scores[label] || (c < label && scores[c] == scores[label]);
    return rank;
}

EvalResult evaluate(Model& model, const Dataset& data, std::int64_t batch_size, const BatchTransform& transform,
                    const BatchProgress& progress) {
    NoGradGuard no_grad;
    const bool was_training = model.training();
    model.eval();
    Rng unused(0);
    double loss_sum = 0.0;
    std::int64_t correct = 0, in_top5 = 0;
    const Device device = model.device();
    const auto batches = epoch_batches(data.size(), batch_size, false, false, unused);
    for (std::size_t i = 0; i < batches.size(); ++i) {
        const Tensor& idx = batches[i];
        const Batch b = make_batch(data, idx);
        const Tensor x = b.x.to(device);
        const Tensor logits = model.forward(transform ? transform(x) : x);
        loss_sum += cross_entropy(logits, b.y.to(device)).item() * static_cast<double>(idx.numel());
        const auto scores = logits.to(Device::cpu()).to_vector();  // (B, classes)
        const std::int64_t classes = logits.size(-1);
        const auto* y = b.y.data<std::int64_t>();
        for (std::int64_t j = 0; j < idx.numel(); ++j) {
            const std::int64_t r = label_rank(&scores[static_cast<std::size_t>(j * classes)], classes, y[j]);
            correct += r == 0;
            in_top5 += r < 5;
        }
        if (progress) progress(static_cast<std::int64_t>(i + 1), static_cast<std::int64_t>(batches.size()));
    }
    model.train(was_training);
    const double n = static_cast<double>(data.size());
    if (!data.size()) return {};
    return {loss_sum / n, static_cast<double>(correct) / n, static_cast<double>(in_top5) / n};
}

double model_norm(const Model& model) {
    double total = 0.0;
    for (const auto& [name, p] : model.named_parameters()) total += l2_norm(p);
    return total;
}

}  // namespace bplab
