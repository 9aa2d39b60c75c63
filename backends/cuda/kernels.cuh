// backends/cuda/kernels.cuh — what every .cu file of the backend shares: launch sizes, the float dispatch,
// scratch tensors and block-wide reductions.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "backends/cuda/check.h"
#include "backends/dispatch.h"
#include "backends/cuda/cuda_backend.h"

namespace bplab::cuda {

constexpr int kThreads = 256;

/// Blocks for a grid-stride loop over n elements (capped: the loop covers the rest).
inline unsigned blocks_for(std::int64_t n) {
    const std::int64_t b = (n + kThreads - 1) / kThreads;
    return static_cast<unsigned>(b < 1 ? 1 : (b > 65535 * 8 ? 65535 * 8 : b));
}

/// Checks the last launch (asynchronous errors surface at the next synchronising call).
#define BPLAB_CUDA_LAUNCHED() BPLAB_CUDA_CHECK(cudaGetLastError())

/// bplab::dispatch_float for the GPU's kernels (errors say "cuda <op>").
template <class F>
void dispatch_float(const char* op, DType dtype, F&& f) {
    bplab::dispatch_float("cuda", op, dtype, std::forward<F>(f));
}

/// The usual element-wise launch: nothing for n = 0, else `kernel(T{})` for the dtype's float type, then the
/// launch check.
template <class Kernel>
void launch_float(const char* op, DType dtype, std::int64_t n, Kernel&& kernel) {
    if (n == 0) return;
    dispatch_float(op, dtype, std::forward<Kernel>(kernel));
    BPLAB_CUDA_LAUNCHED();
}

/// A scratch tensor on the GPU (counted by the allocator like any other).
inline Tensor scratch(const Shape& shape, DType dtype) { return Tensor::empty(shape, dtype, Device::cuda()); }

#define BPLAB_GRID_STRIDE(i, n) BPLAB_GRID_STRIDE_AS(std::int64_t, i, n)

/// A grid-stride loop with an index of type I (see dispatch_index).
#define BPLAB_GRID_STRIDE_AS(I, i, n) \
    for (I i = blockIdx.x * static_cast<I>(blockDim.x) + threadIdx.x; i < (n); i += static_cast<I>(blockDim.x) * gridDim.x)

/// Calls f(I{}) with I = std::uint32_t when n < 2³¹ (the grid-stride step past n cannot wrap), else
/// std::uint64_t: kernels that split a flat index into coordinates divide 3–10 times per element, and a 32-bit
/// division costs a fraction of a 64-bit one.
template <class F>
void dispatch_index(std::int64_t n, F&& f) {
    if (n < (std::int64_t{1} << 31)) f(std::uint32_t{});
    else f(std::uint64_t{});
}

/// Sum of `value` over the 32 lanes of a warp, returned to every lane (all lanes must take part).
template <class T>
__device__ T warp_sum(T value) {
    for (int offset = 16; offset > 0; offset /= 2) value += __shfl_xor_sync(0xffffffffu, value, offset);
    return value;
}

/// Maximum of `value` over the 32 lanes of a warp (as warp_sum).
template <class T>
__device__ T warp_max(T value) {
    for (int offset = 16; offset > 0; offset /= 2) {
        const T other = __shfl_xor_sync(0xffffffffu, value, offset);
        value = other > value ? other : value;
    }
    return value;
}

/// Kernels over many short rows (layer norm over C, attention's softmax over keys) give each row one warp:
/// blocks of (32, kRowsPerBlock) threads, row blockIdx.x · kRowsPerBlock + threadIdx.y.
constexpr int kRowsPerBlock = kThreads / 32;
inline unsigned row_blocks(std::int64_t rows) { return static_cast<unsigned>((rows + kRowsPerBlock - 1) / kRowsPerBlock); }

/// This warp's row, or −1 past the end (whole warps leave together, so the warp shuffles that follow see
/// all 32 lanes).
__device__ inline std::int64_t warp_row(std::int64_t rows) {
    const std::int64_t r = blockIdx.x * static_cast<std::int64_t>(kRowsPerBlock) + threadIdx.y;
    return r < rows ? r : -1;
}

/// The maximum m and Σ exp(row − m) of one row, computed by one warp (lane = threadIdx.x).
template <class T>
__device__ void warp_row_max_sum_exp(const T* row, std::int64_t cols, T& m, T& sum) {
    T local = -INFINITY;
    for (std::int64_t c = threadIdx.x; c < cols; c += 32) local = row[c] > local ? row[c] : local;
    m = warp_max(local);
    T s = 0;
    for (std::int64_t c = threadIdx.x; c < cols; c += 32) s += exp(row[c] - m);
    sum = warp_sum(s);
}

/// Column sums of an (n, inner) matrix run as blocks of 32 columns × kTileRows warps over chunks of rows:
/// how many chunks, so that about kTargetBlocks blocks fill the GPU and each chunk has ≥ 8 rows per warp.
constexpr int kTileRows = 8;
inline std::int64_t column_chunks(std::int64_t n, std::int64_t inner, std::int64_t outer = 1) {
    constexpr std::int64_t kTargetBlocks = 1024, kMaxGrid = 65535;
    const std::int64_t blocks = (inner + 31) / 32 * (outer < kMaxGrid ? outer : kMaxGrid);
    std::int64_t chunks = (kTargetBlocks + blocks - 1) / blocks;
    if (chunks > n / (kTileRows * 8)) chunks = n / (kTileRows * 8);
    if (chunks > kMaxGrid) chunks = kMaxGrid;
    return chunks < 1 ? 1 : chunks;
}

/// Sum of `value` over a block of kThreads threads; the result is valid in thread 0 (and returned to all).
template <class T>
__device__ T block_sum(T value) {
    __shared__ T partial[kThreads / 32];
    for (int offset = 16; offset > 0; offset /= 2) value += __shfl_down_sync(0xffffffffu, value, offset);
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    if (lane == 0) partial[warp] = value;
    __syncthreads();
    T total = 0;
    if (threadIdx.x == 0)
        for (int w = 0; w < kThreads / 32; ++w) total += partial[w];
    __shared__ T result;
    if (threadIdx.x == 0) result = total;
    __syncthreads();
    const T out = result;
    __syncthreads();  // partial/result may be reused by the caller's next block_sum
    return out;
}

/// Maximum of `value` over the block (as block_sum).
template <class T>
__device__ T block_max(T value) {
    __shared__ T partial[kThreads / 32];
    for (int offset = 16; offset > 0; offset /= 2) {
        const T other = __shfl_down_sync(0xffffffffu, value, offset);
        value = other > value ? other : value;
    }
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    if (lane == 0) partial[warp] = value;
    __syncthreads();
    __shared__ T result;
    if (threadIdx.x == 0) {
        T m = partial[0];
        for (int w = 1; w < kThreads / 32; ++w) m = partial[w] > m ? partial[w] : m;
        result = m;
    }
    __syncthreads();
    const T out = result;
    __syncthreads();
    return out;
}

/// The maximum m and Σ exp(row − m) of one row, computed by the whole block (the numerically safe softmax).
template <class T>
__device__ void row_max_sum_exp(const T* row, std::int64_t cols, T& m, T& sum) {
    T local = -INFINITY;
    for (std::int64_t c = threadIdx.x; c < cols; c += blockDim.x) local = row[c] > local ? row[c] : local;
    m = block_max(local);
    T s = 0;
    for (std::int64_t c = threadIdx.x; c < cols; c += blockDim.x) s += exp(row[c] - m);
    sum = block_sum(s);
}

}  // namespace bplab::cuda
