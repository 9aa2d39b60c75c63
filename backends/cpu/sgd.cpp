// backends/cpu/sgd.cpp — the fused SGD update (momentum, Nesterov, coupled weight decay).
// One pass over the parameter; the same rule as torch.optim.SGD.
#include "backends/cpu/cpu_backend.h"

namespace bplab {

void CpuBackend::sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buf, double lr, double momentum,
                            double weight_decay, bool nesterov) {
    cpu::dispatch_float("sgd_update", param.dtype(), [&](auto tag) {
        using T = decltype(tag);
        T* p = param.data<T>();
        const T* g = grad.data<T>();
        T* buf = momentum > 0 ? momentum_buf.data<T>() : nullptr;
        const T lr_t = static_cast<T>(lr), mu = static_cast<T>(momentum), wd = static_cast<T>(weight_decay);
        const std::int64_t n = param.numel();
#pragma omp parallel for simd if (n > cpu::kParallelGrain)
        for (std::int64_t i = 0; i < n; ++i) {
            T d = g[i] + wd * p[i];
            if (buf) {
                buf[i] = mu * buf[i] + d;
                d = nesterov ? d + mu * buf[i] : buf[i];
            }
            p[i] -= lr_t * d;
        }
    });
}

}  // namespace bplab
