// models/convnext.cpp — ConvNeXt on channels-last maps (B, H, W, C).
// Downsampling is LayerNorm + 2×2 stride-2 conv (timm's); SBP swaps in space-to-depth + Linear on the same weights.
#include "models/convnext.h"

#include <algorithm>
#include <stdexcept>

#include "core/ops.h"
#include "layers/init.h"
#include "layers/sbp/blocks.h"

namespace bplab {

ConvNeXt::ConvNeXt(const ConvNeXtConfig& c)
    : config_(c), init_(c.seed), noise_(c.seed ^ 0x5eedULL), stem_conv_(c.in_channels, c.dims[0], c.stem, c.stem, 0, init_, c.dtype),
      stem_norm_(c.dims[0], 1e-6, c.dtype), head_norm_(c.dims[3], 1e-6, c.dtype),
      head_fc_(init::trunc_normal({c.classes, c.dims[3]}, 0.02, init_, c.dtype), Tensor::zeros({c.classes}, c.dtype)) {
    if (c.image_size % (c.stem * 8) != 0)
        throw std::invalid_argument("convnext: image size " + std::to_string(c.image_size) + " is not a multiple of " +
                                    std::to_string(c.stem * 8) + " (stem " + std::to_string(c.stem) + " then three 2x downsamplings)");
    register_module("stem.0", stem_conv_);
    register_module("stem.1", stem_norm_);
    std::int64_t total = 0;
    for (auto d : c.depths) total += d;
    std::int64_t seen = 0;
    for (std::int64_t s = 0; s < 4; ++s) {
        const std::string stage = "stages." + std::to_string(s);
        if (s > 0) {
            down_norms_.push_back(std::make_unique<LayerNorm>(c.dims[s - 1], 1e-6, c.dtype));
            down_convs_.push_back(std::make_unique<Conv2d>(c.dims[s - 1], c.dims[s], 2, 2, 0, init_, c.dtype));
            register_module(stage + ".downsample.0", *down_norms_.back());
            register_module(stage + ".downsample.1", *down_convs_.back());
        }
        for (std::int64_t j = 0; j < c.depths[s]; ++j, ++seen) {
            BlockOptions o;
            o.layer_scale = c.layer_scale;
            o.recompute = c.recompute;
            o.drop_path = total > 1 ? c.drop_path * static_cast<double>(seen) / static_cast<double>(total - 1) : c.drop_path;
            blocks_.push_back({s, j, std::make_unique<ConvNeXtBlock>(c.dims[s], o, init_, noise_, c.dtype)});
            register_module(stage + ".blocks." + std::to_string(j), *blocks_.back().block);
        }
    }
    register_module("head.norm", head_norm_);
    register_module("head.fc", head_fc_);
}

Tensor ConvNeXt::forward_unit(std::int64_t k, const Tensor& x) const {
    const std::int64_t last = num_units() - 1;
    if (k == 0) {
        if (x.dim() != 4 || x.size(1) != config_.image_size || x.size(2) != config_.image_size || x.size(3) != config_.in_channels)
            throw std::invalid_argument("convnext: images of shape " + shape_str(x.shape()) + " (expected (B, " +
                                        std::to_string(config_.image_size) + ", " + std::to_string(config_.image_size) +
                                        ", " + std::to_string(config_.in_channels) + "))");
        return stem_norm_.forward(stem_conv_.forward(x));  // (B, H/stem, W/stem, C0)
    }
    if (k < last) {
        const BlockRef& b = blocks_[static_cast<std::size_t>(k - 1)];
        const auto* plan = training() && plan_ ? &plan_->blocks[static_cast<std::size_t>(k - 1)] : nullptr;
        const bool split = plan && plan->has_value();
        Tensor h = x;
        if (b.stage > 0 && b.index == 0) {
            const std::size_t d = static_cast<std::size_t>(b.stage - 1);
            const auto conv = down_convs_[d]->parameters();
            h = split ? sbp::downsample(*down_norms_[d], conv[0], conv[1], h, **plan)
                      : down_convs_[d]->forward(down_norms_[d]->forward(h));  // (B, H/2, W/2, C_s)
        }
        return split ? sbp::convnext_block(*b.block, h, **plan) : b.block->forward(h);
    }
    const Tensor pooled = mean(x.reshape({x.size(0), x.size(1) * x.size(2), x.size(3)}), 1);  // (B, C)
    return head_fc_.forward(head_norm_.forward(pooled));
}

void ConvNeXt::set_sbp(const sbp::SbpConfig& config) {
    sbp_ = config;
    if (sbp_.blocks.empty()) sbp_.blocks = "s0/all,s1/all,s2/first:" + std::to_string(2 * config_.depths[2] / 3);
    sbp::select_blocks(sbp_.blocks, {config_.depths.begin(), config_.depths.end()});
    if (sbp_.attn != sbp::AttnMode::qkv) throw std::invalid_argument("sbp: --sbp-attn applies to ViT only");
    plan_.reset();
}

std::string ConvNeXt::sbp_summary() const {
    return sbp_.enabled() ? sbp::describe(sbp_, sbp::select_blocks(sbp_.blocks, {config_.depths.begin(), config_.depths.end()}), false)
                          : "";
}

void ConvNeXt::begin_step() {
    plan_.reset();
    if (!sbp_.enabled()) return;
    const auto selected = sbp::select_blocks(sbp_.blocks, {config_.depths.begin(), config_.depths.end()});
    std::int64_t n = 0, coarsest = -1;
    for (std::size_t i = 0; i < selected.size(); ++i)
        if (selected[i]) ++n, coarsest = std::max(coarsest, blocks_[i].stage);
    const auto ratios = sbp::block_ratios(sbp_.keep, sbp_.schedule, n);
    // One base mask at the coarsest SBP resolution, block-upsampled to the finer stages.
    const std::int64_t base_res = config_.image_size / config_.stem >> coarsest;
    sbp::StepPlan plan{sbp_, std::vector<std::optional<sbp::BlockPlan>>(blocks_.size())};
    std::optional<sbp::KeepMask> base;
    double base_ratio = -1;
    for (std::size_t i = 0, j = 0; i < blocks_.size(); ++i) {
        if (!selected[i]) continue;
        const double r = ratios[j++];
        if (!base || sbp_.independent || base_ratio != r) {
            base = sbp::sample_mask(sbp_.mask, base_res, base_res, r, noise_);
            base_ratio = r;
        }
        sbp::BlockPlan b;
        b.ratio = r;
        b.mask = sbp::upsample(*base, std::int64_t{1} << (coarsest - blocks_[i].stage));
        b.rows = sbp::token_split(b.mask, false);
        plan.blocks[i] = std::move(b);
    }
    plan_ = std::move(plan);
}

std::vector<Tensor> ConvNeXt::unit_parameters(std::int64_t k) const {
    const std::int64_t last = num_units() - 1;
    std::vector<Tensor> p;
    auto append = [&p](const Module& m) {
        for (const Tensor& t : m.parameters()) p.push_back(t);
    };
    if (k == 0) {
        append(stem_conv_);
        append(stem_norm_);
    } else if (k < last) {
        const BlockRef& b = blocks_.at(static_cast<std::size_t>(k - 1));
        if (b.stage > 0 && b.index == 0) {
            append(*down_norms_[static_cast<std::size_t>(b.stage - 1)]);
            append(*down_convs_[static_cast<std::size_t>(b.stage - 1)]);
        }
        append(*b.block);
    } else {
        append(head_norm_);
        append(head_fc_);
    }
    return p;
}

}  // namespace bplab
