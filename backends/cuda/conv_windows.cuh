// backends/cuda/conv_windows.cuh — the backward of a sliding window, seen from one input position: which
// (kernel tap, output position) pairs read it. Shared by conv2d.cu's col2im and depthwise_conv2d.cu's dx.
#pragma once
#include "backends/cpu/conv_geometry.h"

namespace bplab::cuda {

/// Calls f(ky, kx, oy, ox) for every kernel tap (ky, kx) whose window at output (oy, ox) covers input (iy, ix).
template <class F>
__device__ void for_each_window_reading(const cpu::ConvGeometry& g, std::int64_t iy, std::int64_t ix, F f) {
    for (std::int64_t ky = 0; ky < g.kh; ++ky) {
        const std::int64_t ty = iy + g.ph - ky;  // = oy · sh
        if (ty < 0 || ty % g.sh || ty / g.sh >= g.ho) continue;
        for (std::int64_t kx = 0; kx < g.kw; ++kx) {
            const std::int64_t tx = ix + g.pw - kx;
            if (tx < 0 || tx % g.sw || tx / g.sw >= g.wo) continue;
            f(ky, kx, ty / g.sh, tx / g.sw);
        }
    }
}

}  // namespace bplab::cuda
