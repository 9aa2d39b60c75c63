// layers/blocks.cpp — MlpBlock, VitBlock and ConvNeXtBlock.
// Each exposes its sub-block pieces so that SBP can run them on kept and dropped rows separately.
#include "layers/blocks.h"

#include "core/ops.h"
#include "layers/init.h"
#include "layers/regularize.h"

namespace bplab {
namespace {

Linear trunc_normal_linear(std::int64_t in, std::int64_t out, Rng& init, DType dtype) {
    return Linear(init::trunc_normal({out, in}, 0.02, init, dtype), Tensor::zeros({out}, dtype));
}

}  // namespace

MlpBlock::MlpBlock(std::int64_t dim, std::int64_t hidden, Rng& init, DType dtype)
    : fc1_(trunc_normal_linear(dim, hidden, init, dtype)), fc2_(trunc_normal_linear(hidden, dim, init, dtype)) {
    register_module("fc1", fc1_);
    register_module("fc2", fc2_);
}

Tensor MlpBlock::forward(const Tensor& x) const { return fc2_.forward(gelu(fc1_.forward(x))); }

Tensor MlpBlock::forward_normed(const LayerNorm& norm, const Tensor& x, const Tensor& gamma, bool recompute) const {
    if (recompute) {
        const Tensor a = layer_norm_linear(x, norm.weight(), norm.bias(), norm.eps(), fc1_.weight(), fc1_.bias());
        return gelu_linear(a, fc2_.weight(), fc2_.bias(), gamma);
    }
    if (!gamma.defined()) return forward(norm.forward(x));
    return scaled_linear(gelu(fc1_.forward(norm.forward(x))), fc2_.weight(), fc2_.bias(), gamma);
}

VitBlock::VitBlock(std::int64_t dim, std::int64_t heads, const BlockOptions& options, Rng& init, Rng& noise, DType dtype)
    : options_(options), norm1_(dim, 1e-6, dtype), attn_(dim, heads, init, dtype), norm2_(dim, 1e-6, dtype),
      mlp_(dim, static_cast<std::int64_t>(static_cast<double>(dim) * options.mlp_ratio), init, dtype), noise_(&noise) {
    if (options.layer_scale > 0) {
        ls1_ = std::make_unique<LayerScale>(dim, options.layer_scale, dtype);
        ls2_ = std::make_unique<LayerScale>(dim, options.layer_scale, dtype);
    }
    register_module("norm1", norm1_);
    register_module("attn", attn_);
    if (ls1_) register_module("ls1", *ls1_);
    register_module("norm2", norm2_);
    register_module("mlp", mlp_);
    if (ls2_) register_module("ls2", *ls2_);
}

Tensor VitBlock::branch(const Tensor& y, int which) const {
    const LayerScale* ls = which == 1 ? ls1_.get() : ls2_.get();
    return drop_path(ls ? ls->forward(y) : y, options_.drop_path, training(), *noise_);
}

Tensor VitBlock::mlp_branch(const Tensor& x) const { return mlp_.forward_normed(norm2_, x, Tensor(), options_.recompute); }

Tensor VitBlock::forward(const Tensor& x) const {
    const Tensor h = add(x, branch(attn_.attend(qkv(x)), 1));
    return add(h, branch(mlp_branch(h), 2));
}

ConvNeXtBlock::ConvNeXtBlock(std::int64_t dim, const BlockOptions& options, Rng& init, Rng& noise, DType dtype)
    : options_(options), conv_dw_(dim, 7, 3, init, dtype), norm_(dim, 1e-6, dtype),
      mlp_(dim, static_cast<std::int64_t>(static_cast<double>(dim) * options.mlp_ratio), init, dtype), noise_(&noise) {
    if (options.layer_scale > 0) gamma_ = register_parameter("gamma", Tensor::full({dim}, options.layer_scale, dtype));
    register_module("conv_dw", conv_dw_);
    register_module("norm", norm_);
    register_module("mlp", mlp_);
}

Tensor ConvNeXtBlock::depthwise(const Tensor& x) const { return conv_dw_.forward(x); }

Tensor ConvNeXtBlock::pointwise(const Tensor& y) const { return mlp_.forward_normed(norm_, y, gamma_, options_.recompute); }

Tensor ConvNeXtBlock::branch(const Tensor& y) const { return drop_path(y, options_.drop_path, training(), *noise_); }

Tensor ConvNeXtBlock::forward(const Tensor& x) const { return add(x, branch(pointwise(depthwise(x)))); }

}  // namespace bplab
