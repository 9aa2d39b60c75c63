// models/vit.h — the Vision Transformer (timm's VisionTransformer: class token, learned position
// embedding, pre-norm blocks, final norm, linear head), with timm's parameter names.
#pragma once
#include <memory>
#include <optional>
#include <vector>

#include "layers/blocks.h"
#include "layers/conv.h"
#include "models/model.h"

namespace bplab {

struct VitConfig {
    std::int64_t image_size = 224, patch = 16, in_channels = 3, classes = 1000;
    std::int64_t dim = 192, depth = 12, heads = 3;
    double mlp_ratio = 4.0;
    double drop_path = 0.0;  ///< rate of the last block; rises linearly from 0 over depth
    bool recompute = false;  ///< recompute LayerNorm and GELU outputs in backward (BlockOptions::recompute)
    std::uint64_t seed = 0;
    DType dtype = DType::f32;
};

class Vit final : public Model {
public:
    explicit Vit(const VitConfig& config);
    /// Units: 0 = patch embedding + class token + position embedding; 1..depth = blocks; depth+1 = norm + head.
    std::int64_t num_units() const override { return config_.depth + 2; }
    /// Unit 0 takes images (B, H, W, C_in); the last returns logits (B, classes).
    Tensor forward_unit(std::int64_t k, const Tensor& x) const override;
    std::vector<Tensor> unit_parameters(std::int64_t k) const override;

    const VitConfig& config() const { return config_; }
    const VitBlock& block(std::int64_t i) const { return *blocks_.at(static_cast<std::size_t>(i)); }
    std::int64_t tokens() const { return (config_.image_size / config_.patch) * (config_.image_size / config_.patch) + 1; }
    Rng* noise_rng() override { return &noise_; }

    bool supports_sbp() const override { return true; }
    /// Default blocks: the last two thirds (last:8 of 12, as the paper's ViT runs).
    void set_sbp(const sbp::SbpConfig& config) override;
    std::string sbp_summary() const override;
    void begin_step() override;
    const sbp::StepPlan* sbp_plan() const override { return plan_ ? &*plan_ : nullptr; }

private:
    VitConfig config_;
    Rng init_, noise_;
    Conv2d patch_embed_;
    Tensor cls_token_, pos_embed_;
    std::vector<std::unique_ptr<VitBlock>> blocks_;
    LayerNorm norm_;
    Linear head_;
    sbp::SbpConfig sbp_;
    std::optional<sbp::StepPlan> plan_;
};

}  // namespace bplab
