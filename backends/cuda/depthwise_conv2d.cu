// backends/cuda/depthwise_conv2d.cu — per-channel convolution on channels-last tensors (ConvNeXt's 7×7):
// direct kernels with the channel fastest, so neighbouring threads read neighbouring bytes. Twin of the CPU file.
#include "backends/cuda/conv_windows.cuh"
#include "backends/cuda/kernels.cuh"

namespace bplab::cuda {
namespace {

using cpu::ConvGeometry;

constexpr std::int64_t kPositionChunks = 128;  ///< chunks of output positions in the dw reduction

template <class T>
__global__ void dw_forward_kernel(T* y, const T* x, const T* w, const T* b, ConvGeometry g, std::int64_t n) {
    BPLAB_GRID_STRIDE(i, n) {
        const std::int64_t ch = i % g.c, ox = (i / g.c) % g.wo, oy = (i / (g.c * g.wo)) % g.ho, bb = i / (g.c * g.wo * g.ho);
        T acc = b ? b[ch] : T(0);
        for (std::int64_t ky = 0; ky < g.kh; ++ky) {
            const std::int64_t iy = oy * g.sh - g.ph + ky;
            if (iy < 0 || iy >= g.h) continue;
            for (std::int64_t kx = 0; kx < g.kw; ++kx) {
                const std::int64_t ix = ox * g.sw - g.pw + kx;
                if (ix < 0 || ix >= g.w) continue;
                acc += x[((bb * g.h + iy) * g.w + ix) * g.c + ch] * w[(ch * g.kh + ky) * g.kw + kx];
            }
        }
        y[i] = acc;
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

/// partial[chunk, tap, c] = Σ over the chunk's output positions of dy · x at that tap.
template <class T>
__global__ void dw_dw_kernel(T* partial, const T* dy, const T* x, ConvGeometry g, std::int64_t positions) {
    const std::int64_t taps = g.kh * g.kw;
    const std::int64_t j = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;  // (tap, c)
    if (j >= taps * g.c) return;
    const std::int64_t ch = j % g.c, tap = j / g.c, ky = tap / g.kw, kx = tap % g.kw;
    const std::int64_t per = (positions + gridDim.y - 1) / gridDim.y, p0 = blockIdx.y * per;
    const std::int64_t p1 = p0 + per < positions ? p0 + per : positions;
    T acc = 0;
    for (std::int64_t p = p0; p < p1; ++p) {
        const std::int64_t ox = p % g.wo, oy = (p / g.wo) % g.ho, bb = p / (g.wo * g.ho);
        const std::int64_t iy = oy * g.sh - g.ph + ky, ix = ox * g.sw - g.pw + kx;
        if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) acc += dy[p * g.c + ch] * x[((bb * g.h + iy) * g.w + ix) * g.c + ch];
    }
    partial[blockIdx.y * taps * g.c + j] = acc;
}

}  // namespace

void CudaBackend::depthwise_conv2d_forward(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b,
                                           std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding) {
    const ConvGeometry g = cpu::conv_geometry(x, w, y, stride, padding);
    const std::int64_t n = y.numel();
    if (n == 0) return;
    dispatch_float("depthwise_conv2d", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        dw_forward_kernel<<<blocks_for(n), kThreads>>>(y.data<T>(), x.data<T>(), w.data<T>(),
                                                       b.defined() ? b.data<T>() : nullptr, g, n);
    });
    BPLAB_CUDA_LAUNCHED();
}

void CudaBackend::depthwise_conv2d_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x,
                                            const Tensor& w, std::array<std::int64_t, 2> stride,
                                            std::array<std::int64_t, 2> padding) {
    const ConvGeometry g = cpu::conv_geometry(x, w, dy, stride, padding);
    const std::int64_t positions = g.batch * g.ho * g.wo, taps = g.kh * g.kw;
    dispatch_float("depthwise_conv2d backward", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        if (dx.defined() && dx.numel()) {
            dw_dx_kernel<<<blocks_for(dx.numel()), kThreads>>>(dx.data<T>(), dy.data<T>(), w.data<T>(), g, dx.numel());
            BPLAB_CUDA_LAUNCHED();
        }
        if (dw.defined()) {
            if (positions == 0) {
                fill(dw, 0.0);
            } else {
                const std::int64_t chunks = positions < kPositionChunks ? positions : kPositionChunks;
                Tensor partial = scratch({chunks, taps * g.c}, x.dtype()), per_tap = scratch({taps, g.c}, x.dtype());
                const dim3 grid(static_cast<unsigned>((taps * g.c + kThreads - 1) / kThreads), static_cast<unsigned>(chunks));
                dw_dw_kernel<<<grid, kThreads>>>(partial.data<T>(), dy.data<T>(), x.data<T>(), g, positions);
                BPLAB_CUDA_LAUNCHED();
                sum_axis(per_tap, partial, 1, chunks, taps * g.c);
                transpose(dw, per_tap);  // (taps, C) -> (C, taps), which is dw's (C, 1, kh, kw)
            }
        }
    });
    if (db.defined()) sum_axis(db, dy, 1, positions, g.c);
}

}  // namespace bplab::cuda
