// core/ops/depthwise_conv2d.cpp — depthwise 2-D convolution (groups = channels), channels-last.
// ConvNeXt's 7x7 token mixer; the weight (C, 1, kh, kw) is PyTorch's layout for groups = C.
#include <stdexcept>

#include "backends/backend.h"
#include "core/autocast.h"
#include "core/ops.h"
#include "core/ops/check.h"

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
    // Under autocast x and w are read rounded to bf16 (x kept so, w rounded again), and so is dy for dx and dw; db
    // sums dy itself, as linear's does; sums and outputs stay f32 (core/autocast.h).
    const bool rounded = autocast_applies(x);
    const Tensor sx = autocast_operand(x, rounded).detach(), sw = w.detach();
    backend_for(x.device())
        .depthwise_conv2d_forward(y, autocast_widened(sx), autocast_values(sw, rounded), b, stride, padding);
    return record(y, "depthwise_conv2d", {x, w, b},
                  [sx, sw, stride, padding, rounded](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Tensor> {
                      Tensor dx = needs[0] ? Tensor::empty(sx.shape(), dy.dtype(), dy.device()) : Tensor();
                      Tensor dw = needs[1] ? Tensor::empty_like(sw) : Tensor();
                      Tensor db = needs[2] ? Tensor::empty({sw.size(0)}, sw.dtype(), sw.device()) : Tensor();
                      Tensor db_of_products = rounded ? Tensor() : db;
                      Backend& be = backend_for(dy.device());
                      be.depthwise_conv2d_backward(dx, dw, db_of_products, autocast_values(dy, rounded),
                                                   autocast_widened(sx), autocast_values(sw, rounded), stride, padding);
                      if (rounded && db.defined() && db.numel() > 0)
                          be.sum_axis(db, dy, 1, dy.numel() / sw.size(0), sw.size(0));
                      return {dx, dw, db};
                  });
}

}  // namespace bplab
