// backends/cuda/conv_windows.cuh — the backward of a sliding window, seen from one input position: which
// (kernel tap, output position) pairs read it. Shared by conv2d.cu's col2im and depthwise_conv2d.cu's dx.
#pragma once
#include "backends/cpu/conv_geometry.h"

namespace bplab::cuda {

/// Calls f(ky, kx, oy, ox) for every kernel tap (ky, kx) whose window at output (oy, ox) covers input (iy, ix),
/// in increasing ky, then kx. Only the taps congruent to iy + ph modulo the stride can reach the input, so the
/// loops step by the stride from the first of them: one tap per dim when the kernel equals the stride (patch
/// embedding, stem, downsampling), where testing every tap costs kh·kw pairs of 64-bit divisions.
template <class F>
__device__ void for_each_window_reading(const cpu::ConvGeometry& g, std::int64_t iy, std::int64_t ix, F f) {
    const std::int64_t ty = iy + g.ph, tx = ix + g.pw;  // = oy · sh + ky and ox · sw + kx
    for (std::int64_t ky = ty % g.sh; ky < g.kh && ky <= ty; ky += g.sh) {
        const std::int64_t oy = (ty - ky) / g.sh;
        if (oy >= g.ho) continue;
        for (std::int64_t kx = tx % g.sw; kx < g.kw && kx <= tx; kx += g.sw) {
            const std::int64_t ox = (tx - kx) / g.sw;
            if (ox < g.wo) f(ky, kx, oy, ox);
        }
    }
}

}  // namespace bplab::cuda
