// layers/attention.h — multi-head self-attention as in timm's ViT (qkv and proj linears, named so).
// The core softmax(q kᵀ/√d) v is one op with its own backward (core/ops/attention.cpp).
#pragma once
#include <array>

#include "core/rng.h"
#include "layers/linear.h"

namespace bplab {

class MultiHeadAttention : public Module {
public:
    MultiHeadAttention(std::int64_t dim, std::int64_t heads, Rng& init, DType dtype = DType::f32);
    /// (B, N, C) -> (B, N, C)
    Tensor forward(const Tensor& x) const;

    /// q, k, v of x, each (B, heads, N, head_dim): the pieces SBP splits.
    std::array<Tensor, 3> qkv(const Tensor& x) const;
    /// Heads (B, heads, N, head_dim) back to (B, N, C) through the output projection.
    Tensor project(const Tensor& heads) const;
    double scale() const { return scale_; }
    std::int64_t heads() const { return heads_; }

private:
    std::int64_t dim_, heads_;
    double scale_;
    Linear qkv_, proj_;
};

}  // namespace bplab
