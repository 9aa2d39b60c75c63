// core/optim/sgd.h — stochastic gradient descent: plain, with momentum, Nesterov, weight decay.
// The same update rule as torch.optim.SGD (dampening 0), fused into one backend kernel.
#pragma once
#include "core/optim/optimizer.h"

namespace bplab {

struct SgdOptions {
    double lr = 0.1;
    double momentum = 0.0;
    double weight_decay = 0.0;
    bool nesterov = false;
};

class Sgd final : public Optimizer {
public:
    Sgd(std::vector<Tensor> params, const SgdOptions& options);

protected:
    void update(const std::vector<Tensor>& subset) override;
    std::vector<std::pair<std::string, std::vector<Tensor>*>> buffers() override {
        if (options_.momentum > 0) return {{"momentum", &momentum_}};
        return {};
    }

private:
    SgdOptions options_;
    std::vector<Tensor> momentum_;  ///< created on a parameter's first update (momentum > 0)
};

}  // namespace bplab
