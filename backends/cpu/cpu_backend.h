// backends/cpu/cpu_backend.h — the CPU reference backend (Eigen for GEMM, OpenMP for loops).
// Each group of kernels lives in its own file (matmul.cpp, softmax.cpp, ...), named as its CUDA twin.
#pragma once
#include <stdexcept>
#include <string>

#include "backends/backend.h"
#include "backends/dispatch.h"

namespace bplab {

class CpuBackend final : public Backend {
public:
    void fill(Tensor& out, double value) override;
    void copy(Tensor& dst, const Tensor& src) override;
    void cast(Tensor& dst, const Tensor& src) override;
    void transpose(Tensor& out, const Tensor& x) override;

    void matmul(Tensor& out, const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, bool accumulate) override;
    void linear_forward(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b) override;
    void linear_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x, const Tensor& w) override;

    void binary(Tensor& out, const Tensor& a, const Tensor& b, BinaryOp op) override;
    void scale(Tensor& out, const Tensor& a, double s) override;
    void axpy(Tensor& y, const Tensor& x, double alpha) override;

    void sum_axis(Tensor& out, const Tensor& x, std::int64_t outer, std::int64_t n, std::int64_t inner) override;
    void repeat_axis(Tensor& out, const Tensor& x, std::int64_t outer, std::int64_t n, std::int64_t inner) override;
    void sum_squares(Tensor& out, const Tensor& x) override;
    void argmax_rows(Tensor& out, const Tensor& x) override;

    void relu_forward(Tensor& y, const Tensor& x) override;
    void relu_backward(Tensor& dx, const Tensor& dy, const Tensor& y) override;
    void gelu_forward(Tensor& y, const Tensor& x) override;
    void gelu_backward(Tensor& dx, const Tensor& dy, const Tensor& x) override;
    void softmax_forward(Tensor& y, const Tensor& x) override;
    void softmax_backward(Tensor& dx, const Tensor& dy, const Tensor& y) override;
    void log_softmax_forward(Tensor& y, const Tensor& x) override;
    void log_softmax_backward(Tensor& dx, const Tensor& dy, const Tensor& y) override;
    void cross_entropy_forward(Tensor& loss, Tensor& logp, const Tensor& logits, const Tensor& labels,
                               double smoothing) override;
    void cross_entropy_backward(Tensor& dlogits, const Tensor& dloss, const Tensor& logp, const Tensor& labels,
                                double smoothing) override;

    void gather_rows(Tensor& out, const Tensor& x, const Tensor& idx, std::int64_t outer, std::int64_t n,
                     std::int64_t inner) override;
    void scatter_rows(Tensor& out, const Tensor& src, const Tensor& idx, std::int64_t outer, std::int64_t n,
                      std::int64_t inner) override;
    void fill_rows(Tensor& out, const Tensor& idx, double value, std::int64_t outer, std::int64_t n,
                   std::int64_t inner) override;

    void layer_norm_forward(Tensor& y, Tensor& mean, Tensor& rstd, const Tensor& x, const Tensor& w, const Tensor& b,
                            double eps) override;
    void layer_norm_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x, const Tensor& w,
                             const Tensor& mean, const Tensor& rstd) override;
    void attention_forward(Tensor& out, Tensor& lse, const Tensor& q, const Tensor& k, const Tensor& v,
                           double scale) override;
    void attention_backward(Tensor& dq, Tensor& dk, Tensor& dv, const Tensor& dout, const Tensor& q, const Tensor& k,
                            const Tensor& v, const Tensor& lse, double scale) override;
    void permute_parts(const std::vector<Tensor*>& outs, const std::vector<const Tensor*>& xs, const Shape& x_shape,
                       const std::vector<std::int64_t>& dims) override;
    void scale_rows(Tensor& out, const Tensor& x, const Tensor& s) override;

    void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buf, double lr, double momentum,
                    double weight_decay, bool nesterov) override;
    void adamw_update(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, double lr, double beta1, double beta2,
                      double eps, double weight_decay, std::int64_t step) override;

    void conv2d_forward(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b, std::array<std::int64_t, 2> stride,
                        std::array<std::int64_t, 2> padding) override;
    void conv2d_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x, const Tensor& w,
                         std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding) override;
    void depthwise_conv2d_forward(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b,
                                  std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding) override;
    void depthwise_conv2d_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x,
                                   const Tensor& w, std::array<std::int64_t, 2> stride,
                                   std::array<std::int64_t, 2> padding) override;
    void space_to_depth(Tensor& out, const Tensor& x, std::int64_t s) override;
    void depth_to_space(Tensor& out, const Tensor& x, std::int64_t s) override;
    void place_images(Tensor& out, const Tensor& x, const Tensor& placement, double fill) override;
};

namespace cpu {

/// bplab::dispatch_float for the CPU's kernels (errors say "cpu <op>").
template <class F>
void dispatch_float(const char* op, DType dtype, F&& f) {
    bplab::dispatch_float("cpu", op, dtype, std::forward<F>(f));
}

/// Below this many elements a loop runs on one thread (thread start-up costs more than it saves).
constexpr std::int64_t kParallelGrain = 1 << 15;

}  // namespace cpu
}  // namespace bplab
