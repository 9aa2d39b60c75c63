// models/mlp.h — the multilayer perceptron of the Backforward experiments (784-256-10 ReLU by default).
// Layers are named fc1, fc2, ... as in the published code; weights are kaiming-normal (fan_in).
#pragma once
#include <memory>
#include <vector>

#include "layers/linear.h"
#include "models/model.h"

namespace bplab {

struct MlpConfig {
    std::int64_t inputs = 784;
    std::vector<std::int64_t> hidden = {256};
    std::int64_t classes = 10;
    std::uint64_t seed = 2525;
    DType dtype = DType::f32;
};

class Mlp final : public Model {
public:
    explicit Mlp(const MlpConfig& config);
    std::int64_t num_units() const override { return static_cast<std::int64_t>(layers_.size()); }
    /// fc_{k+1}, followed by ReLU on every layer but the last.
    Tensor forward_unit(std::int64_t k, const Tensor& x) const override;
    std::vector<Tensor> unit_parameters(std::int64_t k) const override;
    const MlpConfig& config() const { return config_; }

private:
    MlpConfig config_;
    std::vector<std::unique_ptr<Linear>> layers_;
};

}  // namespace bplab
