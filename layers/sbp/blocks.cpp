// layers/sbp/blocks.cpp — the SBP forms of the ViT block, the ConvNeXt block and the downsampling layer.
// Every choice of what runs with and without graph is written out here, next to the paper's names.
#include "layers/sbp/blocks.h"

#include "core/ops.h"
#include "layers/sbp/split.h"

namespace bplab::sbp {
namespace {

using Qkv = std::array<Tensor, 3>;  // each (B, heads, rows, d)

/// q, k, v of all tokens, with graph on every row.
Qkv full_qkv_of(const VitBlock& block, const Tensor& x) { return block.qkv(x); }

/// The kept heads and the others, as row indices along the head axis.
RowSplit head_split(const std::vector<std::int64_t>& kept, std::int64_t heads) {
    std::vector<std::int64_t> drop;
    for (std::int64_t h = 0, i = 0; h < heads; ++h) {
        if (i < static_cast<std::int64_t>(kept.size()) && kept[static_cast<std::size_t>(i)] == h) ++i;
        else drop.push_back(h);
    }
    return {Tensor::from_indices(kept, {static_cast<std::int64_t>(kept.size())}),
            Tensor::from_indices(drop, {static_cast<std::int64_t>(drop.size())})};
}

/// Attention of the kept heads with graph and of the others without, merged along the head axis.
Tensor split_heads(const Qkv& q, const RowSplit& heads, double scale) {
    const Tensor kept = attention(gather_rows(q[0], heads.keep, 1), gather_rows(q[1], heads.keep, 1),
                                  gather_rows(q[2], heads.keep, 1), scale);
    Tensor dropped;
    {
        NoGradGuard no_grad;
        dropped = attention(gather_rows(q[0].detach(), heads.drop, 1), gather_rows(q[1].detach(), heads.drop, 1),
                            gather_rows(q[2].detach(), heads.drop, 1), scale);
    }
    return merge_rows(kept, dropped, heads, 1);
}

/// q, k, v of the kept token rows (with graph) and of the dropped rows (without).
std::pair<Qkv, Qkv> split_qkv(const VitBlock& block, const Tensor& x, const RowSplit& rows) {
    const Qkv kept = block.qkv(gather_rows(x, rows.keep, 1));
    NoGradGuard no_grad;
    return {kept, block.qkv(gather_rows(x.detach(), rows.drop, 1))};
}

/// Output projection of attention rows (B, h, N, d) -> (B, N, C), optionally split by token rows.
Tensor project(const VitBlock& block, const Tensor& o_keep, const Tensor& o_drop, const RowSplit& rows, bool split_proj) {
    if (!split_proj) return block.attn().project(merge_rows(o_keep, o_drop, rows, 2));
    const Tensor y_keep = block.attn().project(o_keep);
    Tensor y_drop;
    {
        NoGradGuard no_grad;
        y_drop = block.attn().project(o_drop.detach());
    }
    return merge_rows(y_keep, y_drop, rows, 1);
}

/// The attention sub-block's output (before layer scale and drop path) under SBP.
Tensor attention_branch(const VitBlock& block, const Tensor& x, const BlockPlan& plan, const SbpConfig& config) {
    const double scale = block.attn().scale();
    const RowSplit& rows = plan.rows;
    switch (config.attn) {
        case AttnMode::qkv: {
            // Kept queries attend to kept keys/values; dropped ones to dropped ones, without graph.
            const auto [kept, dropped] = split_qkv(block, x, rows);
            const Tensor o_keep = attention(kept[0], kept[1], kept[2], scale);
            Tensor o_drop;
            {
                NoGradGuard no_grad;
                o_drop = attention(dropped[0], dropped[1], dropped[2], scale);
            }
            return project(block, o_keep, o_drop, rows, config.split_proj);
        }
        case AttnMode::qkv_exact: {
            // Exact forward over all tokens; gradient enters q, k, v only at kept rows.
            const auto [kept, dropped] = split_qkv(block, x, rows);
            const Tensor o = attention(merge_rows(kept[0], dropped[0], rows, 2), merge_rows(kept[1], dropped[1], rows, 2),
                                       merge_rows(kept[2], dropped[2], rows, 2), scale);
            if (!config.split_proj) return block.attn().project(o);
            return project(block, gather_rows(o, rows.keep, 2), gather_rows(o.detach(), rows.drop, 2), rows, true);
        }
        case AttnMode::query: {
            // Eqs. 19–23: the dropped rows of the attention map M keep no graph, so dQ_drop = 0 and
            // dK = Q_keepᵀ dM_keep / √d; the value path is untouched, so dV = Sᵀ dA stays exact.
            const Qkv q = full_qkv_of(block, x);
            const Tensor o_keep = attention(gather_rows(q[0], rows.keep, 2), q[1], q[2], scale);
            const Tensor o_drop = attention(gather_rows(q[0].detach(), rows.drop, 2), q[1].detach(), q[2], scale);
            if (!config.split_proj) return block.attn().project(merge_rows(o_keep, o_drop, rows, 2));
            return project(block, o_keep, o_drop, rows, true);
        }
        case AttnMode::head: {
            // A subset of heads keeps its graph; the others run without it. Token rows are not split.
            const Qkv q = full_qkv_of(block, x);
            const RowSplit heads = head_split(plan.heads, q[0].size(1));
            const Tensor o = split_heads(q, heads, scale);
            return block.attn().project(o);
        }
    }
    return Tensor();
}

}  // namespace

Tensor vit_block(const VitBlock& block, const Tensor& x, const BlockPlan& plan, const SbpConfig& config) {
    if (plan.rows.drop.numel() == 0 && config.attn != AttnMode::head) return block.forward(x);  // r = 1
    const Tensor h = add(x, block.branch(attention_branch(block, x, plan, config), 1));
    const Tensor mlp = split_apply(h, plan.rows, 1, [&](const Tensor& t) { return block.mlp_branch(t); });
    return add(h, block.branch(mlp, 2));
}

Tensor convnext_block(const ConvNeXtBlock& block, const Tensor& x, const BlockPlan& plan) {
    const Tensor y = block.depthwise(x);  // (B, H, W, C), in full with graph
    const std::int64_t b = y.size(0), c = y.size(3);
    const Tensor z = split_apply(y.reshape({b, y.size(1) * y.size(2), c}), plan.rows, 1, [&](const Tensor& t) { return block.pointwise(t); });
    return add(x, block.branch(z.reshape(y.shape())));
}

Tensor downsample(const LayerNorm& norm, const Tensor& conv_weight, const Tensor& conv_bias, const Tensor& x,
                  const BlockPlan& plan) {
    const std::int64_t b = x.size(0), c = x.size(3), out = conv_weight.size(0);
    // (O, I, 2, 2) -> (O, 2, 2, I) -> (O, 4I): the order of space_to_depth's channels (dy, dx, c).
    const Tensor w = permute(conv_weight, {0, 2, 3, 1}).reshape({out, 4 * c});
    const Tensor s = space_to_depth(x, 2);  // (B, H/2, W/2, 4C)
    const Tensor rows = s.reshape({b, s.size(1) * s.size(2), 4 * c});
    const Tensor y = split_apply(rows, plan.rows, 1, [&](const Tensor& t) {
        const Tensor normed = norm.forward(t.reshape({b, t.size(1), 4, c})).reshape({b, t.size(1), 4 * c});
        return linear(normed, w, conv_bias);
    });
    return y.reshape({b, s.size(1), s.size(2), out});
}

}  // namespace bplab::sbp
