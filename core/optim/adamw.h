// core/optim/adamw.h — AdamW with decoupled weight decay, not applied to norms, biases and tokens.
// The same update rule as torch.optim.AdamW; the no-decay rule follows timm's parameter groups.
#pragma once
#include "core/optim/optimizer.h"

namespace bplab {

struct AdamWOptions {
    double lr = 1e-3;
    double beta1 = 0.9, beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0.05;
};

/// timm's rule: no weight decay for 1-D tensors (biases, norm weights, layer scales), cls_token and pos_embed.
std::vector<bool> weight_decay_mask(const std::vector<std::pair<std::string, Tensor>>& named_params);

class AdamW final : public Optimizer {
public:
    /// `decay[i]` says whether params[i] gets weight decay.
    AdamW(std::vector<Tensor> params, std::vector<bool> decay, const AdamWOptions& options);

protected:
    void update(const std::vector<Tensor>& subset) override;
    std::vector<std::pair<std::string, std::vector<Tensor>*>> buffers() override {
        return {{"exp_avg", &exp_avg_}, {"exp_avg_sq", &exp_avg_sq_}};
    }

private:
    std::vector<bool> decay_;
    AdamWOptions options_;
    std::vector<Tensor> exp_avg_, exp_avg_sq_;
};

}  // namespace bplab
