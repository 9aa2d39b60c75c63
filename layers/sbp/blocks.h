// layers/sbp/blocks.h — ViT and ConvNeXt blocks under SBP: the same parameters as the exact blocks,
// with the sub-blocks split into kept rows (graph) and dropped rows (no graph); residual paths stay full.
#pragma once
#include "layers/blocks.h"
#include "layers/sbp/plan.h"

namespace bplab::sbp {

/// A ViT block on tokens (B, N, C) with the attention core split as `config.attn` says and the MLP
/// sub-block (norm2 → fc1 → GELU → fc2) split by rows. In qkv and qkv-exact modes norm1 and the qkv
/// projection are split too (dropped rows of q, k, v get no gradient there anyway).
Tensor vit_block(const VitBlock& block, const Tensor& x, const BlockPlan& plan, const SbpConfig& config);

/// A ConvNeXt block on maps (B, H, W, C): the depthwise conv in full with graph, everything after it
/// (LayerNorm → fc1 → GELU → fc2) split over the H·W positions.
Tensor convnext_block(const ConvNeXtBlock& block, const Tensor& x, const BlockPlan& plan);

/// SBP downsampling: LayerNorm (per pixel) + 2×2 space-to-depth + Linear, split over the output positions.
/// Uses the 2×2 stride-2 conv's weight (O, I, 2, 2) as the Linear's, so checkpoints are unchanged.
Tensor downsample(const LayerNorm& norm, const Tensor& conv_weight, const Tensor& conv_bias, const Tensor& x,
                  const BlockPlan& plan);

}  // namespace bplab::sbp
