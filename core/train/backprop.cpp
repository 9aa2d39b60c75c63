// core/train/backprop.cpp — plain backpropagation step.
// Gradients are zeroed first so that a step never sees the previous one's.
#include "core/train/backprop.h"

#include "core/ops.h"

namespace bplab {

Tensor batch_loss(const Model& model, const Batch& batch) {
    return cross_entropy(model.forward(batch.x), batch.y, batch.label_smoothing);
}

double backprop_step(Model& model, const Batch& batch, Optimizer& optimizer) {
    model.zero_grad();
    const Tensor loss = batch_loss(model, batch);
    backward(loss);
    optimizer.step();
    return loss.item();
}

}  // namespace bplab
