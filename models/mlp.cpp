// models/mlp.cpp — the MLP: Linear layers with ReLU between them.
// Weights: kaiming_normal_(fan_in, relu); biases: PyTorch's default U(−1/√in, 1/√in).
#include "models/mlp.h"

#include <cmath>
#include <stdexcept>

#include "core/ops.h"
#include "layers/init.h"

namespace bplab {

Mlp::Mlp(const MlpConfig& config) : config_(config) {
    Rng rng(config.seed);
    std::vector<std::int64_t> sizes{config.inputs};
    sizes.insert(sizes.end(), config.hidden.begin(), config.hidden.end());
    sizes.push_back(config.classes);
    for (std::int64_t s : sizes)
        if (s <= 0) throw std::invalid_argument("mlp: layer sizes must be positive, got " + std::to_string(s));
    for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
        const std::int64_t in = sizes[i], out = sizes[i + 1];
        Tensor weight = init::kaiming_normal({out, in}, in, rng, config.dtype);
        Tensor bias = init::uniform({out}, 1.0 / std::sqrt(static_cast<double>(in)), rng, config.dtype);
        layers_.push_back(std::make_unique<Linear>(std::move(weight), std::move(bias)));
        Linear& layer = *layers_.back();
        register_module("fc" + std::to_string(i + 1), layer);
    }
}

Tensor Mlp::forward_unit(std::int64_t k, const Tensor& x) const {
    const Tensor y = layers_.at(static_cast<std::size_t>(k))->forward(x);
    return k + 1 < num_units() ? relu(y) : y;
}

std::vector<Tensor> Mlp::unit_parameters(std::int64_t k) const {
    return layers_.at(static_cast<std::size_t>(k))->parameters();
}

}  // namespace bplab
