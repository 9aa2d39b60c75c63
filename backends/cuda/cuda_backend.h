// backends/cuda/cuda_backend.h — the GPU twin of backends/cpu/cpu_backend.h: the same Backend interface,
// kernels in .cu files named as their CPU twins, cuBLAS for every GEMM.
#pragma once
#include <cublas_v2.h>

#include "backends/backend.h"
#include "backends/cuda/gemm_bias.h"

namespace bplab::cuda {

class CudaBackend final : public Backend {
public:
    CudaBackend();
    ~CudaBackend() override;

    void synchronize() override;

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

    void conv2d_forward(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b, std::array<std::int64_t, 2> stride,
                        std::array<std::int64_t, 2> padding) override;
    void conv2d_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x, const Tensor& w,
                         std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding) override;
    void depthwise_conv2d_forward(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b,
                                  std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding) override;
    void depthwise_conv2d_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x, const Tensor& w,
                                   std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding) override;
    void space_to_depth(Tensor& out, const Tensor& x, std::int64_t s) override;
    void depth_to_space(Tensor& out, const Tensor& x, std::int64_t s) override;
    void place_images(Tensor& out, const Tensor& x, const Tensor& placement, double fill) override;

    void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buf, double lr, double momentum,
                    double weight_decay, bool nesterov) override;
    void adamw_update(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, double lr, double beta1, double beta2,
                      double eps, double weight_decay, std::int64_t step) override;

    /// f32 matrix products (every GEMM: matmul, linear, attention, convolution) on TF32 tensor cores: operands
    /// rounded to 10 mantissa bits, sums in f32, as PyTorch's allow_tf32. Off by default (exact f32); f64 is exact.
    void set_tf32(bool on);
    bool tf32() const { return tf32_; }

    cublasHandle_t cublas() const { return cublas_; }
    /// cuBLAS's scratch memory, allocated once from the CUDA allocator (so the memory statistics count it).
    const Tensor& cublas_workspace() const { return cublas_workspace_; }

private:
    cublasHandle_t cublas_ = nullptr;
    Tensor cublas_workspace_;  ///< destroyed after the handle (members outlive the destructor's body); cuBLASLt's too
    GemmBias gemm_bias_;
    bool tf32_ = false;
};

/// Selects GPU `index` and registers the CUDA backend and its caching allocator for DeviceType::cuda (once;
/// one GPU per process); throws without a GPU or when asked for another GPU later.
/// `bplab --device cuda` and the CUDA tests call this first.
CudaBackend& install(int index = 0);

}  // namespace bplab::cuda
