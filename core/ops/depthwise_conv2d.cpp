// core/ops/depthwise_conv2d.cpp — depthwise 2-D convolution (groups = channels), channels-last.
// ConvNeXt's 7x7 token mixer; the weight (C, 1, kh, kw) is PyTorch's layout for groups = C.
#include <stdexcept>

#include "backends/backend.h"
#include "core/ops.h"
#include "core/ops/check.h"
#include "core/ops/convolve.h"

namespace bplab {

Tensor depthwise_conv2d(const Tensor& x, const Tensor& w, const Tensor& b, std::array<std::int64_t, 2> stride,
                        std::array<std::int64_t, 2> padding) {
    detail::require_float("depthwise_conv2d", x, "input");
    detail::require_float("depthwise_conv2d", w, "weight");
    detail::require_same("depthwise_conv2d", x, w);
    detail::require_nhwc("depthwise_conv2d", x);
    const std::int64_t c = x.size(3);
    if (w.dim() != 4 || w.size(0) != c || w.size(1) != 1)
        throw std::invalid_argument("depthwise_conv2d: input " + shape_str(x.shape()) + " has " + std::to_string(c) +
                                    " channels, weight " + shape_str(w.shape()) + " (expected (" + std::to_string(c) +
                                    ", 1, kh, kw))");
    if (b.defined()) {
        detail::require_same("depthwise_conv2d", x, b);
        if (b.dim() != 1 || b.size(0) != c)
            throw std::invalid_argument("depthwise_conv2d: bias of shape " + shape_str(b.shape()) + " for input " +
                                        shape_str(x.shape()) + " (expected (" + std::to_string(c) + ",))");
    }
    const auto [ho, wo] = detail::conv_output_hw("depthwise_conv2d", x, w.size(2), w.size(3), stride, padding);
    Tensor y = Tensor::empty({x.size(0), ho, wo, c}, x.dtype(), x.device());  // (B, Ho, Wo, C)
    return detail::convolve("depthwise_conv2d", y, x, w, b, stride, padding, &Backend::depthwise_conv2d_forward,
                            &Backend::depthwise_conv2d_backward);
}

}  // namespace bplab
