// backends/cpu/depthwise_conv2d.cpp — depthwise (one filter per channel) 2-D convolution by direct loops.
// Channels-last makes C the contiguous axis, so every inner loop is a vectorised multiply-add over C.
#include <algorithm>
#include <vector>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "backends/cpu/conv_geometry.h"
#include "backends/cpu/cpu_backend.h"

namespace bplab {
namespace {

// wt (kh, kw, C) = w (C, 1, kh, kw): one contiguous row of C weights per kernel tap.
template <class T>
std::vector<T> taps_by_channel(const T* w, std::int64_t channels, std::int64_t taps) {
    std::vector<T> wt(static_cast<std::size_t>(taps * channels));
    for (std::int64_t c = 0; c < channels; ++c)
        for (std::int64_t t = 0; t < taps; ++t) wt[static_cast<std::size_t>(t * channels + c)] = w[c * taps + t];
    return wt;
}

template <class T>
inline void multiply_add(T* __restrict out, const T* __restrict a, const T* __restrict b, std::int64_t n) {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) out[i] += a[i] * b[i];
}

/// out[c] += Σ_{j < count} a[j·step + c] · b[j·step + c] for c < n: the sum over a row's positions of one
/// kernel tap, kept in registers kBlock channels at a time instead of loading and storing out at every step.
template <class T>
inline void dot_rows_add(T* __restrict out, const T* __restrict a, const T* __restrict b, std::int64_t count,
                         std::int64_t step, std::int64_t n) {
    constexpr std::int64_t kBlock = 64 / sizeof(T) * 2;  // two cache lines of channels
    std::int64_t c0 = 0;
    for (; c0 + kBlock <= n; c0 += kBlock) {
        T acc[kBlock] = {};
        for (std::int64_t j = 0; j < count; ++j) {
            const T *pa = a + j * step + c0, *pb = b + j * step + c0;
#pragma omp simd
            for (std::int64_t c = 0; c < kBlock; ++c) acc[c] += pa[c] * pb[c];
        }
#pragma omp simd
        for (std::int64_t c = 0; c < kBlock; ++c) out[c0 + c] += acc[c];
    }
    for (std::int64_t j = 0; j < count; ++j) multiply_add(out + c0, a + j * step + c0, b + j * step + c0, n - c0);
}

int max_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

int thread_id() {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

}  // namespace

void CpuBackend::depthwise_conv2d_forward(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b,
                                          std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding) {
    const cpu::ConvGeometry g = cpu::conv_geometry(x, w.size(2), w.size(3), y, stride, padding);
    cpu::dispatch_float("depthwise_conv2d_forward", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T* px = x.data<T>();
        const T* pb = b.defined() ? b.data<T>() : nullptr;
        T* py = y.data<T>();
        const std::vector<T> wt = taps_by_channel(w.data<T>(), g.c, g.kh * g.kw);
#pragma omp parallel for if (y.numel() * g.kh * g.kw > cpu::kParallelGrain)
        for (std::int64_t r = 0; r < g.batch * g.ho; ++r) {  // (b, oy)
            const std::int64_t img = r / g.ho, oy = r % g.ho;
            T* y_row = py + r * g.wo * g.c;  // (Wo, C)
            for (std::int64_t ox = 0; ox < g.wo; ++ox)
                if (pb) std::copy_n(pb, g.c, y_row + ox * g.c);
                else std::fill_n(y_row + ox * g.c, g.c, T(0));
            for (std::int64_t ky = 0; ky < g.kh; ++ky) {
                const std::int64_t iy = oy * g.sh - g.ph + ky;
                if (iy < 0 || iy >= g.h) continue;
                const T* x_row = px + (img * g.h + iy) * g.w * g.c;  // (W, C)
                for (std::int64_t kx = 0; kx < g.kw; ++kx) {
                    const T* wk = wt.data() + (ky * g.kw + kx) * g.c;
                    const auto [ox0, ox1] = g.ox_range(kx);
                    for (std::int64_t ox = ox0; ox < ox1; ++ox)
                        multiply_add(y_row + ox * g.c, x_row + (ox * g.sw - g.pw + kx) * g.c, wk, g.c);
                }
            }
        }
    });
}

