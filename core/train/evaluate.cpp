// core/train/evaluate.cpp — evaluation over a dataset in fixed batches, and the model norm.
// Batches go to the model's device; the model's train/eval mode is restored afterwards.
#include "core/train/evaluate.h"

#include "core/ops.h"

namespace bplab {

EvalResult evaluate(Model& model, const Dataset& data, std::int64_t batch_size, const BatchTransform& transform,
                    const BatchProgress& progress) {
    NoGradGuard no_grad;
    const bool was_training = model.training();
    model.eval();
    Rng unused(0);
    double loss_sum = 0.0;
    std::int64_t correct = 0;
    const Device device = model.device();
    const auto batches = epoch_batches(data.size(), batch_size, false, false, unused);
    for (std::size_t i = 0; i < batches.size(); ++i) {
        const Tensor& idx = batches[i];
        const Batch b = make_batch(data, idx);
        const Tensor x = b.x.to(device);
        const Tensor logits = model.forward(transform ? transform(x) : x);
        loss_sum += cross_entropy(logits, b.y.to(device)).item() * static_cast<double>(idx.numel());
        const Tensor pred = argmax(logits).to(Device::cpu());
        const auto* p = pred.data<std::int64_t>();
        const auto* y = b.y.data<std::int64_t>();
        for (std::int64_t j = 0; j < idx.numel(); ++j) correct += p[j] == y[j];
        if (progress) progress(static_cast<std::int64_t>(i + 1), static_cast<std::int64_t>(batches.size()));
    }
    model.train(was_training);
    const double n = static_cast<double>(data.size());
    return {data.size() ? loss_sum / n : 0.0, data.size() ? static_cast<double>(correct) / n : 0.0};
}

double model_norm(const Model& model) {
    double total = 0.0;
    for (const auto& [name, p] : model.named_parameters()) total += l2_norm(p);
    return total;
}

}  // namespace bplab
