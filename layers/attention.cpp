// layers/attention.cpp — multi-head self-attention.
// qkv: (B, N, 3C) -> q, k, v (B, heads, N, d) by one permute_unbind; heads are joined back by a permute.
#include "layers/attention.h"

#include <cmath>
#include <stdexcept>

#include "core/ops.h"
#include "layers/init.h"

namespace bplab {

MultiHeadAttention::MultiHeadAttention(std::int64_t dim, std::int64_t heads, Rng& init, DType dtype)
    : dim_(dim), heads_(heads), scale_(0.0), qkv_(init::trunc_normal({3 * dim, dim}, 0.02, init, dtype), Tensor::zeros({3 * dim}, dtype)),
      proj_(init::trunc_normal({dim, dim}, 0.02, init, dtype), Tensor::zeros({dim}, dtype)) {
    if (heads <= 0 || dim % heads != 0)
        throw std::invalid_argument("attention: dim " + std::to_string(dim) + " is not divisible by " + std::to_string(heads) + " heads");
    scale_ = 1.0 / std::sqrt(static_cast<double>(dim / heads));
    register_module("qkv", qkv_);
    register_module("proj", proj_);
}

std::array<Tensor, 3> MultiHeadAttention::split_heads(const Tensor& packed) const {
    const std::int64_t b = packed.size(0), n = packed.size(1);
    const Tensor split = packed.reshape({b, n, 3, heads_, dim_ / heads_});     // (B, N, 3, h, d)
    const std::vector<Tensor> q_k_v = permute_unbind(split, {2, 0, 3, 1, 4});  // each (B, h, N, d)
    return {q_k_v[0], q_k_v[1], q_k_v[2]};
}

std::array<Tensor, 3> MultiHeadAttention::qkv(const Tensor& x) const { return split_heads(qkv_.forward(x)); }

std::array<Tensor, 3> MultiHeadAttention::qkv_after(const LayerNorm& norm, const Tensor& x, bool recompute) const {
    if (!recompute) return qkv(norm.forward(x));
    return split_heads(layer_norm_linear(x, norm.weight(), norm.bias(), norm.eps(), qkv_.weight(), qkv_.bias()));
}

Tensor MultiHeadAttention::project(const Tensor& heads) const {
    const std::int64_t b = heads.size(0), n = heads.size(2);
    return proj_.forward(permute(heads, {0, 2, 1, 3}).reshape({b, n, dim_}));
}

Tensor MultiHeadAttention::attend(const std::array<Tensor, 3>& q_k_v) const {
    return project(attention(q_k_v[0], q_k_v[1], q_k_v[2], scale_));
}

}  // namespace bplab
