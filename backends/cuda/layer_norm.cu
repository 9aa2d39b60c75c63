// backends/cuda/layer_norm.cu — layer norm over the last dim: one warp per row forward and for dx (rows are
// short: 96 to 768); dw and db as per-chunk column sums reduced by sum_axis. Twin of backends/cpu/layer_norm.cpp.
#include "backends/cuda/kernels.cuh"

namespace bplab::cuda {
namespace {

template <class T>
__global__ void layer_norm_forward_kernel(T* y, T* mean, T* rstd, const T* x, const T* w, const T* b,
                                          std::int64_t rows, std::int64_t cols, T eps) {
    const std::int64_t r = warp_row(rows);
    if (r < 0) return;
    const T* row = x + r * cols;
    T s = 0;
    for (std::int64_t c = threadIdx.x; c < cols; c += 32) s += row[c];
    const T mu = warp_sum(s) / static_cast<T>(cols);
    T q = 0;
    for (std::int64_t c = threadIdx.x; c < cols; c += 32) q += (row[c] - mu) * (row[c] - mu);
    const T inv = T(1) / sqrt(warp_sum(q) / static_cast<T>(cols) + eps);
    for (std::int64_t c = threadIdx.x; c < cols; c += 32) {
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
                                     std::int64_t rows, std::int64_t cols) {
    const std::int64_t r = warp_row(rows);
    if (r < 0) return;
    const std::int64_t base = r * cols;
    const T mu = mean[r], inv = rstd[r];
    T sg = 0, sgx = 0;
    for (std::int64_t c = threadIdx.x; c < cols; c += 32) {
        const T g = w ? dy[base + c] * w[c] : dy[base + c];
        sg += g;
        sgx += g * (x[base + c] - mu) * inv;
    }
    const T mg = warp_sum(sg) / static_cast<T>(cols), mgx = warp_sum(sgx) / static_cast<T>(cols);
    for (std::int64_t c = threadIdx.x; c < cols; c += 32) {
        const T g = w ? dy[base + c] * w[c] : dy[base + c];
        dx[base + c] = inv * (g - mg - (x[base + c] - mu) * inv * mgx);
    }
}

/// Partial column sums over one chunk of rows, as sum_axis's column kernel (32 columns × kTileRows warps per
/// block): pw[chunk, c] = Σ dy x̂, pb[chunk, c] = Σ dy.
template <class T>
__global__ void layer_norm_dwdb_kernel(T* pw, T* pb, const T* dy, const T* x, const T* mean, const T* rstd,
                                       std::int64_t rows, std::int64_t cols, std::int64_t per) {
    __shared__ T part_w[kTileRows][32], part_b[kTileRows][32];
    const std::int64_t c = blockIdx.x * std::int64_t{32} + threadIdx.x;
    const std::int64_t r0 = blockIdx.y * per, r1 = r0 + per < rows ? r0 + per : rows;
    T sw = 0, sb = 0;
    if (c < cols)
        for (std::int64_t r = r0 + threadIdx.y; r < r1; r += kTileRows) {
            const T g = dy[r * cols + c];
            sw += g * (x[r * cols + c] - mean[r]) * rstd[r];
            sb += g;
        }
    part_w[threadIdx.y][threadIdx.x] = sw;
    part_b[threadIdx.y][threadIdx.x] = sb;
    __syncthreads();
    if (threadIdx.y == 0 && c < cols) {
        T tw = 0, tb = 0;
        for (int k = 0; k < kTileRows; ++k) {
            tw += part_w[k][threadIdx.x];
            tb += part_b[k][threadIdx.x];
        }
        pw[blockIdx.y * cols + c] = tw;
        pb[blockIdx.y * cols + c] = tb;
    }
}

}  // namespace

void CudaBackend::layer_norm_forward(Tensor& y, Tensor& mean, Tensor& rstd, const Tensor& x, const Tensor& w,
                                     const Tensor& b, double eps) {
    const std::int64_t cols = x.size(-1), rows = rows_of(x);
    if (rows == 0) return;
    dispatch_float("layer_norm", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        layer_norm_forward_kernel<<<row_blocks(rows), dim3(32, kRowsPerBlock)>>>(
            y.data<T>(), mean.data<T>(), rstd.data<T>(), x.data<T>(), w.defined() ? w.data<T>() : nullptr,
            b.defined() ? b.data<T>() : nullptr, rows, cols, static_cast<T>(eps));
    });
    BPLAB_CUDA_LAUNCHED();
}

void CudaBackend::layer_norm_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x,
                                      const Tensor& w, const Tensor& mean, const Tensor& rstd) {
    const std::int64_t cols = x.size(-1), rows = rows_of(x);
    if (rows == 0) {
        if (dw.defined()) fill(dw, 0.0);
        if (db.defined()) fill(db, 0.0);
        return;
    }
    dispatch_float("layer_norm backward", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        if (dx.defined()) {
            layer_norm_dx_kernel<<<row_blocks(rows), dim3(32, kRowsPerBlock)>>>(
                dx.data<T>(), dy.data<T>(), x.data<T>(), w.defined() ? w.data<T>() : nullptr, mean.data<T>(),
                rstd.data<T>(), rows, cols);
            BPLAB_CUDA_LAUNCHED();
        }
        if (dw.defined() || db.defined()) {
            const std::int64_t chunks = column_chunks(rows, cols), per = (rows + chunks - 1) / chunks;
            Tensor pw = scratch({chunks, cols}, x.dtype()), pb = scratch({chunks, cols}, x.dtype());
            const dim3 grid(static_cast<unsigned>((cols + 31) / 32), static_cast<unsigned>(chunks));
            layer_norm_dwdb_kernel<<<grid, dim3(32, kTileRows)>>>(pw.data<T>(), pb.data<T>(), dy.data<T>(), x.data<T>(),
                                                                  mean.data<T>(), rstd.data<T>(), rows, cols, per);
            BPLAB_CUDA_LAUNCHED();
            if (dw.defined()) sum_axis(dw, pw, 1, chunks, cols);
            if (db.defined()) sum_axis(db, pb, 1, chunks, cols);
        }
    });
}

}  // namespace bplab::cuda
