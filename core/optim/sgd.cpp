// core/optim/sgd.cpp — SGD steps over a subset of parameters.
// Parameters without a gradient are skipped (and their state untouched), as in PyTorch.
#include "core/optim/sgd.h"

#include <stdexcept>

#include "backends/backend.h"

namespace bplab {

Sgd::Sgd(std::vector<Tensor> params, const SgdOptions& options)
    : Optimizer(std::move(params), options.lr), options_(options), momentum_(params_.size()) {
    if (!(options.lr >= 0)) throw std::invalid_argument("sgd: learning rate " + std::to_string(options.lr) + " (expected >= 0)");
    if (!(options.momentum >= 0 && options.momentum < 1))
        throw std::invalid_argument("sgd: momentum " + std::to_string(options.momentum) + " (expected 0 <= momentum < 1)");
    if (options.nesterov && options.momentum == 0) throw std::invalid_argument("sgd: Nesterov needs momentum > 0");
    if (!(options.weight_decay >= 0))
        throw std::invalid_argument("sgd: weight decay " + std::to_string(options.weight_decay) + " (expected >= 0)");
}

void Sgd::update(const std::vector<Tensor>& subset) {
    for (const Tensor& p : subset) {
        if (!p.grad().defined()) continue;
        Tensor& buf = momentum_[begin_update(p)];
        if (options_.momentum > 0 && !buf.defined()) buf = Tensor::zeros_like(p);
        Tensor param = p;
        backend_for(p.device()).sgd_update(param, p.grad(), buf, lr_, options_.momentum, options_.weight_decay,
                                           options_.nesterov);
    }
}

}  // namespace bplab
