// layers/blocks.h — the building blocks of ViT and ConvNeXt, with timm's parameter names.
// MlpBlock (fc1 → GELU → fc2), VitBlock (pre-norm attention + MLP), ConvNeXtBlock (dwconv → LN → MLP → γ).
#pragma once
#include <memory>

#include "core/rng.h"
#include "layers/attention.h"
#include "layers/conv.h"
#include "layers/linear.h"
#include "layers/norm.h"

namespace bplab {

/// timm's Mlp: fc1 (C -> hidden), GELU, fc2 (hidden -> C); trunc-normal(0.02) weights, zero biases.
class MlpBlock : public Module {
public:
    MlpBlock(std::int64_t dim, std::int64_t hidden, Rng& init, DType dtype = DType::f32);
    Tensor forward(const Tensor& x) const;
    /// forward(norm(x)) · γ (γ (C) may be undefined): a pre-norm MLP branch. With `recompute`, through
    /// layer_norm_linear and gelu_linear, which keep x and fc1's output for backward instead of x, the
    /// normalised rows, fc1's and GELU's outputs (and fc2's, for γ): 5C floats per row instead of 10C (11C).
    Tensor forward_normed(const LayerNorm& norm, const Tensor& x, const Tensor& gamma, bool recompute) const;

private:
    Linear fc1_, fc2_;
};

struct BlockOptions {
    double drop_path = 0.0;     ///< stochastic depth probability of this block
    double layer_scale = 0.0;   ///< initial γ; 0 means no layer scale (timm's ViT default)
    double mlp_ratio = 4.0;
    /// Recompute the outputs of LayerNorm (before qkv and fc1) and of GELU in backward instead of saving them
    /// (layer_norm_linear, gelu_linear): the same gradients, about half the bytes an MLP branch keeps.
    bool recompute = false;
};

/// x + DropPath(γ₁ · Attn(LN(x))), then x + DropPath(γ₂ · Mlp(LN(x))), on tokens (B, N, C).
class VitBlock : public Module {
public:
    VitBlock(std::int64_t dim, std::int64_t heads, const BlockOptions& options, Rng& init, Rng& noise,
             DType dtype = DType::f32);
    Tensor forward(const Tensor& x) const;

    const LayerNorm& norm1() const { return norm1_; }
    const LayerNorm& norm2() const { return norm2_; }
    const MultiHeadAttention& attn() const { return attn_; }
    const MlpBlock& mlp() const { return mlp_; }
    /// The residual branch's scale and stochastic depth: what wraps a sub-block's output.
    Tensor branch(const Tensor& y, int which) const;
    /// Mlp(LN₂(x)): the second sub-block before its layer scale (what SBP splits).
    Tensor mlp_branch(const Tensor& x) const;
    /// q, k, v of LN₁(x), each (B, heads, N, head_dim).
    std::array<Tensor, 3> qkv(const Tensor& x) const { return attn_.qkv_after(norm1_, x, options_.recompute); }

private:
    BlockOptions options_;
    LayerNorm norm1_;
    MultiHeadAttention attn_;
    LayerNorm norm2_;
    MlpBlock mlp_;
    std::unique_ptr<LayerScale> ls1_, ls2_;  ///< null without layer scale
    Rng* noise_;
};

/// ConvNeXt block on maps (B, H, W, C): x + DropPath(γ · fc2(GELU(fc1(LN(dwconv7x7(x)))))).
class ConvNeXtBlock : public Module {
public:
    ConvNeXtBlock(std::int64_t dim, const BlockOptions& options, Rng& init, Rng& noise, DType dtype = DType::f32);
    Tensor forward(const Tensor& x) const;

    /// The depthwise conv (kept in full by SBP) and the point-wise part after it, layer scale included
    /// (LayerNorm → fc1 → GELU → fc2 → γ: what SBP splits).
    Tensor depthwise(const Tensor& x) const;
    Tensor pointwise(const Tensor& y) const;
    /// Stochastic depth of the residual branch.
    Tensor branch(const Tensor& y) const;

private:
    BlockOptions options_;
    DepthwiseConv2d conv_dw_;
    LayerNorm norm_;
    MlpBlock mlp_;
    Tensor gamma_;  ///< undefined without layer scale
    Rng* noise_;
};

}  // namespace bplab
