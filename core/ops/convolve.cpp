// core/ops/convolve.cpp — the backend calls, autocast rounding and autograd record of conv2d and depthwise_conv2d
// (core/ops/convolve.h), written once for both.
#include "core/ops/convolve.h"

#include "core/autocast.h"
#include "core/ops.h"

namespace bplab::detail {

Tensor convolve(const char* name, Tensor y, const Tensor& x, const Tensor& w, const Tensor& b,
                std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding, ConvForward forward,
                ConvBackward backward) {
    const bool rounded = autocast_applies(x);
    const Tensor sx = autocast_operand(x, rounded).detach(), sw = w.detach();
    (backend_for(x.device()).*forward)(y, autocast_widened(sx), autocast_values(sw, rounded), b, stride, padding);
    return record(y, name, {x, w, b},
                  [sx, sw, stride, padding, rounded, backward](const Tensor& dy,
                                                               const NeedsGrad& needs) -> std::vector<Tensor> {
                      Tensor dx = needs[0] ? Tensor::empty(sx.shape(), dy.dtype(), dy.device()) : Tensor();
                      Tensor dw = needs[1] ? Tensor::empty_like(sw) : Tensor();
                      Tensor db = needs[2] ? Tensor::empty({sw.size(0)}, sw.dtype(), sw.device()) : Tensor();
                      Tensor db_of_products = rounded ? Tensor() : db;  // under autocast, db is summed below
                      Backend& be = backend_for(dy.device());
                      (be.*backward)(dx, dw, db_of_products, autocast_values(dy, rounded), autocast_widened(sx),
                                     autocast_values(sw, rounded), stride, padding);
                      if (rounded && db.defined() && db.numel() > 0)
                          be.sum_axis(db, dy, 1, rows_of(dy), sw.size(0));
                      return {dx, dw, db};
                  });
}

}  // namespace bplab::detail
