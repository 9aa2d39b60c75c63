// core/optim/adamw.cpp — AdamW steps over a subset of parameters.
// Moments are created on a parameter's first update, so untouched parameters cost no memory.
#include "core/optim/adamw.h"

#include <stdexcept>

#include "backends/backend.h"

namespace bplab {

std::vector<bool> weight_decay_mask(const std::vector<std::pair<std::string, Tensor>>& named_params) {
    std::vector<bool> mask;
    for (const auto& [name, p] : named_params)
        mask.push_back(p.dim() > 1 && name != "cls_token" && name != "pos_embed");
    return mask;
}

AdamW::AdamW(std::vector<Tensor> params, std::vector<bool> decay, const AdamWOptions& options)
    : Optimizer(std::move(params), options.lr), decay_(std::move(decay)), options_(options),
      exp_avg_(params_.size()), exp_avg_sq_(params_.size()) {
    if (decay_.size() != params_.size())
        throw std::invalid_argument("adamw: " + std::to_string(decay_.size()) + " decay flags for " +
                                    std::to_string(params_.size()) + " parameters");
    if (!(options.lr >= 0)) throw std::invalid_argument("adamw: learning rate " + std::to_string(options.lr) + " (expected >= 0)");
    if (!(options.beta1 >= 0 && options.beta1 < 1 && options.beta2 >= 0 && options.beta2 < 1))
        throw std::invalid_argument("adamw: betas must be in [0, 1)");
    if (!(options.eps > 0)) throw std::invalid_argument("adamw: eps must be > 0");
    if (!(options.weight_decay >= 0))
        throw std::invalid_argument("adamw: weight decay " + std::to_string(options.weight_decay) + " (expected >= 0)");
}

void AdamW::update(const std::vector<Tensor>& subset) {
    for (const Tensor& p : subset) {
        if (!p.grad().defined()) continue;
        const std::size_t i = begin_update(p);
        if (!exp_avg_[i].defined()) {
            exp_avg_[i] = Tensor::zeros_like(p);
            exp_avg_sq_[i] = Tensor::zeros_like(p);
        }
        Tensor param = p;
        backend_for(p.device()).adamw_update(param, p.grad(), exp_avg_[i], exp_avg_sq_[i], lr_, options_.beta1,
                                             options_.beta2, options_.eps, decay_[i] ? options_.weight_decay : 0.0,
                                             updates_of(p));
    }
}

}  // namespace bplab
