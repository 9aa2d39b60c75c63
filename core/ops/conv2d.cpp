// core/ops/conv2d.cpp — 2-D convolution on channels-last activations with PyTorch-layout weights.
// Activations (B, H, W, C) keep channels contiguous as linear() sees them; weights (O, I, kh, kw) load from timm unchanged.
#include <stdexcept>

#include "backends/backend.h"
#include "core/ops.h"
#include "core/ops/check.h"
#include "core/ops/convolve.h"

namespace bplab {

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, std::array<std::int64_t, 2> stride,
              std::array<std::int64_t, 2> padding) {
    detail::require_float("conv2d", x, "input");
    detail::require_float("conv2d", w, "weight");
    detail::require_same("conv2d", x, w);
    detail::require_nhwc("conv2d", x);
    if (w.dim() != 4)
        throw std::invalid_argument("conv2d: weight of shape " + shape_str(w.shape()) + " (expected (O, I, kh, kw))");
    if (x.size(3) != w.size(1))
        throw std::invalid_argument("conv2d: input " + shape_str(x.shape()) + " has " + std::to_string(x.size(3)) +
                                    " channels, weight " + shape_str(w.shape()) + " expects " +
                                    std::to_string(w.size(1)));
    if (b.defined()) {
        detail::require_same("conv2d", x, b);
        if (b.dim() != 1 || b.size(0) != w.size(0))
            throw std::invalid_argument("conv2d: bias of shape " + shape_str(b.shape()) + " for weight " +
                                        shape_str(w.shape()) + " (expected (" + std::to_string(w.size(0)) + ",))");
    }
    const auto [ho, wo] = detail::conv_output_hw("conv2d", x, w.size(2), w.size(3), stride, padding);
    Tensor y = Tensor::empty({x.size(0), ho, wo, w.size(0)}, x.dtype(), x.device());  // (B, Ho, Wo, O)
    return detail::convolve("conv2d", y, x, w, b, stride, padding, &Backend::conv2d_forward, &Backend::conv2d_backward);
}

}  // namespace bplab
