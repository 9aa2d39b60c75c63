// backends/cuda/layer_norm.cu — layer norm over the last dim: one block per row forward and for dx; dw and db
// as per-chunk column sums reduced by sum_axis. The twin of backends/cpu/layer_norm.cpp.
#include "backends/cuda/kernels.cuh"

namespace bplab::cuda {
namespace {

constexpr std::int64_t kRowChunks = 64;  ///< row chunks of the dw/db column sums

template <class T>
__global__ void layer_norm_forward_kernel(T* y, T* mean, T* rstd, const T* x, const T* w, const T* b, std::int64_t cols,
                                          T eps) {
    const std::int64_t r = blockIdx.x;
    const T* row = x + r * cols;
    T s = 0;
    for (std::int64_t c = threadIdx.x; c < cols; c += blockDim.x) s += row[c];
    const T mu = block_sum(s) / static_cast<T>(cols);
    T q = 0;
    for (std::int64_t c = threadIdx.x; c < cols; c += blockDim.x) q += (row[c] - mu) * (row[c] - mu);
    const T inv = T(1) / sqrt(block_sum(q) / static_cast<T>(cols) + eps);
    for (std::int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
        const T v = (row[c] - mu) * inv;
        y[r * cols + c] = (w ? v * w[c] : v) + (b ? b[c] : T(0));
    }
    if (threadIdx.x == 0) {
        mean[r] = mu;
        rstd[r] = inv;
    }
}

/// dx = rstd (g − mean(g) − x̂ mean(g x̂)), g = dy ⊙ w
template <class T>
__global__ void layer_norm_dx_kernel(T* dx, const T* dy, const T* x, const T* w, const T* mean, const T* rstd,
                                     std::int64_t cols) {
    const std::int64_t r = blockIdx.x, base = r * cols;
    const T mu = mean[r], inv = rstd[r];
    T sg = 0, sgx = 0;
    for (std::int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
        const T g = w ? dy[base + c] * w[c] : dy[base + c];
        sg += g;
        sgx += g * (x[base + c] - mu) * inv;
    }
    const T mg = block_sum(sg) / static_cast<T>(cols), mgx = block_sum(sgx) / static_cast<T>(cols);
    for (std::int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
        const T g = w ? dy[base + c] * w[c] : dy[base + c];
        dx[base + c] = inv * (g - mg - (x[base + c] - mu) * inv * mgx);
    }
}

/// Partial column sums over one chunk of rows: pw[chunk, c] = Σ dy x̂, pb[chunk, c] = Σ dy.
template <class T>
__global__ void layer_norm_dwdb_kernel(T* pw, T* pb, const T* dy, const T* x, const T* mean, const T* rstd,
                                       std::int64_t rows, std::int64_t cols) {
    const std::int64_t c = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
    if (c >= cols) return;
    const std::int64_t per = (rows + gridDim.y - 1) / gridDim.y, r0 = blockIdx.y * per;
    const std::int64_t r1 = r0 + per < rows ? r0 + per : rows;
    T sw = 0, sb = 0;
    for (std::int64_t r = r0; r < r1; ++r) {
        const T g = dy[r * cols + c];
        sw += g * (x[r * cols + c] - mean[r]) * rstd[r];
        sb += g;
    }
    pw[blockIdx.y * cols + c] = sw;
    pb[blockIdx.y * cols + c] = sb;
}

}  // namespace

void CudaBackend::layer_norm_forward(Tensor& y, Tensor& mean, Tensor& rstd, const Tensor& x, const Tensor& w,
                                     const Tensor& b, double eps) {
    const std::int64_t cols = x.size(-1), rows = x.numel() / cols;
    if (rows == 0) return;
    dispatch_float("layer_norm", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        layer_norm_forward_kernel<<<static_cast<unsigned>(rows), kThreads>>>(
            y.data<T>(), mean.data<T>(), rstd.data<T>(), x.data<T>(), w.defined() ? w.data<T>() : nullptr,
            b.defined() ? b.data<T>() : nullptr, cols, static_cast<T>(eps));
    });
    BPLAB_CUDA_LAUNCHED();
}

void CudaBackend::layer_norm_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x,
                                      const Tensor& w, const Tensor& mean, const Tensor& rstd) {
    const std::int64_t cols = x.size(-1), rows = x.numel() / cols;
    if (rows == 0) {
        if (dw.defined()) fill(dw, 0.0);
        if (db.defined()) fill(db, 0.0);
        return;
    }
    dispatch_float("layer_norm backward", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        if (dx.defined()) {
            layer_norm_dx_kernel<<<static_cast<unsigned>(rows), kThreads>>>(
                dx.data<T>(), dy.data<T>(), x.data<T>(), w.defined() ? w.data<T>() : nullptr, mean.data<T>(),
                rstd.data<T>(), cols);
            BPLAB_CUDA_LAUNCHED();
        }
        if (dw.defined() || db.defined()) {
            const std::int64_t chunks = rows < kRowChunks ? rows : kRowChunks;
            Tensor pw = scratch({chunks, cols}, x.dtype()), pb = scratch({chunks, cols}, x.dtype());
            const dim3 grid(static_cast<unsigned>((cols + kThreads - 1) / kThreads), static_cast<unsigned>(chunks));
            layer_norm_dwdb_kernel<<<grid, kThreads>>>(pw.data<T>(), pb.data<T>(), dy.data<T>(), x.data<T>(),
                                                       mean.data<T>(), rstd.data<T>(), rows, cols);
            BPLAB_CUDA_LAUNCHED();
            if (dw.defined()) sum_axis(dw, pw, 1, chunks, cols);
            if (db.defined()) sum_axis(db, pb, 1, chunks, cols);
        }
    });
}

}  // namespace bplab::cuda
