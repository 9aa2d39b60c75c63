// core/optim/schedule.h — learning-rate schedule, gradient clipping and an EMA of the weights.
// The recipe of the SBP paper (ConvNeXt's): linear warm-up, cosine decay, EMA of weights.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace bplab {

/// Linear warm-up from 0 to base_lr over `warmup` steps, then cosine decay to min_lr at `total`.
double cosine_lr(std::int64_t step, std::int64_t total, std::int64_t warmup, double base_lr, double min_lr);

/// Scales all gradients so that their global L2 norm is at most max_norm; returns the norm before.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

/// Exponential moving average of parameters: ema = decay · ema + (1 − decay) · p after every step.
class Ema {
public:
    Ema(const std::vector<std::pair<std::string, Tensor>>& params, double decay);
    void update(const std::vector<std::pair<std::string, Tensor>>& params);
    const std::vector<std::pair<std::string, Tensor>>& averages() const { return averages_; }
    std::vector<std::pair<std::string, Tensor>>& averages() { return averages_; }

private:
    double decay_;
    std::vector<std::pair<std::string, Tensor>> averages_;
};

}  // namespace bplab
