// backends/cuda/depthwise_conv2d.cu — per-channel conv on channels-last tensors (ConvNeXt's 7×7), twin of the CPU
// file: channel fastest, weights tap-major, runs of output columns per thread at stride 1, dx as a flipped forward,
// dw with every tap's sum in registers while a thread walks output rows.
#include <type_traits>

#include "backends/cuda/conv_windows.cuh"
#include "backends/cuda/kernels.cuh"

namespace bplab::cuda {
namespace {

using cpu::ConvGeometry;

constexpr std::int64_t kPositionChunks = 128;  ///< chunks of output positions in the dw reduction

/// wt (taps, C) = w (C, 1, kh, kw) with the taps first, reversed when `flip` (a 180° turn of every filter).
template <class T>
__global__ void weights_by_tap_kernel(T* wt, const T* w, std::int64_t c, std::int64_t taps, bool flip) {
    BPLAB_GRID_STRIDE(i, c * taps) {
        const std::int64_t ch = i % c, tap = i / c;
        wt[i] = w[ch * taps + (flip ? taps - 1 - tap : tap)];
    }
}

/// y (B, Ho, Wo, C) = x ⋆ filters, with wt (taps, C) tap-major; I splits y's flat index (see dispatch_index).
template <class T, class I>
__global__ void dw_forward_kernel(T* y, const T* x, const T* wt, const T* b, ConvGeometry g, I n) {
    const I c = static_cast<I>(g.c), wo = static_cast<I>(g.wo), ho = static_cast<I>(g.ho);
    BPLAB_GRID_STRIDE_AS(I, i, n) {
        const std::int64_t ch = i % c, ox = (i / c) % wo, oy = (i / (c * wo)) % ho, bb = i / (c * wo * ho);
        T acc = b ? b[ch] : T(0);
        for (std::int64_t ky = 0; ky < g.kh; ++ky) {
            const std::int64_t iy = oy * g.sh - g.ph + ky;
            if (iy < 0 || iy >= g.h) continue;
            const T* x_row = x + (bb * g.h + iy) * g.w * g.c + ch;
            const T* w_row = wt + ky * g.kw * g.c + ch;
            for (std::int64_t kx = 0; kx < g.kw; ++kx) {
                const std::int64_t ix = ox * g.sw - g.pw + kx;
                if (ix >= 0 && ix < g.w) acc += x_row[ix * g.c] * w_row[kx * g.c];
            }
        }
        y[i] = acc;
    }
}

constexpr int kRun = 4;  ///< output columns per thread in the stride-1 kernel

/// The same at stride 1 with K × K filters known at compile time: each thread computes kRun neighbouring
/// output columns of one channel, so every input value it loads serves up to K of them: (kRun + K − 1)·K input
/// and K² weight loads per kRun outputs instead of 2K² per output. I splits the thread index.
template <class T, int K, class I>
__global__ void dw_forward_runs_kernel(T* y, const T* x, const T* wt, const T* b, ConvGeometry g, I threads) {
    const I c = static_cast<I>(g.c), runs = static_cast<I>((g.wo + kRun - 1) / kRun), ho = static_cast<I>(g.ho);
    BPLAB_GRID_STRIDE_AS(I, t, threads) {
        const std::int64_t ch = t % c, ox0 = (t / c) % runs * kRun, oy = (t / (c * runs)) % ho, bb = t / (c * runs * ho);
        const T bias = b ? b[ch] : T(0);
        T acc[kRun];
#pragma unroll
        for (int r = 0; r < kRun; ++r) acc[r] = bias;
#pragma unroll
        for (int ky = 0; ky < K; ++ky) {
            const std::int64_t iy = oy - g.ph + ky;
            if (iy < 0 || iy >= g.h) continue;
            const T* x_row = x + (bb * g.h + iy) * g.w * g.c + ch;
            T xs[kRun + K - 1];  // input columns ox0 − pw .. ox0 − pw + kRun + K − 2 (zero outside the image)
#pragma unroll
            for (int j = 0; j < kRun + K - 1; ++j) {
                const std::int64_t ix = ox0 - g.pw + j;
                xs[j] = ix >= 0 && ix < g.w ? x_row[ix * g.c] : T(0);
            }
#pragma unroll
            for (int kx = 0; kx < K; ++kx) {
                const T wv = wt[(ky * K + kx) * g.c + ch];
#pragma unroll
                for (int r = 0; r < kRun; ++r) acc[r] += xs[r + kx] * wv;
            }
        }
        T* y_run = y + ((bb * g.ho + oy) * g.wo + ox0) * g.c + ch;
#pragma unroll
        for (int r = 0; r < kRun; ++r)
            if (ox0 + r < g.wo) y_run[r * g.c] = acc[r];
    }
}

template <class T>
__global__ void dw_dx_kernel(T* dx, const T* dy, const T* w, ConvGeometry g, std::int64_t n) {
    BPLAB_GRID_STRIDE(i, n) {
        const std::int64_t ch = i % g.c, ix = (i / g.c) % g.w, iy = (i / (g.c * g.w)) % g.h, bb = i / (g.c * g.w * g.h);
        T acc = 0;
        for_each_window_reading(g, iy, ix, [&](std::int64_t ky, std::int64_t kx, std::int64_t oy, std::int64_t ox) {
            acc += dy[((bb * g.ho + oy) * g.wo + ox) * g.c + ch] * w[(ch * g.kh + ky) * g.kw + kx];
        });
        dx[i] = acc;
    }
}

/// partial[chunk, tap, c] = Σ over the chunk's output positions of dy · x at that tap (any stride and filter
/// size; dw_dw_rows_kernel below is the stride-1 path). The position is stepped forward (ox, then oy, then the
/// image) rather than divided out at every step.
template <class T>
__global__ void dw_dw_kernel(T* partial, const T* dy, const T* x, ConvGeometry g, std::int64_t positions) {
    const std::int64_t taps = g.kh * g.kw;
    const std::int64_t j = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;  // (tap, c)
    if (j >= taps * g.c) return;
    const std::int64_t ch = j % g.c, tap = j / g.c, ky = tap / g.kw, kx = tap % g.kw;
    const std::int64_t per = (positions + gridDim.y - 1) / gridDim.y, p0 = blockIdx.y * per;
    const std::int64_t p1 = p0 + per < positions ? p0 + per : positions;
    std::int64_t ox = p0 % g.wo, oy = (p0 / g.wo) % g.ho, bb = p0 / (g.wo * g.ho);
    T acc = 0;
    for (std::int64_t p = p0; p < p1; ++p) {
        const std::int64_t iy = oy * g.sh - g.ph + ky, ix = ox * g.sw - g.pw + kx;
        if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) acc += dy[p * g.c + ch] * x[((bb * g.h + iy) * g.w + ix) * g.c + ch];
        if (++ox == g.wo) {
            ox = 0;
            if (++oy == g.ho) {
                oy = 0;
                ++bb;
            }
        }
    }
    partial[blockIdx.y * taps * g.c + j] = acc;
}

/// The same at stride 1 with K × K filters known at compile time, as blocks of 32 channels × kTileRows warps
/// over a chunk of output rows (b, oy): each thread walks whole output rows of its channel, once per filter row
/// ky, with the K input columns under the filter in registers (one new x and one dy load per step, where the
/// kernel above loads both for every tap) and all K² tap sums in registers; the warps' sums are added in
/// shared memory, so partial[chunk, tap, c] holds one value per block row.
template <class T, int K>
__global__ void dw_dw_rows_kernel(T* partial, const T* dy, const T* x, ConvGeometry g, std::int64_t rows,
                                  std::int64_t per) {
    __shared__ T part[kTileRows][32];
    const std::int64_t ch = blockIdx.x * std::int64_t{32} + threadIdx.x;
    const std::int64_t r0 = blockIdx.y * per, r1 = r0 + per < rows ? r0 + per : rows;
    T acc[K][K] = {};
    if (ch < g.c)
        for (std::int64_t r = r0 + threadIdx.y; r < r1; r += kTileRows) {
            const std::int64_t bb = r / g.ho, oy = r % g.ho;
            const T* dy_row = dy + r * g.wo * g.c + ch;
#pragma unroll
            for (int ky = 0; ky < K; ++ky) {
                const std::int64_t iy = oy - g.ph + ky;
                if (iy < 0 || iy >= g.h) continue;
                const T* x_row = x + (bb * g.h + iy) * g.w * g.c + ch;
                T xs[K];  // x at columns ox − pw .. ox − pw + K − 1 (zero outside the image)
#pragma unroll
                for (int kx = 0; kx < K; ++kx) {
                    const std::int64_t ix = kx - g.pw;
                    xs[kx] = ix >= 0 && ix < g.w ? x_row[ix * g.c] : T(0);
                }
                for (std::int64_t ox = 0; ox < g.wo; ++ox) {
                    const T d = dy_row[ox * g.c];
#pragma unroll
                    for (int kx = 0; kx < K; ++kx) acc[ky][kx] += d * xs[kx];
#pragma unroll
                    for (int kx = 0; kx + 1 < K; ++kx) xs[kx] = xs[kx + 1];
                    const std::int64_t ix = ox + K - g.pw;  // the column entering the window at ox + 1
                    xs[K - 1] = ix >= 0 && ix < g.w ? x_row[ix * g.c] : T(0);
                }
            }
        }
#pragma unroll
    for (int ky = 0; ky < K; ++ky)
#pragma unroll
        for (int kx = 0; kx < K; ++kx) {
            part[threadIdx.y][threadIdx.x] = acc[ky][kx];
            __syncthreads();
            if (threadIdx.y == 0 && ch < g.c) {
                T sum = 0;
                for (int k = 0; k < kTileRows; ++k) sum += part[k][threadIdx.x];
                partial[(blockIdx.y * std::int64_t{K * K} + ky * K + kx) * g.c + ch] = sum;
            }
            __syncthreads();
        }
}

/// Calls f(std::integral_constant<int, K>{}) for the square filter sizes with a compiled stride-1 kernel;
/// returns false (and calls nothing) for others.
template <class F>
bool with_filter_size(std::int64_t kh, std::int64_t kw, F&& f) {
    if (kh != kw) return false;
    switch (kh) {
        case 3: f(std::integral_constant<int, 3>{}); return true;
        case 5: f(std::integral_constant<int, 5>{}); return true;
        case 7: f(std::integral_constant<int, 7>{}); return true;
        default: return false;
    }
}

/// y (n elements) = x ⋆ filters: the run kernel at stride 1 for 3×3, 5×5 and 7×7, the general one otherwise.
template <class T>
void forward(T* y, const T* x, const T* wt, const T* b, const ConvGeometry& g, std::int64_t n) {
    const std::int64_t threads = g.batch * g.ho * ((g.wo + kRun - 1) / kRun) * g.c;
    const bool runs = g.sh == 1 && g.sw == 1 && with_filter_size(g.kh, g.kw, [&](auto k) {
        dispatch_index(threads, [&](auto index) {
            using I = decltype(index);
            dw_forward_runs_kernel<T, decltype(k)::value><<<blocks_for(threads), kThreads>>>(y, x, wt, b, g,
                                                                                            static_cast<I>(threads));
        });
    });
    if (!runs)
        dispatch_index(n, [&](auto index) {
            using I = decltype(index);
            dw_forward_kernel<<<blocks_for(n), kThreads>>>(y, x, wt, b, g, static_cast<I>(n));
        });
    BPLAB_CUDA_LAUNCHED();
}

/// wt (taps, C) from w, flipped or not, in a scratch tensor.
Tensor weights_by_tap(const Tensor& w, std::int64_t c, std::int64_t taps, bool flip) {
    Tensor wt = scratch({taps, c}, w.dtype());
    dispatch_float("depthwise_conv2d", w.dtype(), [&](auto tag) {
        using T = decltype(tag);
        weights_by_tap_kernel<<<blocks_for(c * taps), kThreads>>>(wt.data<T>(), w.data<T>(), c, taps, flip);
    });
    BPLAB_CUDA_LAUNCHED();
    return wt;
}

}  // namespace

