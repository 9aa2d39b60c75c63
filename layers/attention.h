// layers/attention.h — multi-head self-attention as in timm's ViT (qkv and proj linears, named so).
// The core softmax(q kᵀ/√d) v is one op with its own backward (core/ops/attention.cpp).
#pragma once
#include <array>

#include "core/rng.h"
#include "layers/linear.h"
#include "layers/norm.h"

namespace bplab {

class MultiHeadAttention : public Module {
public:
    MultiHeadAttention(std::int64_t dim, std::int64_t heads, Rng& init, DType dtype = DType::f32);

    /// q, k, v of x, each (B, heads, N, head_dim): the pieces SBP splits.
    std::array<Tensor, 3> qkv(const Tensor& x) const;
    /// qkv(norm(x)); with `recompute` through layer_norm_linear, which keeps x instead of the normalised rows.
    std::array<Tensor, 3> qkv_after(const LayerNorm& norm, const Tensor& x, bool recompute) const;
    /// Heads (B, heads, N, head_dim) back to (B, N, C) through the output projection.
    Tensor project(const Tensor& heads) const;
    /// project(softmax(q kᵀ · scale) v) of qkv's output: the whole layer is attend(qkv(x)), (B, N, C) -> (B, N, C).
    Tensor attend(const std::array<Tensor, 3>& q_k_v) const;
    double scale() const { return scale_; }
    std::int64_t heads() const { return heads_; }

private:
    std::int64_t dim_, heads_;
    double scale_;
    Linear qkv_, proj_;

    /// The qkv linear's output (B, N, 3C) as q, k, v (B, heads, N, head_dim).
    std::array<Tensor, 3> split_heads(const Tensor& packed) const;
};

}  // namespace bplab
