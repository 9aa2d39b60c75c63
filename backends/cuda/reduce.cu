// backends/cuda/reduce.cu — sums over one axis and their backward, the sum of squares (norms, clipping) and
// the argmax of rows; the twin of backends/cpu/reduce.cpp. Sums accumulate in the tensor's own type.
#include <algorithm>

#include "backends/cuda/kernels.cuh"

namespace bplab::cuda {
namespace {

/// One block per (outer, inner-chunk): threads walk n; for inner == 1 the block reduces a whole row.
template <class T>
__global__ void sum_axis_kernel(T* out, const T* x, std::int64_t outer, std::int64_t n, std::int64_t inner) {
    const std::int64_t o = blockIdx.y;
    if (inner == 1) {
        T acc = 0;
        for (std::int64_t r = threadIdx.x; r < n; r += blockDim.x) acc += x[o * n + r];
        acc = block_sum(acc);
        if (threadIdx.x == 0) out[o] = acc;
        return;
    }
    const std::int64_t j = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
    if (j >= inner) return;
    T acc = 0;
    for (std::int64_t r = 0; r < n; ++r) acc += x[(o * n + r) * inner + j];
    out[o * inner + j] = acc;
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
__global__ void sum_squares_kernel(T* partial, const T* x, std::int64_t n) {
    T acc = 0;
    BPLAB_GRID_STRIDE(i, n) acc += x[i] * x[i];
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
    const dim3 grid(inner == 1 ? 1u : static_cast<unsigned>((inner + kThreads - 1) / kThreads), static_cast<unsigned>(outer));
    dispatch_float("sum_axis", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        sum_axis_kernel<<<grid, kThreads>>>(out.data<T>(), x.data<T>(), outer, n, inner);
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
    Tensor partial = scratch({blocks}, x.dtype());
    dispatch_float("sum_squares", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        sum_squares_kernel<<<static_cast<unsigned>(blocks), kThreads>>>(partial.data<T>(), x.data<T>(), x.numel());
    });
    BPLAB_CUDA_LAUNCHED();
    sum_axis(out, partial, 1, blocks, 1);
}

void CudaBackend::argmax_rows(Tensor& out, const Tensor& x) {
    const std::int64_t cols = x.size(-1), rows = x.numel() / cols;
    if (rows == 0) return;
    dispatch_float("argmax_rows", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        argmax_rows_kernel<<<blocks_for(rows), kThreads>>>(out.data<std::int64_t>(), x.data<T>(), rows, cols);
    });
    BPLAB_CUDA_LAUNCHED();
}

}  // namespace bplab::cuda