void CpuBackend::depthwise_conv2d_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x,
                                           const Tensor& w, std::array<std::int64_t, 2> stride,
                                           std::array<std::int64_t, 2> padding) {
    const cpu::ConvGeometry g = cpu::conv_geometry(x, w.size(2), w.size(3), dy, stride, padding);
    const std::int64_t taps = g.kh * g.kw;
    const bool parallel = x.numel() * taps > cpu::kParallelGrain;
    cpu::dispatch_float("depthwise_conv2d_backward", dy.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T *pdy = dy.data<T>(), *px = x.data<T>();
        if (dx.defined()) {
            // dx[b, iy, ix, :] = Σ_taps dy[b, oy, ox, :] ⊙ w[:, ky, kx]; one thread owns one row of dx.
            const std::vector<T> wt = taps_by_channel(w.data<T>(), g.c, taps);
            T* pdx = dx.data<T>();
#pragma omp parallel for if (parallel)
            for (std::int64_t r = 0; r < g.batch * g.h; ++r) {  // (b, iy)
                const std::int64_t img = r / g.h, iy = r % g.h;
                T* dx_row = pdx + r * g.w * g.c;  // (W, C)
                std::fill_n(dx_row, g.w * g.c, T(0));
                for (std::int64_t ky = 0; ky < g.kh; ++ky) {
                    const std::int64_t oy = g.oy_of(iy, ky);
                    if (oy < 0) continue;
                    const T* dy_row = pdy + (img * g.ho + oy) * g.wo * g.c;  // (Wo, C)
                    for (std::int64_t kx = 0; kx < g.kw; ++kx) {
                        const T* wk = wt.data() + (ky * g.kw + kx) * g.c;
                        const auto [ox0, ox1] = g.ox_range(kx);
                        for (std::int64_t ox = ox0; ox < ox1; ++ox)
                            multiply_add(dx_row + (ox * g.sw - g.pw + kx) * g.c, dy_row + ox * g.c, wk, g.c);
                    }
                }
            }
        }
        if (!dw.defined() && !db.defined()) return;
        // dw[:, ky, kx] = Σ dy ⊙ x over the windows, db = Σ dy: per-thread partial sums over rows (b, oy), then
        // added in thread order (static schedule), so the result does not depend on timing.
        const std::int64_t slot = (taps + 1) * g.c;  // (kh, kw, C) taps then (C) bias
        const int threads = parallel ? max_threads() : 1;
        std::vector<T> partial(static_cast<std::size_t>(threads * slot), T(0));
#pragma omp parallel num_threads(threads) if (parallel)
        {
            T* dwt = partial.data() + thread_id() * slot;
            T* dbt = dwt + taps * g.c;
#pragma omp for schedule(static)
            for (std::int64_t r = 0; r < g.batch * g.ho; ++r) {  // (b, oy)
                const std::int64_t img = r / g.ho, oy = r % g.ho;
                const T* dy_row = pdy + r * g.wo * g.c;  // (Wo, C)
                for (std::int64_t ox = 0; ox < g.wo; ++ox) {
                    const T* d = dy_row + ox * g.c;
#pragma omp simd
                    for (std::int64_t c = 0; c < g.c; ++c) dbt[c] += d[c];
                }
                for (std::int64_t ky = 0; ky < g.kh; ++ky) {
                    const std::int64_t iy = oy * g.sh - g.ph + ky;
                    if (iy < 0 || iy >= g.h) continue;
                    const T* x_row = px + (img * g.h + iy) * g.w * g.c;  // (W, C)
                    for (std::int64_t kx = 0; kx < g.kw; ++kx) {
                        const auto [ox0, ox1] = g.ox_range(kx);
                        if (g.sw == 1)  // the taps' positions are consecutive columns: sum them in registers
                            dot_rows_add(dwt + (ky * g.kw + kx) * g.c, dy_row + ox0 * g.c,
                                         x_row + (ox0 - g.pw + kx) * g.c, ox1 - ox0, g.c, g.c);
                        else
                            for (std::int64_t ox = ox0; ox < ox1; ++ox)
                                multiply_add(dwt + (ky * g.kw + kx) * g.c, dy_row + ox * g.c,
                                             x_row + (ox * g.sw - g.pw + kx) * g.c, g.c);
                    }
                }
            }
        }
        for (int t = 1; t < threads; ++t)
            for (std::int64_t i = 0; i < slot; ++i)
                partial[static_cast<std::size_t>(i)] += partial[static_cast<std::size_t>(t * slot + i)];
        if (dw.defined()) {
            T* pdw = dw.data<T>();  // (C, 1, kh, kw)
            for (std::int64_t c = 0; c < g.c; ++c)
                for (std::int64_t t = 0; t < taps; ++t) pdw[c * taps + t] = partial[static_cast<std::size_t>(t * g.c + c)];
        }
        if (db.defined()) std::copy_n(partial.data() + taps * g.c, g.c, db.data<T>());
    });
}

}  // namespace bplab
