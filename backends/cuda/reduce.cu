// backends/cuda/reduce.cu — sums over one axis and their backward, the sum of squares (norms, clipping) and
// the argmax of rows; the twin of backends/cpu/reduce.cpp. Sums accumulate in double, as on the CPU.
#include <algorithm>

#include "backends/cuda/kernels.cuh"

namespace bplab::cuda {
namespace {

constexpr std::int64_t kMaxGrid = 65535;

/// inner == 1: each block sums whole rows (o = blockIdx.x, blockIdx.x + gridDim.x, ...), in double.
template <class T>
__global__ void sum_rows_kernel(T* out, const T* x, std::int64_t outer, std::int64_t n) {
    for (std::int64_t o = blockIdx.x; o < outer; o += gridDim.x) {
        double acc = 0;
        for (std::int64_t r = threadIdx.x; r < n; r += blockDim.x) acc += x[o * n + r];
        acc = block_sum(acc);
        if (threadIdx.x == 0) out[o] = static_cast<T>(acc);
    }
}

/// inner > 1: a block of 32 × kTileRows threads sums 32 neighbouring columns over rows [chunk·per,
/// (chunk+1)·per): each warp reads 32 consecutive elements of a row, the kTileRows warps take every
/// kTileRows-th row, and shared memory adds up their partial sums, in double. out is (outer, chunks, inner);
/// blockIdx.x walks the column tiles, y the chunks, z the outer index.
template <class T>
__global__ void sum_columns_kernel(T* out, const T* x, std::int64_t outer, std::int64_t n, std::int64_t inner,
                                   std::int64_t per) {
    __shared__ double partial[kTileRows][32];
    const std::int64_t j = blockIdx.x * std::int64_t{32} + threadIdx.x;
    const std::int64_t r0 = blockIdx.y * per, r1 = r0 + per < n ? r0 + per : n;
    for (std::int64_t o = blockIdx.z; o < outer; o += gridDim.z) {  // the same trip count for the whole block
        double acc = 0;
        if (j < inner)
            for (std::int64_t r = r0 + threadIdx.y; r < r1; r += kTileRows) acc += x[(o * n + r) * inner + j];
        partial[threadIdx.y][threadIdx.x] = acc;
        __syncthreads();
        if (threadIdx.y == 0 && j < inner) {
            double total = 0;
            for (int k = 0; k < kTileRows; ++k) total += partial[k][threadIdx.x];
            out[(o * gridDim.y + blockIdx.y) * inner + j] = static_cast<T>(total);
        }
        __syncthreads();
    }
}

template <class T>
__global__ void repeat_axis_kernel(T* out, const T* x, std::int64_t total, std::int64_t n, std::int64_t inner) {
    BPLAB_GRID_STRIDE(i, total) {
        const std::int64_t j = i % inner, o = i / (n * inner);
        out[i] = x[o * inner + j];
    }
}

/// One partial sum of squares per block (grid-stride), reduced by sum_axis afterwards.
template <class T>
__global__ void sum_squares_kernel(double* partial, const T* x, std::int64_t n) {
    double acc = 0;
    BPLAB_GRID_STRIDE(i, n) acc += static_cast<double>(x[i]) * x[i];
    acc = block_sum(acc);
    if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

template <class T>
__global__ void argmax_rows_kernel(std::int64_t* out, const T* x, std::int64_t rows, std::int64_t cols) {
    BPLAB_GRID_STRIDE(r, rows) {
        const T* row = x + r * cols;
        std::int64_t best = 0;
        for (std::int64_t c = 1; c < cols; ++c)
            if (row[c] > row[best]) best = c;
        out[r] = best;
    }
}

}  // namespace

void CudaBackend::sum_axis(Tensor& out, const Tensor& x, std::int64_t outer, std::int64_t n, std::int64_t inner) {
    if (out.numel() == 0) return;
    if (n == 0) return fill(out, 0.0);
    dispatch_float("sum_axis", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        if (inner == 1) {
            sum_rows_kernel<<<static_cast<unsigned>(std::min(outer, kMaxGrid)), kThreads>>>(
                out.data<T>(), x.data<T>(), outer, n);
            return;
        }
        // Few outputs over a long axis (a bias gradient over B·H·W rows): split the axis into chunks, enough
        // of them to fill the GPU, sum each in parallel, then sum the chunks.
        const std::int64_t chunks = column_chunks(n, inner, outer), per = (n + chunks - 1) / chunks;
        const dim3 grid(static_cast<unsigned>((inner + 31) / 32), static_cast<unsigned>(chunks),
                        static_cast<unsigned>(std::min(outer, kMaxGrid)));
        const dim3 block(32, kTileRows);
        if (chunks == 1) {
            sum_columns_kernel<<<grid, block>>>(out.data<T>(), x.data<T>(), outer, n, inner, per);
            return;
        }
        Tensor partial = scratch({outer, chunks, inner}, x.dtype());
        sum_columns_kernel<<<grid, block>>>(partial.data<T>(), x.data<T>(), outer, n, inner, per);
        BPLAB_CUDA_LAUNCHED();
        sum_axis(out, partial, outer, chunks, inner);
    });
    BPLAB_CUDA_LAUNCHED();
}

void CudaBackend::repeat_axis(Tensor& out, const Tensor& x, std::int64_t outer, std::int64_t n, std::int64_t inner) {
    const std::int64_t total = outer * n * inner;
    if (total == 0) return;
    dispatch_float("repeat_axis", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        repeat_axis_kernel<<<blocks_for(total), kThreads>>>(out.data<T>(), x.data<T>(), total, n, inner);
    });
    BPLAB_CUDA_LAUNCHED();
}

void CudaBackend::sum_squares(Tensor& out, const Tensor& x) {
    const std::int64_t blocks = std::min<std::int64_t>(blocks_for(x.numel()), 1024);
    Tensor partial = scratch({blocks}, DType::f64);
    dispatch_float("sum_squares", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        sum_squares_kernel<<<static_cast<unsigned>(blocks), kThreads>>>(partial.data<double>(), x.data<T>(), x.numel());
    });
    BPLAB_CUDA_LAUNCHED();
    sum_axis(out, partial, 1, blocks, 1);
}

void CudaBackend::argmax_rows(Tensor& out, const Tensor& x) {
    const std::int64_t cols = x.size(-1), rows = rows_of(x);
    if (rows == 0) return;
    dispatch_float("argmax_rows", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        argmax_rows_kernel<<<blocks_for(rows), kThreads>>>(out.data<std::int64_t>(), x.data<T>(), rows, cols);
    });
    BPLAB_CUDA_LAUNCHED();
}

}  // namespace bplab::cuda
