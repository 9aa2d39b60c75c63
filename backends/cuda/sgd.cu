// backends/cuda/sgd.cu — the fused SGD update (momentum, Nesterov, coupled weight decay), one pass over p.
// The twin of backends/cpu/sgd.cpp; the rule is written in backends/backend.h.
#include "backends/cuda/kernels.cuh"

namespace bplab::cuda {
namespace {

template <class T>
__global__ void sgd_kernel(T* p, const T* grad, T* buf, std::int64_t n, T lr, T momentum, T wd, bool nesterov) {
    BPLAB_GRID_STRIDE(i, n) {
        const T g = grad[i] + wd * p[i];
        T step = g;
        if (momentum > T(0)) {
            buf[i] = momentum * buf[i] + g;
            step = nesterov ? g + momentum * buf[i] : buf[i];
        }
        p[i] -= lr * step;
    }
}

}  // namespace

void CudaBackend::sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buf, double lr, double momentum,
                             double weight_decay, bool nesterov) {
    const std::int64_t n = param.numel();
    launch_float("sgd", param.dtype(), n, [&](auto tag) {
        using T = decltype(tag);
        sgd_kernel<<<blocks_for(n), kThreads>>>(param.data<T>(), grad.data<T>(), momentum > 0 ? momentum_buf.data<T>() : nullptr,
                                                n, static_cast<T>(lr), static_cast<T>(momentum),
                                                static_cast<T>(weight_decay), nesterov);
    });
}

}  // namespace bplab::cuda
