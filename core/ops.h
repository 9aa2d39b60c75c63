// core/ops.h — the functional ops: each checks shapes, calls the backend and records its backward.
// Modules (layers/) and training code compose these; nothing here knows about devices.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "core/autograd.h"
#include "core/tensor.h"

namespace bplab {

/// A view with a new shape (one entry may be -1); the gradient is reshaped back.
Tensor reshape(const Tensor& x, const Shape& shape);
/// x viewed with its leading dims as one, its last `trailing` dims kept: (..., C) -> (R, C) by default, and
/// (C) -> (1, C). Unlike reshape({-1, C}), it knows R when C is 0.
Tensor flatten_leading(const Tensor& x, std::int64_t trailing = 1);
/// Swaps the last two dims (an explicit copy): (..., M, N) -> (..., N, M).
Tensor transpose(const Tensor& x);

/// Batched matrix product over the last two dims: (..., M, K) x (..., K, N) -> (..., M, N).
/// b may have no batch dims (one matrix shared by all batches). trans_a/trans_b transpose first.
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);
/// y (..., O) = x (..., I) wᵀ + b, with w (O, I) as in PyTorch; b (O) may be undefined.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b);

/// Elementwise with broadcasting: b has a's shape, a trailing part of it, or one element.
/// add and mul also accept the smaller operand first.
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor scale(const Tensor& x, double s);

Tensor relu(const Tensor& x);
/// Exact GELU, x Φ(x) with the error function (PyTorch's default, approximate='none'). Under autocast
/// (core/autocast.h), the GELU of x rounded to bf16, which it keeps in bf16 for backward.
Tensor gelu(const Tensor& x);
/// Over the last dim.
Tensor softmax(const Tensor& x);
Tensor log_softmax(const Tensor& x);
/// Mean cross-entropy of logits (R, C) against i64 labels (R), with label smoothing ε ∈ [0, 1).
Tensor cross_entropy(const Tensor& logits, const Tensor& labels, double label_smoothing = 0.0);

/// Sum / mean over one axis (negative counts from the end); keepdim keeps it as size 1.
Tensor sum(const Tensor& x, std::int64_t axis, bool keepdim = false);
Tensor mean(const Tensor& x, std::int64_t axis, bool keepdim = false);
/// Sum / mean of all elements: a one-element tensor of shape (1,).
Tensor sum(const Tensor& x);
Tensor mean(const Tensor& x);

/// x[..., idx, ...] along `axis`: (outer, N, inner) -> (outer, K, inner), idx (K) i64.
/// Any dtype (labels too); SBP builds on this to run a sub-block on the kept token rows only.
Tensor gather_rows(const Tensor& x, const Tensor& idx, std::int64_t axis);
/// A copy of `base` whose rows idx along `axis` are replaced by `src` (index-put).
/// Gradients: base gets dy with those rows zeroed, src gets dy's rows idx.
Tensor scatter_rows(const Tensor& base, const Tensor& src, const Tensor& idx, std::int64_t axis);
/// parts[i] placed at rows idx[i] along `axis`; together the indices name every row of the result exactly once.
/// Gradients: parts[i] gets dy's rows idx[i]. concat is this with consecutive ranges; SBP merges with it.
/// Row indices of these ops may live on the CPU for tensors on a GPU (the cheap way: no wait for the GPU).
Tensor interleave_rows(const std::vector<Tensor>& parts, const std::vector<Tensor>& idx, std::int64_t axis);
/// The slices of x along `axis`, each without that axis (q, k and v out of one packed tensor). One autograd
/// node for all of them: its backward writes every slice's gradient into one dx (zeros where none came).
std::vector<Tensor> unbind(const Tensor& x, std::int64_t axis);

/// Layer normalisation over the last dim: (x − mean) / sqrt(var + eps) · w + b; w, b (C) may be undefined.
Tensor layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps = 1e-6);
/// linear(layer_norm(x, norm_w, norm_b, eps), w, b), saving only x for backward, which normalises x again: the
/// normalised rows (as many bytes as x) are not kept. Gradients are those of the two ops, bit for bit.
Tensor layer_norm_linear(const Tensor& x, const Tensor& norm_w, const Tensor& norm_b, double eps, const Tensor& w,
                         const Tensor& b);
