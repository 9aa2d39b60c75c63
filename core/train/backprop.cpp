// core/train/backprop.cpp — plain backpropagation step.
// Gradients are zeroed first so that a step never sees the previous one's.
#include "core/train/backprop.h"

#include "core/ops.h"

namespace bplab {

Tensor batch_loss(const Tensor& logits, const Batch& batch) {
    const Tensor own = cross_entropy(logits, batch.y, batch.label_smoothing);
    if (!batch.mix_y.defined()) return own;
    return add(scale(own, batch.mix_weight), scale(cross_entropy(logits, batch.mix_y, batch.label_smoothing), 1.0 - batch.mix_weight));
}

Tensor batch_loss(const Model& model, const Batch& batch) { return batch_loss(model.forward(batch.x), batch); }

double backprop_step(Model& model, const Batch& batch, Optimizer& optimizer) {
    model.zero_grad();
    const Tensor loss = batch_loss(model, batch);
    backward(loss);
    optimizer.step();
    return loss.item();
}

}  // namespace bplab
