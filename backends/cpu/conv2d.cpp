// backends/cpu/conv2d.cpp — 2-D convolution on channels-last tensors as im2col + GEMM, a chunk of images at a time.
// Im2col rows are ordered (ky, kx, i), so each kernel row is one contiguous copy: kernel == stride is a pure reshuffle.
#include <algorithm>
#include <cstring>

#include "backends/cpu/conv_geometry.h"
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/eigen_map.h"

namespace bplab {
namespace {

/// Elements of one im2col buffer; a chunk holds as many whole images as fit (at least one).
constexpr std::int64_t kColsBudget = 1 << 20;

struct Conv2dPlan {
    cpu::ConvGeometry g;
    std::int64_t out;     // O
    std::int64_t k;       // kh·kw·I, the length of an im2col row
    std::int64_t pixels;  // Ho·Wo, im2col rows per image
    bool identity;        // 1x1, stride 1, no padding: x itself is the im2col matrix
    std::int64_t images_per_chunk;
};

Conv2dPlan plan_for(const Tensor& x, const Tensor& w, const Tensor& y, std::array<std::int64_t, 2> stride,
                    std::array<std::int64_t, 2> padding) {
    Conv2dPlan p{cpu::conv_geometry(x, w.size(2), w.size(3), y, stride, padding), w.size(0), 0, 0, false, 0};
    p.k = p.g.kh * p.g.kw * p.g.c;
    p.pixels = p.g.ho * p.g.wo;
    p.identity = p.g.kh == 1 && p.g.kw == 1 && p.g.sh == 1 && p.g.sw == 1 && p.g.ph == 0 && p.g.pw == 0;
    // Scratch for as many images as fit the budget, but never more than the batch has.
    const std::int64_t batch = std::max<std::int64_t>(p.g.batch, 1);
    p.images_per_chunk =
        p.identity ? batch : std::clamp<std::int64_t>(kColsBudget / std::max<std::int64_t>(p.pixels * p.k, 1), 1, batch);
    return p;
}

// cols (nb·Ho·Wo, kh·kw·I) = the windows of images [b0, b0 + nb) of x (B, H, W, I), zeros where they hang over.
template <class T>
void im2col(T* cols, const T* x, const Conv2dPlan& p, std::int64_t b0, std::int64_t nb) {
    const cpu::ConvGeometry& g = p.g;
    const std::int64_t run = g.kw * g.c;
#pragma omp parallel for if (nb * p.pixels * p.k > cpu::kParallelGrain)
    for (std::int64_t r = 0; r < nb * g.ho; ++r) {  // (b, oy)
        const std::int64_t b = b0 + r / g.ho, oy = r % g.ho;
        for (std::int64_t ox = 0; ox < g.wo; ++ox) {
            T* row = cols + (r * g.wo + ox) * p.k;
            const auto [kx0, kx1] = g.kx_range(ox);
            for (std::int64_t ky = 0; ky < g.kh; ++ky) {
                T* seg = row + ky * run;
                const std::int64_t iy = oy * g.sh - g.ph + ky;
                if (iy < 0 || iy >= g.h || kx1 == kx0) {
                    std::fill_n(seg, run, T(0));
                    continue;
                }
                std::fill_n(seg, kx0 * g.c, T(0));
                std::memcpy(seg + kx0 * g.c, x + ((b * g.h + iy) * g.w + ox * g.sw - g.pw + kx0) * g.c,
                            static_cast<std::size_t>((kx1 - kx0) * g.c) * sizeof(T));
                std::fill_n(seg + kx1 * g.c, (g.kw - kx1) * g.c, T(0));
            }
        }
    }
}

// dx images [b0, b0 + nb) of (B, H, W, I) = Σ of the windows in dcols (nb·Ho·Wo, kh·kw·I) that cover each pixel.
// One thread owns one row of dx, so the overlapping windows never race.
template <class T>
void col2im(T* dx, const T* dcols, const Conv2dPlan& p, std::int64_t b0, std::int64_t nb) {
    const cpu::ConvGeometry& g = p.g;
#pragma omp parallel for if (nb * p.pixels * p.k > cpu::kParallelGrain)
    for (std::int64_t r = 0; r < nb * g.h; ++r) {  // (b, iy)
        const std::int64_t b = r / g.h, iy = r % g.h;
        T* dx_row = dx + ((b0 + b) * g.h + iy) * g.w * g.c;
        std::fill_n(dx_row, g.w * g.c, T(0));
        for (std::int64_t ky = 0; ky < g.kh; ++ky) {
            const std::int64_t oy = g.oy_of(iy, ky);
            if (oy < 0) continue;
            for (std::int64_t ox = 0; ox < g.wo; ++ox) {
                const auto [kx0, kx1] = g.kx_range(ox);
                const T* __restrict src = dcols + ((b * g.ho + oy) * g.wo + ox) * p.k + (ky * g.kw + kx0) * g.c;
                T* __restrict dst = dx_row + (ox * g.sw - g.pw + kx0) * g.c;
                const std::int64_t n = (kx1 - kx0) * g.c;
#pragma omp simd
                for (std::int64_t i = 0; i < n; ++i) dst[i] += src[i];
            }
        }
    }
}

// wp (O, kh, kw, I) = w (O, I, kh, kw): the weight in im2col's column order.
template <class T>
void weight_to_cols_order(T* wp, const T* w, const Conv2dPlan& p) {
    const std::int64_t taps = p.g.kh * p.g.kw;
    for (std::int64_t o = 0; o < p.out; ++o)
        for (std::int64_t i = 0; i < p.g.c; ++i)
            for (std::int64_t t = 0; t < taps; ++t) wp[(o * taps + t) * p.g.c + i] = w[(o * p.g.c + i) * taps + t];
}

// w (O, I, kh, kw) = wp (O, kh, kw, I)
template <class T>
void weight_from_cols_order(T* w, const T* wp, const Conv2dPlan& p) {
    const std::int64_t taps = p.g.kh * p.g.kw;
    for (std::int64_t o = 0; o < p.out; ++o)
        for (std::int64_t i = 0; i < p.g.c; ++i)
            for (std::int64_t t = 0; t < taps; ++t) w[(o * p.g.c + i) * taps + t] = wp[(o * taps + t) * p.g.c + i];
}

}  // namespace

void CpuBackend::conv2d_forward(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b,
                                std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding) {
    const Conv2dPlan p = plan_for(x, w, y, stride, padding);
    cpu::dispatch_float("conv2d_forward", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T* px = x.data<T>();
        T* py = y.data<T>();
        // Scratch goes through the allocator, so memory accounting sees it.
        Tensor wp = Tensor::empty({p.out, p.k}, x.dtype(), x.device());
        weight_to_cols_order(wp.data<T>(), w.data<T>(), p);
        const cpu::ConstMatMap<T> Wp(wp.data<T>(), p.out, p.k);
        Tensor cols = p.identity ? Tensor() : Tensor::empty({p.images_per_chunk * p.pixels, p.k}, x.dtype(), x.device());
        for (std::int64_t b0 = 0; b0 < p.g.batch; b0 += p.images_per_chunk) {
            const std::int64_t nb = std::min(p.images_per_chunk, p.g.batch - b0), rows = nb * p.pixels;
            const T* pc = px + b0 * p.pixels * p.k;
            if (!p.identity) {
                im2col(cols.data<T>(), px, p, b0, nb);
                pc = cols.data<T>();
            }
            cpu::MatMap<T> Y(py + b0 * p.pixels * p.out, rows, p.out);  // (rows, O)
            Y.noalias() = cpu::ConstMatMap<T>(pc, rows, p.k) * Wp.transpose();
            if (b.defined()) Y.rowwise() += cpu::ConstRowVecMap<T>(b.data<T>(), p.out);
        }
    });
}

