// core/optim/schedule.cpp — cosine schedule with warm-up, global-norm clipping, weight EMA.
// Clipping and EMA run on the backend, so they work on any device.
#include "core/optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "backends/backend.h"
#include "core/ops.h"

namespace bplab {

double cosine_lr(std::int64_t step, std::int64_t total, std::int64_t warmup, double base_lr, double min_lr) {
    if (total <= 0) throw std::invalid_argument("cosine_lr: total steps must be > 0");
    if (step < warmup) return base_lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
    const double t = std::min(1.0, static_cast<double>(step - warmup) / static_cast<double>(std::max<std::int64_t>(1, total - warmup)));
    return min_lr + 0.5 * (base_lr - min_lr) * (1.0 + std::cos(3.14159265358979323846 * t));
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
    // Σ‖g‖² is summed in f64 where the gradients are, one sum per device, and read back once each: on a GPU a read
    // per tensor would wait for the device 150 times a step.
    std::vector<Tensor> sums;  // (1) f64 each
    for (const Tensor& p : params) {
        const Tensor& g = p.grad();
        if (!g.defined()) continue;
        Backend& be = backend_for(g.device());
        Tensor square = Tensor::empty({1}, DType::f64, g.device());
        be.sum_squares(square, g);
        auto same = std::find_if(sums.begin(), sums.end(), [&](const Tensor& t) { return t.device() == g.device(); });
        if (same == sums.end()) sums.push_back(square);
        else be.axpy(*same, square, 1.0);
    }
    double total = 0.0;
    for (const Tensor& t : sums) total += t.item();
    const double norm = std::sqrt(total);
    if (norm > max_norm && norm > 0) {
        const double s = max_norm / (norm + 1e-6);
        for (const Tensor& p : params)
            if (p.grad().defined()) {
                Tensor g = p.grad();
                backend_for(g.device()).scale(g, g, s);
            }
    }
    return norm;
}

Ema::Ema(const std::vector<std::pair<std::string, Tensor>>& params, double decay) : decay_(decay) {
    if (!(decay >= 0 && decay < 1)) throw std::invalid_argument("ema: decay " + std::to_string(decay) + " (expected 0 <= decay < 1)");
    for (const auto& [name, p] : params) averages_.emplace_back(name, p.detach().clone());
}

void Ema::update(const std::vector<std::pair<std::string, Tensor>>& params) {
    for (std::size_t i = 0; i < params.size(); ++i) {
        Tensor& avg = averages_[i].second;
        auto& be = backend_for(avg.device());
        be.scale(avg, avg, decay_);
        be.axpy(avg, params[i].second, 1.0 - decay_);
    }
}

}  // namespace bplab
