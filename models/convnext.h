// models/convnext.h — ConvNeXt (timm's ConvNeXt: patchify stem, four stages of 7×7 depthwise blocks,
// LayerNorm + 2×2 conv downsampling, global average pool, norm + linear head), with timm's names.
#pragma once
#include <array>
#include <memory>
#include <optional>
#include <vector>

#include "layers/blocks.h"
#include "layers/conv.h"
#include "models/model.h"

namespace bplab {

struct ConvNeXtConfig {
    std::int64_t image_size = 224, in_channels = 3, classes = 1000;
    std::int64_t stem = 4;  ///< stem kernel = stride (2 for 32×32 inputs)
    std::array<std::int64_t, 4> depths = {3, 3, 9, 3};
    std::array<std::int64_t, 4> dims = {96, 192, 384, 768};
    double drop_path = 0.0;     ///< rate of the last block; rises linearly from 0 over all blocks
    double layer_scale = 1e-6;  ///< initial γ of every block
    bool recompute = false;  ///< recompute LayerNorm and GELU outputs in backward (BlockOptions::recompute)
    std::uint64_t seed = 0;
    DType dtype = DType::f32;
};

class ConvNeXt final : public Model {
public:
    explicit ConvNeXt(const ConvNeXtConfig& config);
    /// Units: 0 = stem; 1..Σdepths = blocks (a stage's downsampling belongs to its first block); last = head.
    std::int64_t num_units() const override { return static_cast<std::int64_t>(blocks_.size()) + 2; }
    /// Unit 0 takes images (B, H, W, C_in); the last returns logits (B, classes).
    Tensor forward_unit(std::int64_t k, const Tensor& x) const override;
    std::vector<Tensor> unit_parameters(std::int64_t k) const override;

    const ConvNeXtConfig& config() const { return config_; }
    Rng* noise_rng() override { return &noise_; }

    bool supports_sbp() const override { return true; }
    /// Default blocks: stages 0 and 1 and the first two thirds of stage 2, never stage 3 (the paper's).
    void set_sbp(const sbp::SbpConfig& config) override;
    std::string sbp_summary() const override;
    void begin_step() override;
    const sbp::StepPlan* sbp_plan() const override { return plan_ ? &*plan_ : nullptr; }

private:
    struct BlockRef {
        std::int64_t stage, index;
        std::unique_ptr<ConvNeXtBlock> block;
    };
    ConvNeXtConfig config_;
    Rng init_, noise_;
    Conv2d stem_conv_;
    LayerNorm stem_norm_;
    std::vector<std::unique_ptr<LayerNorm>> down_norms_;  ///< stages 1..3
    std::vector<std::unique_ptr<Conv2d>> down_convs_;
    std::vector<BlockRef> blocks_;
    LayerNorm head_norm_;
    Linear head_fc_;
    sbp::SbpConfig sbp_;
    std::optional<sbp::StepPlan> plan_;
};

}  // namespace bplab