void CpuBackend::conv2d_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x,
                                 const Tensor& w, std::array<std::int64_t, 2> stride,
                                 std::array<std::int64_t, 2> padding) {
    const Conv2dPlan p = plan_for(x, w, dy, stride, padding);
    cpu::dispatch_float("conv2d_backward", dy.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T *pdy = dy.data<T>(), *px = x.data<T>();
        if (db.defined())
            cpu::RowVecMap<T>(db.data<T>(), p.out) =
                cpu::ConstMatMap<T>(pdy, p.g.batch * p.pixels, p.out).colwise().sum();
        if (!dx.defined() && !dw.defined()) return;
        const std::int64_t chunk_rows = p.images_per_chunk * p.pixels;
        Tensor wp, dwp, cols, dcols;
        if (dx.defined()) {
            wp = Tensor::empty({p.out, p.k}, w.dtype(), w.device());
            weight_to_cols_order(wp.data<T>(), w.data<T>(), p);
            if (!p.identity) dcols = Tensor::empty({chunk_rows, p.k}, dy.dtype(), dy.device());
        }
        if (dw.defined()) {
            dwp = Tensor::zeros({p.out, p.k}, dy.dtype(), dy.device());
            if (!p.identity) cols = Tensor::empty({chunk_rows, p.k}, x.dtype(), x.device());
        }
        for (std::int64_t b0 = 0; b0 < p.g.batch; b0 += p.images_per_chunk) {
            const std::int64_t nb = std::min(p.images_per_chunk, p.g.batch - b0), rows = nb * p.pixels;
            const cpu::ConstMatMap<T> DY(pdy + b0 * p.pixels * p.out, rows, p.out);  // (rows, O)
            if (dw.defined()) {
                // dW (O, K) += dYᵀ · cols
                const T* pc = px + b0 * p.pixels * p.k;
                if (!p.identity) {
                    im2col(cols.data<T>(), px, p, b0, nb);
                    pc = cols.data<T>();
                }
                cpu::MatMap<T>(dwp.data<T>(), p.out, p.k).noalias() += DY.transpose() * cpu::ConstMatMap<T>(pc, rows, p.k);
            }
            if (dx.defined()) {
                // dcols (rows, K) = dY · W, then folded back onto the pixels it came from
                T* pdc = p.identity ? dx.data<T>() + b0 * p.pixels * p.k : dcols.data<T>();
                cpu::MatMap<T>(pdc, rows, p.k).noalias() = DY * cpu::ConstMatMap<T>(wp.data<T>(), p.out, p.k);
                if (!p.identity) col2im(dx.data<T>(), pdc, p, b0, nb);
            }
        }
        if (dw.defined()) weight_from_cols_order(dw.data<T>(), dwp.data<T>(), p);
    });
}

}  // namespace bplab
