// backends/cuda/conv2d.cu — 2-D convolution on channels-last tensors as im2col + one cuBLAS GEMM; the
// backward by GEMMs and a gathering col2im (no atomics). Twin of backends/cpu/conv2d.cpp, same (ky, kx, i) order.
#include "backends/cuda/conv_windows.cuh"
#include "backends/cuda/gemm.cuh"
#include "backends/cuda/kernels.cuh"

namespace bplab::cuda {
namespace {

using cpu::ConvGeometry;

/// cols (B·Ho·Wo, kh·kw·C): window rows, zero where the window hangs over the padding. I splits the flat index
/// (see dispatch_index); the input position is signed 64-bit.
template <class T, class I>
__global__ void im2col_kernel(T* cols, const T* x, ConvGeometry g, I n) {
    const I c = static_cast<I>(g.c), kw = static_cast<I>(g.kw), k = static_cast<I>(g.kh * g.kw * g.c);
    const I wo = static_cast<I>(g.wo), ho = static_cast<I>(g.ho);
    BPLAB_GRID_STRIDE_AS(I, i, n) {
        const I col = i % k, row = i / k;
        const I ch = col % c, kx = (col / c) % kw, ky = col / (c * kw);
        const I ox = row % wo, oy = (row / wo) % ho, b = row / (wo * ho);
        const std::int64_t iy = static_cast<std::int64_t>(oy) * g.sh - g.ph + ky;
        const std::int64_t ix = static_cast<std::int64_t>(ox) * g.sw - g.pw + kx;
        cols[i] = (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) ? x[((b * g.h + iy) * g.w + ix) * g.c + ch] : T(0);
    }
}

/// dx (B, H, W, C): each input element sums the window entries of dcols that read it.
template <class T, class I>
__global__ void col2im_kernel(T* dx, const T* dcols, ConvGeometry g, I n) {
    const std::int64_t k = g.kh * g.kw * g.c;
    const I c = static_cast<I>(g.c), w = static_cast<I>(g.w), h = static_cast<I>(g.h);
    BPLAB_GRID_STRIDE_AS(I, i, n) {
        const I ch = i % c, ix = (i / c) % w, iy = (i / (c * w)) % h, b = i / (c * w * h);
        T acc = 0;
        for_each_window_reading(g, iy, ix, [&](std::int64_t ky, std::int64_t kx, std::int64_t oy, std::int64_t ox) {
            acc += dcols[((b * g.ho + oy) * g.wo + ox) * k + (ky * g.kw + kx) * g.c + ch];
        });
        dx[i] = acc;
    }
}

/// cols = im2col(x), n = rows · kh·kw·C elements.
template <class T>
void im2col(T* cols, const T* x, const ConvGeometry& g, std::int64_t n) {
    dispatch_index(n, [&](auto index) {
        using I = decltype(index);
        im2col_kernel<<<blocks_for(n), kThreads>>>(cols, x, g, static_cast<I>(n));
    });
    BPLAB_CUDA_LAUNCHED();
}

/// w (O, C, kh, kw) <-> (O, kh, kw, C), the order of an im2col row.
template <class T, bool ToCols>
__global__ void weight_order_kernel(T* out, const T* w, std::int64_t o, std::int64_t c, std::int64_t taps) {
    BPLAB_GRID_STRIDE(i, o * c * taps) {
        const std::int64_t t = i % taps, ch = (i / taps) % c, oo = i / (taps * c);  // i indexes (O, C, taps)
        const std::int64_t j = (oo * taps + t) * c + ch;                            // (O, taps, C)
        if (ToCols) out[j] = w[i];
        else out[i] = w[j];
    }
}

}  // namespace

void CudaBackend::conv2d_forward(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b,
                                 std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding) {
    const ConvGeometry g = cpu::conv_geometry(x, w, y, stride, padding);
    const std::int64_t rows = g.batch * g.ho * g.wo, k = g.kh * g.kw * g.c, o = w.size(0);
    if (rows == 0) return;
    Tensor cols = scratch({rows, k}, x.dtype()), wc = scratch({o, k}, x.dtype());
    dispatch_float("conv2d", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        im2col(cols.data<T>(), x.data<T>(), g, rows * k);
        weight_order_kernel<T, true><<<blocks_for(o * k), kThreads>>>(wc.data<T>(), w.data<T>(), o, g.c, g.kh * g.kw);
        BPLAB_CUDA_LAUNCHED();
    });
    linear_forward(y, cols, wc, b);  // y (rows, O) = cols wcᵀ + b
}

void CudaBackend::conv2d_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x, const Tensor& w,
                                  std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding) {
    const ConvGeometry g = cpu::conv_geometry(x, w, dy, stride, padding);
    const std::int64_t rows = g.batch * g.ho * g.wo, k = g.kh * g.kw * g.c, o = w.size(0);
    dispatch_float("conv2d backward", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        if (dw.defined()) {
            if (rows == 0) {
                fill(dw, 0.0);
            } else {
                Tensor cols = scratch({rows, k}, x.dtype()), dwc = scratch({o, k}, x.dtype());
                im2col(cols.data<T>(), x.data<T>(), g, rows * k);
                gemm<T>(cublas_, dwc.data<T>(), dy.data<T>(), cols.data<T>(), o, k, rows, true, false, 1, 0, 0, T(1), T(0));
                weight_order_kernel<T, false><<<blocks_for(o * k), kThreads>>>(dw.data<T>(), dwc.data<T>(), o, g.c, g.kh * g.kw);
                BPLAB_CUDA_LAUNCHED();
            }
        }
        if (dx.defined() && dx.numel()) {
            Tensor dcols = scratch({rows, k}, x.dtype()), wc = scratch({o, k}, x.dtype());
            weight_order_kernel<T, true><<<blocks_for(o * k), kThreads>>>(wc.data<T>(), w.data<T>(), o, g.c, g.kh * g.kw);
            BPLAB_CUDA_LAUNCHED();
            if (rows) gemm<T>(cublas_, dcols.data<T>(), dy.data<T>(), wc.data<T>(), rows, k, o, false, false, 1, 0, 0, T(1), T(0));
            dispatch_index(dx.numel(), [&](auto index) {
                using I = decltype(index);
                col2im_kernel<<<blocks_for(dx.numel()), kThreads>>>(dx.data<T>(), dcols.data<T>(), g,
                                                                     static_cast<I>(dx.numel()));
            });
            BPLAB_CUDA_LAUNCHED();
        }
    });
    if (db.defined()) sum_axis(db, dy, 1, rows, o);
}

}  // namespace bplab::cuda
