// backends/backend.h — the one interface between bplab's ops and the hardware.
// Kernels work on tensors whose shapes the front end (core/ops) has already checked.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace bplab {

enum class BinaryOp { add, sub, mul, div };

/// Layer-sized forward/backward kernels. Conventions, kept by every backend:
/// - outputs come first and are allocated by the caller, with the right shape and dtype;
/// - float kernels accept f32 and f64 (the CPU backend) and all operands share one dtype;
/// - `x` (R, C) means: the tensor viewed as R rows of C contiguous elements (C = last dim);
/// - backward kernels write (`=`) their gradients; accumulation (`+=`) is `axpy`, used by the
///   autograd engine for parameters and by optimisers.
class Backend {
public:
    virtual ~Backend() = default;

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
    virtual void linear_forward(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b) = 0;
    /// dx (R, I) = dy · w; dw (O, I) = dyᵀ · x; db (O) = Σ_rows dy. Undefined outputs are skipped.
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
    /// out (1) = Σ x²
    virtual void sum_squares(Tensor& out, const Tensor& x) = 0;
    /// out (R) i64 = argmax over the last dim of x (R, C)
    virtual void argmax_rows(Tensor& out, const Tensor& x) = 0;

    // activations
    virtual void relu_forward(Tensor& y, const Tensor& x) = 0;
    /// dx = dy where y > 0 else 0
    virtual void relu_backward(Tensor& dx, const Tensor& dy, const Tensor& y) = 0;
    /// y = x Φ(x) = x (1 + erf(x/√2)) / 2
    virtual void gelu_forward(Tensor& y, const Tensor& x) = 0;
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

    // optimisers
    /// SGD with optional momentum/Nesterov and (coupled) weight decay, in place on param and buf:
    /// g = grad + wd·p; buf = μ·buf + g (if μ > 0); step = nesterov ? g + μ·buf : buf; p −= lr·step.
    virtual void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buf, double lr, double momentum,
                            double weight_decay, bool nesterov) = 0;
};

/// The backend of a device; throws if bplab has none for it.
Backend& backend_for(Device device);
/// Installs the backend for a device type (the CUDA backend calls this at start-up).
void register_backend(DeviceType type, Backend* backend);

}  // namespace bplab
