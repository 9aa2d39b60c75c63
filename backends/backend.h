// backends/backend.h — the one interface between bplab's ops and the hardware.
// Kernels work on tensors whose shapes the front end (core/ops) has already checked.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace bplab {

enum class BinaryOp { add, sub, mul, div };

/// R of x seen as (R, C), C its last dim; 0 when C is 0 (such rows hold nothing to compute).
inline std::int64_t rows_of(const Tensor& x) {
    if (x.dim() == 0) return 1;
    return x.size(-1) > 0 ? x.numel() / x.size(-1) : 0;
}

/// R of a linear, from its y or dy (R, O), or from x (R, I) when O is 0 (x may stand in for its shape only).
inline std::int64_t linear_rows(const Tensor& y, const Tensor& x) {
    if (y.size(-1) > 0) return y.numel() / y.size(-1);
    return x.size(-1) > 0 ? x.numel() / x.size(-1) : 0;
}

/// Layer-sized forward/backward kernels. Conventions, kept by every backend:
/// - outputs come first and are allocated by the caller, with the right shape and dtype;
/// - float kernels accept f32 and f64 (the CPU backend) and all operands share one dtype, but for the linear
///   layer's bf16 operands under autocast;
/// - `x` (R, C) means: the tensor viewed as R rows of C contiguous elements (C = last dim);
/// - backward kernels write (`=`) their gradients; accumulation (`+=`) is `axpy`, used by the
///   autograd engine for parameters and by optimisers.
class Backend {
public:
    virtual ~Backend() = default;

    /// Waits until the work queued so far has finished (a device backend runs asynchronously; the CPU does not).
    virtual void synchronize() {}

    // memory
    virtual void fill(Tensor& out, double value) = 0;
    /// Same shape and dtype; on a device backend, either side may be on the CPU.
    virtual void copy(Tensor& dst, const Tensor& src) = 0;
    virtual void cast(Tensor& dst, const Tensor& src) = 0;
    /// (B, M, N) -> (B, N, M)
    virtual void transpose(Tensor& out, const Tensor& x) = 0;

