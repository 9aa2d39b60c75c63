// core/ops/conv2d.cpp — 2-D convolution on channels-last activations with PyTorch-layout weights.
// Activations (B, H, W, C) keep channels contiguous as linear() sees them; weights (O, I, kh, kw) load from timm unchanged.
#include <stdexcept>

#include "backends/backend.h"
#include "core/autocast.h"
#include "core/ops.h"
#include "core/ops/check.h"

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
    // Under autocast x and w are read rounded to bf16 (x kept so, w rounded again), and so is dy for dx and dw; db
    // sums dy itself, as linear's does; sums and outputs stay f32 (core/autocast.h).
    const bool rounded = autocast_applies(x);
    const Tensor sx = autocast_operand(x, rounded).detach(), sw = w.detach();
    backend_for(x.device()).conv2d_forward(y, autocast_widened(sx), autocast_values(sw, rounded), b, stride, padding);
    return record(y, "conv2d", {x, w, b},
                  [sx, sw, stride, padding, rounded](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Tensor> {
                      Tensor dx = needs[0] ? Tensor::empty(sx.shape(), dy.dtype(), dy.device()) : Tensor();
                      Tensor dw = needs[1] ? Tensor::empty_like(sw) : Tensor();
                      Tensor db = needs[2] ? Tensor::empty({sw.size(0)}, sw.dtype(), sw.device()) : Tensor();
                      Tensor db_of_products = rounded ? Tensor() : db;
                      Backend& be = backend_for(dy.device());
                      be.conv2d_backward(dx, dw, db_of_products, autocast_values(dy, rounded),
                                         autocast_widened(sx), autocast_values(sw, rounded), stride, padding);
                      if (rounded && db.defined() && db.numel() > 0)
                          be.sum_axis(db, dy, 1, dy.numel() / sw.size(0), sw.size(0));
                      return {dx, dw, db};
                  });
}

}  // namespace bplab
