// layers/conv.cpp — the convolution modules.
// The arithmetic is in the conv2d and depthwise_conv2d ops (im2col + GEMM, direct loops).
#include "layers/conv.h"

#include "core/ops.h"
#include "layers/init.h"

namespace bplab {

Conv2d::Conv2d(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride, std::int64_t padding,
               Rng& init, DType dtype)
    : stride_{stride, stride}, padding_{padding, padding} {
    weight_ = register_parameter("weight", init::trunc_normal({out, in, kernel, kernel}, 0.02, init, dtype));
    bias_ = register_parameter("bias", Tensor::zeros({out}, dtype));
}

Tensor Conv2d::forward(const Tensor& x) const { return conv2d(x, weight_, bias_, stride_, padding_); }

DepthwiseConv2d::DepthwiseConv2d(std::int64_t channels, std::int64_t kernel, std::int64_t padding, Rng& init,
                                 DType dtype)
    : padding_{padding, padding} {
    weight_ = register_parameter("weight", init::trunc_normal({channels, 1, kernel, kernel}, 0.02, init, dtype));
    bias_ = register_parameter("bias", Tensor::zeros({channels}, dtype));
}

Tensor DepthwiseConv2d::forward(const Tensor& x) const { return depthwise_conv2d(x, weight_, bias_, {1, 1}, padding_); }

}  // namespace bplab
