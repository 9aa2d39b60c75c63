// models/vit.cpp — the Vision Transformer on channels-last images.
// Tokens are (B, N, C) with the class token at row 0; the head reads row 0 after the final norm.
#include "models/vit.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/ops.h"
#include "layers/init.h"
#include "layers/sbp/blocks.h"

namespace bplab {

Vit::Vit(const VitConfig& c)
    : config_(c), init_(c.seed), noise_(c.seed ^ 0x5eedULL), patch_embed_(c.in_channels, c.dim, c.patch, c.patch, 0, init_, c.dtype),
      norm_(c.dim, 1e-6, c.dtype),
      head_(init::trunc_normal({c.classes, c.dim}, 0.02, init_, c.dtype), Tensor::zeros({c.classes}, c.dtype)) {
    if (c.image_size % c.patch != 0)
        throw std::invalid_argument("vit: image size " + std::to_string(c.image_size) + " is not a multiple of patch " +
                                    std::to_string(c.patch));
    cls_token_ = register_parameter("cls_token", init::trunc_normal({1, 1, c.dim}, 1e-6, init_, c.dtype));
    pos_embed_ = register_parameter("pos_embed", init::trunc_normal({1, tokens(), c.dim}, 0.02, init_, c.dtype));
    register_module("patch_embed.proj", patch_embed_);
    for (std::int64_t i = 0; i < c.depth; ++i) {
        BlockOptions o;
        o.mlp_ratio = c.mlp_ratio;
        o.recompute = c.recompute;
        o.drop_path = c.depth > 1 ? c.drop_path * static_cast<double>(i) / static_cast<double>(c.depth - 1) : c.drop_path;
        blocks_.push_back(std::make_unique<VitBlock>(c.dim, c.heads, o, init_, noise_, c.dtype));
        register_module("blocks." + std::to_string(i), *blocks_.back());
    }
    register_module("norm", norm_);
    register_module("head", head_);
}

Tensor Vit::forward_unit(std::int64_t k, const Tensor& x) const {
    if (k == 0) {
        if (x.dim() != 4 || x.size(1) != config_.image_size || x.size(2) != config_.image_size || x.size(3) != config_.in_channels)
            throw std::invalid_argument("vit: images of shape " + shape_str(x.shape()) + " (expected (B, " +
                                        std::to_string(config_.image_size) + ", " + std::to_string(config_.image_size) +
                                        ", " + std::to_string(config_.in_channels) + "))");
        const std::int64_t b = x.size(0);
        const Tensor grid = patch_embed_.forward(x);                                                     // (B, H/p, W/p, C)
        const Tensor patches = grid.reshape({b, grid.size(1) * grid.size(2), config_.dim});              // (B, N−1, C)
        const Tensor cls = add(Tensor::zeros({b, 1, config_.dim}, x.dtype(), x.device()), cls_token_);  // (B, 1, C)
        return add(concat({cls, patches}, 1), pos_embed_);                                             // (B, N, C)
    }
    if (k <= config_.depth) {
        const VitBlock& block = *blocks_[static_cast<std::size_t>(k - 1)];
        if (training() && plan_ && plan_->blocks[static_cast<std::size_t>(k - 1)])
            return sbp::vit_block(block, x, *plan_->blocks[static_cast<std::size_t>(k - 1)], plan_->config);
        return block.forward(x);
    }
    const Tensor cls = gather_rows(norm_.forward(x), Tensor::from_indices({0}, {1}), 1);  // (B, 1, C)
    return head_.forward(cls.reshape({x.size(0), config_.dim}));
}

void Vit::set_sbp(const sbp::SbpConfig& config) {
    sbp_ = config;
    if (sbp_.blocks.empty()) sbp_.blocks = "last:" + std::to_string(2 * config_.depth / 3);
    sbp::select_blocks(sbp_.blocks, {config_.depth});  // validate now, not at the first step
    plan_.reset();
}

std::string Vit::sbp_summary() const {
    return sbp_.enabled() ? sbp::describe(sbp_, sbp::select_blocks(sbp_.blocks, {config_.depth}), true) : "";
}

void Vit::begin_step() {
    plan_.reset();
    if (!sbp_.enabled()) return;
    const std::int64_t grid = config_.image_size / config_.patch;
    const auto selected = sbp::select_blocks(sbp_.blocks, {config_.depth});
    std::int64_t n = 0;
    for (bool on : selected) n += on;
    const auto ratios = sbp::block_ratios(sbp_.keep, sbp_.schedule, n);
    sbp::StepPlan plan{sbp_, std::vector<std::optional<sbp::BlockPlan>>(static_cast<std::size_t>(config_.depth))};
    std::optional<sbp::BlockPlan> shared;
    for (std::int64_t i = 0, j = 0; i < config_.depth; ++i) {
        if (!selected[static_cast<std::size_t>(i)]) continue;
        const double r = ratios[static_cast<std::size_t>(j++)];
        // One mask for all blocks unless asked otherwise (or unless the ratios differ from block to block).
        if (!shared || sbp_.independent || shared->ratio != r) {
            sbp::BlockPlan b;
            b.ratio = r;
            b.mask = sbp::sample_mask(sbp_.mask, grid, grid, r, noise_);
            b.rows = sbp::token_split(b.mask, true);
            const auto order = noise_.permutation(config_.heads);
            const auto kept = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::llround(r * static_cast<double>(config_.heads))));
            b.heads.assign(order.begin(), order.begin() + kept);
            std::sort(b.heads.begin(), b.heads.end());
            shared = b;
        }
        plan.blocks[static_cast<std::size_t>(i)] = shared;
    }
    plan_ = std::move(plan);
}

std::vector<Tensor> Vit::unit_parameters(std::int64_t k) const {
    if (k == 0) {
        std::vector<Tensor> p{cls_token_, pos_embed_};
        for (const Tensor& t : patch_embed_.parameters()) p.push_back(t);
        return p;
    }
    if (k <= config_.depth) return blocks_.at(static_cast<std::size_t>(k - 1))->parameters();
    std::vector<Tensor> p = norm_.parameters();
    for (const Tensor& t : head_.parameters()) p.push_back(t);
    return p;
}

}  // namespace bplab