    // linear algebra
    /// out (B, M, N) = op(a) op(b), op = transpose of the last two dims when asked.
    /// a has B batches; b has B batches or one (shared). `accumulate` adds to out instead of writing.
    virtual void matmul(Tensor& out, const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, bool accumulate) = 0;
    /// y (R, O) = x (R, I) · wᵀ (I, O) + b (O); b may be undefined.
    /// Autocast (core/autocast.h): x and w may both be bf16, with y and b f32: the products of the bf16 values,
    /// summed in f32.
    virtual void linear_forward(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b) = 0;
    /// dx (R, I) = dy · w; dw (O, I) = dyᵀ · x; db (O) = Σ_rows dy. Undefined outputs are skipped; x is read only
    /// for dw. Autocast: with a bf16 w (and, for dw, a bf16 x), dy (f32) is rounded to bf16 for the two products,
    /// which sum in f32; dx, dw and db are f32, and db sums dy itself.
    virtual void linear_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x, const Tensor& w) = 0;

    // elementwise
    /// out = a op b, where b has a's shape, a's trailing shape (broadcast over leading dims) or one element.
    virtual void binary(Tensor& out, const Tensor& a, const Tensor& b, BinaryOp op) = 0;
    /// out = s · a
    virtual void scale(Tensor& out, const Tensor& a, double s) = 0;
    /// y += alpha · x (same shapes)
    virtual void axpy(Tensor& y, const Tensor& x, double alpha) = 0;

    // reductions, viewing x as (outer, n, inner) around the reduced axis
    /// out (outer, inner) = Σ_n x (outer, n, inner)
    virtual void sum_axis(Tensor& out, const Tensor& x, std::int64_t outer, std::int64_t n, std::int64_t inner) = 0;
    /// out (outer, n, inner) = x (outer, inner) repeated n times (the backward of sum_axis)
    virtual void repeat_axis(Tensor& out, const Tensor& x, std::int64_t outer, std::int64_t n, std::int64_t inner) = 0;
    /// out (1) F64 = Σ x², summed in f64 (an f32 sum overflows from norms of about 1.8e19)
    virtual void sum_squares(Tensor& out, const Tensor& x) = 0;
    /// out (R) i64 = argmax over the last dim of x (R, C)
    virtual void argmax_rows(Tensor& out, const Tensor& x) = 0;

    // activations
    virtual void relu_forward(Tensor& y, const Tensor& x) = 0;
    /// dx = dy where y > 0 else 0
    virtual void relu_backward(Tensor& dx, const Tensor& dy, const Tensor& y) = 0;
    /// y = x Φ(x) = x (1 + erf(x/√2)) / 2
    virtual void gelu_forward(Tensor& y, const Tensor& x) = 0;
    /// dx = dy (Φ(x) + x φ(x)); element-wise, so dx may be dy itself (gelu_linear's backward writes in place).
    virtual void gelu_backward(Tensor& dx, const Tensor& dy, const Tensor& x) = 0;
    /// Over the last dim of (R, C).
    virtual void softmax_forward(Tensor& y, const Tensor& x) = 0;
    /// dx = y ⊙ (dy − Σ_c dy ⊙ y)
    virtual void softmax_backward(Tensor& dx, const Tensor& dy, const Tensor& y) = 0;
    virtual void log_softmax_forward(Tensor& y, const Tensor& x) = 0;
    /// dx = dy − exp(y) Σ_c dy
    virtual void log_softmax_backward(Tensor& dx, const Tensor& dy, const Tensor& y) = 0;
    /// loss (1) = mean_r [ −(1−ε) logp[r, y_r] − ε/C Σ_c logp[r, c] ]; also writes logp (R, C).
    /// labels (R) are i64 in [0, C); the caller has checked them.
    virtual void cross_entropy_forward(Tensor& loss, Tensor& logp, const Tensor& logits, const Tensor& labels,
                                       double smoothing) = 0;
    /// dlogits = dloss / R · (softmax − ((1−ε) onehot + ε/C)); dloss is a one-element tensor.
    virtual void cross_entropy_backward(Tensor& dlogits, const Tensor& dloss, const Tensor& logp, const Tensor& labels,
                                        double smoothing) = 0;

    // rows along one axis, viewing x as (outer, n, inner); idx (k) i64 in [0, n)
    /// out (outer, k, inner) = x[:, idx, :]
    virtual void gather_rows(Tensor& out, const Tensor& x, const Tensor& idx, std::int64_t outer, std::int64_t n,
                             std::int64_t inner) = 0;
    /// out[:, idx, :] = src (outer, k, inner); other rows of out are left as they are
    virtual void scatter_rows(Tensor& out, const Tensor& src, const Tensor& idx, std::int64_t outer, std::int64_t n,
                              std::int64_t inner) = 0;
    /// out[:, idx, :] = value
    virtual void fill_rows(Tensor& out, const Tensor& idx, double value, std::int64_t outer, std::int64_t n,
                           std::int64_t inner) = 0;

    // layers
    /// y (R, C) = (x − mean) · rstd · w + b over the last dim; also writes mean (R) and rstd (R).
    virtual void layer_norm_forward(Tensor& y, Tensor& mean, Tensor& rstd, const Tensor& x, const Tensor& w,
                                    const Tensor& b, double eps) = 0;
    /// dx (R, C), dw (C), db (C) from dy; undefined outputs are skipped.
    virtual void layer_norm_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x,
                                     const Tensor& w, const Tensor& mean, const Tensor& rstd) = 0;
    /// out (G, Nq, D) = softmax(q kᵀ · scale) v for G = batch·heads groups; q (G, Nq, D), k, v (G, Nk, D).
    /// Writes lse (G, Nq), the log-sum-exp of each score row, which is all the backward keeps besides q, k, v.
    /// Autocast (core/autocast.h): q, k, v (and in backward dout) may all be bf16, with out, lse, dq, dk, dv f32:
    /// every product reads bf16 operands, the probabilities and dS rounded to bf16 before theirs, and sums in
    /// f32; the softmax and its gradient are computed in f32.
    virtual void attention_forward(Tensor& out, Tensor& lse, const Tensor& q, const Tensor& k, const Tensor& v,
                                   double scale) = 0;
    /// dq, dk, dv from dout, recomputing the probabilities from q, k and lse. v may be undefined when dq and dk are
    /// (dv needs no v).
    virtual void attention_backward(Tensor& dq, Tensor& dk, Tensor& dv, const Tensor& dout, const Tensor& q,
                                    const Tensor& k, const Tensor& v, const Tensor& lse, double scale) = 0;
    /// Parts per side of permute_parts, at most.
    static constexpr std::size_t kMaxPermuteParts = 4;
    /// The permute of a tensor held in parts. The whole x, of shape x_shape, is the tensors of xs one after the
    /// other (equal parts along dim 0); the whole out, x_shape with its dims reordered (out_shape[i] =
    /// x_shape[dims[i]]), is the tensors of outs likewise. 1 to kMaxPermuteParts parts per side, and more than
    /// one only for 2 dims or more. Attention splits q, k and v straight out of the packed (B, N, 3, h, d)
    /// projection with it, and joins their gradients back, with no whole permuted tensor in between.
    virtual void permute_parts(const std::vector<Tensor*>& outs, const std::vector<const Tensor*>& xs,
                               const Shape& x_shape, const std::vector<std::int64_t>& dims) = 0;
    /// out = x with its dims reordered: out.shape[i] = x.shape[dims[i]] (an explicit copy).
    void permute(Tensor& out, const Tensor& x, const std::vector<std::int64_t>& dims) {
        permute_parts({&out}, {&x}, x.shape(), dims);
    }
    /// out (R, C) = x (R, C) · s[r] for every row r; s (R).
    virtual void scale_rows(Tensor& out, const Tensor& x, const Tensor& s) = 0;

    // convolution, channels-last: x (B, H, W, C); weights in PyTorch's layouts; zero padding (ph, pw)
    /// y (B, Ho, Wo, O) = x (B, H, W, I) ⋆ w (O, I, kh, kw) + b (O), b may be undefined;
    /// Ho = (H + 2·ph − kh) / sh + 1, likewise Wo.
    virtual void conv2d_forward(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b,
                                std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding) = 0;
    /// dx (B, H, W, I), dw (O, I, kh, kw), db (O) from dy (B, Ho, Wo, O); undefined outputs are skipped.
    virtual void conv2d_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x, const Tensor& w,
                                 std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding) = 0;
    /// y (B, Ho, Wo, C) = each channel of x (B, H, W, C) ⋆ its own filter w (C, 1, kh, kw), + b (C) if defined.
    virtual void depthwise_conv2d_forward(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b,
                                          std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding) = 0;
    /// dx (B, H, W, C), dw (C, 1, kh, kw), db (C) from dy (B, Ho, Wo, C); undefined outputs are skipped.
    virtual void depthwise_conv2d_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x,
                                           const Tensor& w, std::array<std::int64_t, 2> stride,
                                           std::array<std::int64_t, 2> padding) = 0;
    /// out (B, H/s, W/s, s·s·C)[b, i, j, (dy·s + dx)·C + c] = x (B, H, W, C)[b, i·s + dy, j·s + dx, c]; any dtype.
    virtual void space_to_depth(Tensor& out, const Tensor& x, std::int64_t s) = 0;
    /// The inverse permutation: out (B, H, W, C) from x (B, H/s, W/s, s·s·C); any dtype.
    virtual void depth_to_space(Tensor& out, const Tensor& x, std::int64_t s) = 0;

    // images
    /// Crop, pad and mirror each image (data augmentation): out (B, S, S, C)[b, i, j, c] = x (B, H, W, C)[b, r, m, c]
    /// with r = i + dy, col = j + dx, m = flip ? W − 1 − col : col, where (dy, dx, flip) is row b of `placement`
    /// (B, 3) I64 on x's device; `fill` where (r, col) lies outside the image.
    virtual void place_images(Tensor& out, const Tensor& x, const Tensor& placement, double fill) = 0;

    // optimisers
    /// SGD with optional momentum/Nesterov and (coupled) weight decay, in place on param and buf:
    /// g = grad + wd·p; buf = μ·buf + g (if μ > 0); step = nesterov ? g + μ·buf : buf; p −= lr·step.
    virtual void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buf, double lr, double momentum,
                            double weight_decay, bool nesterov) = 0;
    /// AdamW (decoupled weight decay), in place on param, m and v; `step` counts from 1:
    /// p −= lr·wd·p; m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²; p −= lr · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε).
    virtual void adamw_update(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, double lr, double beta1,
                              double beta2, double eps, double weight_decay, std::int64_t step) = 0;
};

/// The backend of a device; throws if bplab has none for it.
Backend& backend_for(Device device);
/// Throws std::invalid_argument, naming `backend`, unless permute_parts can take these parts: 1 to
/// kMaxPermuteParts a side (more than 1 only with 2 dims or more), each holding its equal share of the elements,
/// all of one dtype, and one dim per entry of dims.
void check_permute_parts(const char* backend, const std::vector<Tensor*>& outs, const std::vector<const Tensor*>& xs,
                         const Shape& x_shape, const std::vector<std::int64_t>& dims);
/// Installs the backend for a device type (the CUDA backend calls this at start-up; a BackendProfiler puts
/// itself in front of either device's). Registering nullptr for the CPU restores its built-in backend.
void register_backend(DeviceType type, Backend* backend);

}  // namespace bplab
