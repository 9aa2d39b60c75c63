// backends/cpu/conv_geometry.h — the window arithmetic shared by conv2d.cpp and depthwise_conv2d.cpp.
// Zero padding is never materialised: kernels ask which kernel taps or output columns land inside the input.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "core/tensor.h"

namespace bplab::cpu {

/// A kh x kw window sliding over x (B, H, W, C) with stride (sh, sw) and zero padding (ph, pw),
/// giving an output of Ho x Wo positions.
struct ConvGeometry {
    std::int64_t batch, h, w, c;
    std::int64_t kh, kw, ho, wo;
    std::int64_t sh, sw, ph, pw;

    /// Kernel columns [first, second) whose input column ox·sw − pw + kx lies in [0, w).
    std::pair<std::int64_t, std::int64_t> kx_range(std::int64_t ox) const {
        const std::int64_t ix0 = ox * sw - pw;
        const std::int64_t first = std::max<std::int64_t>(0, -ix0);
        return {first, std::max(first, std::min(kw, w - ix0))};
    }
    /// Output columns [first, second) for which kernel column kx lands inside the input.
    std::pair<std::int64_t, std::int64_t> ox_range(std::int64_t kx) const {
        const std::int64_t lo = pw - kx, hi = w - 1 + pw - kx;  // ox·sw must lie in [lo, hi]
        if (hi < 0) return {0, 0};
        const std::int64_t first = lo <= 0 ? 0 : (lo + sw - 1) / sw;
        return {first, std::max(first, std::min(wo, hi / sw + 1))};
    }
    /// The output row that reads input row iy through kernel row ky, or -1 if there is none.
    std::int64_t oy_of(std::int64_t iy, std::int64_t ky) const {
        const std::int64_t t = iy + ph - ky;  // = oy·sh
        if (t < 0 || t % sh != 0 || t / sh >= ho) return -1;
        return t / sh;
    }
};

/// Geometry of a window of kh x kw over x (B, H, W, C) whose output has Ho = out.size(1), Wo = out.size(2).
inline ConvGeometry conv_geometry(const Tensor& x, std::int64_t kh, std::int64_t kw, const Tensor& out,
                                  std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding) {
    return {x.size(0),   x.size(1),   x.size(2), x.size(3), kh,         kw,
            out.size(1), out.size(2), stride[0], stride[1], padding[0], padding[1]};
}

/// The same for a convolution with weight w (O, I or 1, kh, kw) whose output is `out`.
inline ConvGeometry conv_geometry(const Tensor& x, const Tensor& w, const Tensor& out, std::array<std::int64_t, 2> stride,
                                  std::array<std::int64_t, 2> padding) {
    return conv_geometry(x, w.size(2), w.size(3), out, stride, padding);
}

}  // namespace bplab::cpu
