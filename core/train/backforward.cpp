// core/train/backforward.cpp — the three Backforward variants.
// Freezing the other units (requires_grad off) makes each backward stop at the unit being updated.
#include "core/train/backforward.h"

#include <vector>

#include "core/ops.h"
#include "core/train/backprop.h"

namespace bplab {
namespace {

/// For its lifetime, only `unit`'s parameters require grad (the rest of the model is frozen).
class OnlyUnitTrainable {
public:
    OnlyUnitTrainable(Model& model, std::int64_t unit) : params_(model.parameters()) {
        for (Tensor& p : params_) p.set_requires_grad(false);
        for (Tensor p : model.unit_parameters(unit)) {
            p.zero_grad();
            p.set_requires_grad(true);
        }
    }
    ~OnlyUnitTrainable() {
        for (Tensor& p : params_) p.set_requires_grad(true);
    }
    OnlyUnitTrainable(const OnlyUnitTrainable&) = delete;
    OnlyUnitTrainable& operator=(const OnlyUnitTrainable&) = delete;

private:
    std::vector<Tensor> params_;
};

/// One pass: forward units [first, n) from `input` (the input of unit `first`), backward, update unit k only.
/// Units before k are frozen and cost only their forward; unit k's gradient sees them already updated.
double update_unit(Model& model, const Batch& batch, const Tensor& input, std::int64_t first, std::int64_t k,
                   Optimizer& optimizer) {
    const OnlyUnitTrainable frozen(model, k);
    const Tensor loss = batch_loss(model.forward_units(input, first, model.num_units()), batch);
    backward(loss);
    optimizer.step(model.unit_parameters(k));
    return loss.item();
}

/// The faithful loop: every pass forwards the whole model from the batch input.
double faithful_loop(Model& model, const Batch& batch, Optimizer& optimizer) {
    double first_loss = 0.0;
    for (std::int64_t k = 0; k < model.num_units(); ++k) {
        const double loss = update_unit(model, batch, batch.x, 0, k, optimizer);
        if (k == 0) first_loss = loss;
    }
    return first_loss;
}

}  // namespace

double backforward_step(Model& model, const Batch& batch, Optimizer& optimizer) {
    model.zero_grad();
    return faithful_loop(model, batch, optimizer);
}

double backforward_incremental_step(Model& model, const Batch& batch, Optimizer& optimizer) {
    model.zero_grad();
    const std::int64_t n = model.num_units();
    Tensor input = batch.x;  // the input of unit k: fixed once units < k are updated
    double first = 0.0;
    for (std::int64_t k = 0; k < n; ++k) {
        const double loss = update_unit(model, batch, input, k, k, optimizer);
        if (k == 0) first = loss;
        if (k + 1 < n) {
            NoGradGuard no_grad;
            input = model.forward_unit(k, input);
        }
    }
    return first;
}

double backforward_as_released_step(Model& model, const Batch& batch, Optimizer& optimizer) {
    model.zero_grad();
    const double first = faithful_loop(model, batch, optimizer);
    backprop_step(model, batch, optimizer);
    return first;
}

}  // namespace bplab
