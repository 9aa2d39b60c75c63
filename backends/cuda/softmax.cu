// backends/cuda/softmax.cu — softmax, log-softmax and (label-smoothed) cross-entropy over the last dim,
// one block per row; the twin of backends/cpu/softmax.cpp.
#include "backends/cuda/kernels.cuh"

namespace bplab::cuda {
namespace {

/// y = softmax(x) or log_softmax(x) of one row per block.
template <class T, bool Log>
__global__ void softmax_forward_kernel(T* y, const T* x, std::int64_t cols) {
    const T* row = x + blockIdx.x * cols;
    T* out = y + blockIdx.x * cols;
    T m, s;
    row_max_sum_exp(row, cols, m, s);
    const T log_s = log(s);
    for (std::int64_t c = threadIdx.x; c < cols; c += blockDim.x)
        out[c] = Log ? row[c] - m - log_s : exp(row[c] - m) / s;
}

/// softmax: dx = y (dy − Σ dy y); log-softmax: dx = dy − exp(y) Σ dy.
template <class T, bool Log>
__global__ void softmax_backward_kernel(T* dx, const T* dy, const T* y, std::int64_t cols) {
    const std::int64_t base = blockIdx.x * cols;
    T s = 0;
    for (std::int64_t c = threadIdx.x; c < cols; c += blockDim.x) s += Log ? dy[base + c] : dy[base + c] * y[base + c];
    s = block_sum(s);
    for (std::int64_t c = threadIdx.x; c < cols; c += blockDim.x)
        dx[base + c] = Log ? dy[base + c] - exp(y[base + c]) * s : y[base + c] * (dy[base + c] - s);
}

/// row_loss[r] = −(1−ε) logp[r, y_r] − ε/C Σ_c logp[r, c]
template <class T>
__global__ void cross_entropy_rows_kernel(T* row_loss, const T* logp, const std::int64_t* labels, std::int64_t cols,
                                          T smoothing) {
    const T* row = logp + blockIdx.x * cols;
    T s = 0;
    for (std::int64_t c = threadIdx.x; c < cols; c += blockDim.x) s += row[c];
    s = block_sum(s);
    if (threadIdx.x == 0)
        row_loss[blockIdx.x] = -(T(1) - smoothing) * row[labels[blockIdx.x]] - smoothing / static_cast<T>(cols) * s;
}

template <class T>
__global__ void cross_entropy_backward_kernel(T* dlogits, const T* dloss, const T* logp, const std::int64_t* labels,
                                              std::int64_t rows, std::int64_t cols, T smoothing) {
    const T g = dloss[0] / static_cast<T>(rows), off = smoothing / static_cast<T>(cols);
    BPLAB_GRID_STRIDE(i, rows * cols) {
        const std::int64_t r = i / cols, c = i % cols;
        const T target = off + (c == labels[r] ? T(1) - smoothing : T(0));
        dlogits[i] = g * (exp(logp[i]) - target);
    }
}

template <bool Log>
void softmax_forward_rows(Tensor& y, const Tensor& x) {
    const std::int64_t cols = x.size(-1), rows = rows_of(x);
    if (x.numel() == 0) return;
    dispatch_float("softmax", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        softmax_forward_kernel<T, Log><<<static_cast<unsigned>(rows), kThreads>>>(y.data<T>(), x.data<T>(), cols);
    });
    BPLAB_CUDA_LAUNCHED();
}

template <bool Log>
void softmax_backward_rows(Tensor& dx, const Tensor& dy, const Tensor& y) {
    const std::int64_t cols = y.size(-1), rows = rows_of(y);
    if (y.numel() == 0) return;
    dispatch_float("softmax backward", y.dtype(), [&](auto tag) {
        using T = decltype(tag);
        softmax_backward_kernel<T, Log><<<static_cast<unsigned>(rows), kThreads>>>(dx.data<T>(), dy.data<T>(), y.data<T>(), cols);
    });
    BPLAB_CUDA_LAUNCHED();
}

}  // namespace

void CudaBackend::softmax_forward(Tensor& y, const Tensor& x) { softmax_forward_rows<false>(y, x); }
void CudaBackend::softmax_backward(Tensor& dx, const Tensor& dy, const Tensor& y) { softmax_backward_rows<false>(dx, dy, y); }
void CudaBackend::log_softmax_forward(Tensor& y, const Tensor& x) { softmax_forward_rows<true>(y, x); }
void CudaBackend::log_softmax_backward(Tensor& dx, const Tensor& dy, const Tensor& y) { softmax_backward_rows<true>(dx, dy, y); }

void CudaBackend::cross_entropy_forward(Tensor& loss, Tensor& logp, const Tensor& logits, const Tensor& labels,
                                        double smoothing) {
    const std::int64_t cols = logits.size(-1), rows = rows_of(logits);
    log_softmax_forward(logp, logits);
    if (rows == 0) return fill(loss, 0.0);
    Tensor row_loss = scratch({rows}, logits.dtype());
    dispatch_float("cross_entropy", logits.dtype(), [&](auto tag) {
        using T = decltype(tag);
        cross_entropy_rows_kernel<<<static_cast<unsigned>(rows), kThreads>>>(
            row_loss.data<T>(), logp.data<T>(), labels.data<std::int64_t>(), cols, static_cast<T>(smoothing));
    });
    BPLAB_CUDA_LAUNCHED();
    sum_axis(loss, row_loss, 1, rows, 1);
    scale(loss, loss, 1.0 / static_cast<double>(rows));
}

void CudaBackend::cross_entropy_backward(Tensor& dlogits, const Tensor& dloss, const Tensor& logp, const Tensor& labels,
                                         double smoothing) {
    const std::int64_t cols = logp.size(-1), rows = rows_of(logp);
    if (rows == 0) return;
    dispatch_float("cross_entropy backward", logp.dtype(), [&](auto tag) {
        using T = decltype(tag);
        cross_entropy_backward_kernel<<<blocks_for(rows * cols), kThreads>>>(
            dlogits.data<T>(), dloss.data<T>(), logp.data<T>(), labels.data<std::int64_t>(), rows, cols, static_cast<T>(smoothing));
    });
    BPLAB_CUDA_LAUNCHED();
}

}  // namespace bplab::cuda