void CudaBackend::depthwise_conv2d_forward(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b,
                                           std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding) {
    const ConvGeometry g = cpu::conv_geometry(x, w, y, stride, padding);
    const std::int64_t n = y.numel();
    if (n == 0) return;
    const Tensor wt = weights_by_tap(w, g.c, g.kh * g.kw, false);
    dispatch_float("depthwise_conv2d", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        forward(y.data<T>(), x.data<T>(), wt.data<T>(), b.defined() ? b.data<T>() : nullptr, g, n);
    });
}

void CudaBackend::depthwise_conv2d_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x,
                                            const Tensor& w, std::array<std::int64_t, 2> stride,
                                            std::array<std::int64_t, 2> padding) {
    const ConvGeometry g = cpu::conv_geometry(x, w, dy, stride, padding);
    const std::int64_t positions = g.batch * g.ho * g.wo, taps = g.kh * g.kw;
    dispatch_float("depthwise_conv2d backward", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        if (dx.defined() && dx.numel() && g.sh == 1 && g.sw == 1) {
            // dx[iy, ix] = Σ dy[iy + ph − ky, ix + pw − kx] w[ky, kx]: the forward over dy with every filter
            // turned by 180° and padding k − 1 − p, which gives back H × W.
            const ConvGeometry back{g.batch, g.ho, g.wo, g.c, g.kh, g.kw, g.h, g.w, 1, 1, g.kh - 1 - g.ph, g.kw - 1 - g.pw};
            const Tensor flipped = weights_by_tap(w, g.c, taps, true);
            forward(dx.data<T>(), dy.data<T>(), flipped.data<T>(), static_cast<const T*>(nullptr), back, dx.numel());
        } else if (dx.defined() && dx.numel()) {
            dw_dx_kernel<<<blocks_for(dx.numel()), kThreads>>>(dx.data<T>(), dy.data<T>(), w.data<T>(), g, dx.numel());
            BPLAB_CUDA_LAUNCHED();
        }
        if (dw.defined()) {
            if (positions == 0 || dw.numel() == 0) {
                fill(dw, 0.0);
            } else {
                Tensor partial, per_tap = scratch({taps, g.c}, x.dtype());
                const std::int64_t rows = g.batch * g.ho;
                const bool by_rows = g.sh == 1 && g.sw == 1 && with_filter_size(g.kh, g.kw, [&](auto k) {
                    const std::int64_t chunks = column_chunks(rows, g.c), per = (rows + chunks - 1) / chunks;
                    partial = scratch({chunks, taps * g.c}, x.dtype());
                    const dim3 grid(static_cast<unsigned>((g.c + 31) / 32), static_cast<unsigned>(chunks));
                    dw_dw_rows_kernel<T, decltype(k)::value><<<grid, dim3(32, kTileRows)>>>(
                        partial.data<T>(), dy.data<T>(), x.data<T>(), g, rows, per);
                });
                if (!by_rows) {
                    const std::int64_t chunks = positions < kPositionChunks ? positions : kPositionChunks;
                    partial = scratch({chunks, taps * g.c}, x.dtype());
                    const dim3 grid(static_cast<unsigned>((taps * g.c + kThreads - 1) / kThreads), static_cast<unsigned>(chunks));
                    dw_dw_kernel<<<grid, kThreads>>>(partial.data<T>(), dy.data<T>(), x.data<T>(), g, positions);
                }
                BPLAB_CUDA_LAUNCHED();
                sum_axis(per_tap, partial, 1, partial.size(0), taps * g.c);
                transpose(dw, per_tap);  // (taps, C) -> (C, taps), which is dw's (C, 1, kh, kw)
            }
        }
    });
    if (db.defined()) sum_axis(db, dy, 1, positions, g.c);
}

}  // namespace bplab::cuda