/// linear(gelu(a), w, b), times γ (C_out) per column when gamma is defined (layer scale), saving only a for
/// backward, which applies GELU again: neither GELU's output (as many bytes as a) nor, with γ, the linear's
/// output is kept. Without γ the gradients are those of the ops, bit for bit; with γ, the gradients of b, W and γ
/// are re-associated through G = dyᵀ·GELU(a) (exact in real arithmetic; f32 rounding differs). Under autocast, a is
/// rounded to bf16 as gelu rounds it, and kept in bf16.
Tensor gelu_linear(const Tensor& a, const Tensor& w, const Tensor& b, const Tensor& gamma = Tensor());
/// linear(x, w, b) times γ (C_out) per column (layer scale), computed as x (γ ⊙rows w)ᵀ + γ ⊙ b: it saves x as
/// linear does and nothing more, where linear then mul would also keep the linear's (R, C_out) output for dγ and
/// make two (R, C_out) passes more. The gradients are re-associated as in gelu_linear's. Without γ, linear.
Tensor scaled_linear(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& gamma);
/// softmax(q kᵀ · scale) v over the last two dims: q (..., Nq, D), k and v (..., Nk, D) -> (..., Nq, D).
/// Saves q, k, v (v only when q or k needs a gradient) and one log-sum-exp per query row; the backward recomputes
/// the probabilities. Under autocast (core/autocast.h), q, k, v are rounded to bf16 and kept so, and every product
/// takes bf16 operands (the probabilities, dout and dS rounded too) with f32 sums; softmax and outputs are f32.
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale);
/// Reorders dims (an explicit copy): out.shape[i] = x.shape[dims[i]].
Tensor permute(const Tensor& x, const std::vector<std::int64_t>& dims);
/// unbind(permute(x, dims), 0) without the whole permuted tensor: each slice is written straight from x, and
/// the backward reads the slices' gradients straight into dx (one pass each way instead of two). 1 to 4 slices.
std::vector<Tensor> permute_unbind(const Tensor& x, const std::vector<std::int64_t>& dims);
/// Joins tensors along `axis`; all other dims must agree.
Tensor concat(const std::vector<Tensor>& parts, std::int64_t axis);
/// Multiplies each row r of x (viewed as (R, ...)) by s[r]; s (R) gets no gradient.
Tensor scale_rows(const Tensor& x, const Tensor& s);

/// 2-D convolution, channels-last: x (B, H, W, I), w (O, I, kh, kw) as in PyTorch, b (O) or undefined
/// -> (B, Ho, Wo, O) with Ho = (H + 2·ph − kh) / sh + 1, likewise Wo; zero padding.
/// kernel == stride with no padding (ViT / ConvNeXt patch embedding) runs as a reshuffle and one GEMM.
/// Under autocast (core/autocast.h), the convolution of x and w rounded to bf16 (x kept so); in backward dy is
/// rounded for dx and dw, and db sums dy itself.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, std::array<std::int64_t, 2> stride = {1, 1},
              std::array<std::int64_t, 2> padding = {0, 0});
/// Depthwise 2-D convolution (groups = C), channels-last: x (B, H, W, C), w (C, 1, kh, kw), b (C) or undefined
/// -> (B, Ho, Wo, C), with Ho and Wo as for conv2d; under autocast, rounded as conv2d is.
Tensor depthwise_conv2d(const Tensor& x, const Tensor& w, const Tensor& b, std::array<std::int64_t, 2> stride = {1, 1},
                        std::array<std::int64_t, 2> padding = {0, 0});
/// s x s pixel blocks to channels: (B, H, W, C) -> (B, H/s, W/s, s·s·C),
/// out[b, i, j, (dy·s + dx)·C + c] = x[b, i·s + dy, j·s + dx, c]; H and W must divide by s. Any dtype.
Tensor space_to_depth(const Tensor& x, std::int64_t s);
/// The inverse of space_to_depth: (B, H, W, s·s·C) -> (B, H·s, W·s, C). Any dtype.
Tensor depth_to_space(const Tensor& x, std::int64_t s);

// Not recorded by autograd:
/// argmax over the last dim: (R, C) -> (R) i64.
Tensor argmax(const Tensor& x);
/// Euclidean norm of all elements.
double l2_norm(const Tensor& x);

}  // namespace bplab
