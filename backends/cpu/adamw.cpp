// backends/cpu/adamw.cpp — the fused AdamW update (decoupled weight decay, bias-corrected moments).
// One pass over the parameter; the same rule as torch.optim.AdamW.
#include <cmath>

#include "backends/cpu/cpu_backend.h"

namespace bplab {

void CpuBackend::adamw_update(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, double lr, double beta1,
                              double beta2, double eps, double weight_decay, std::int64_t step) {
    cpu::dispatch_float("adamw_update", param.dtype(), [&](auto tag) {
        using T = decltype(tag);
        T *p = param.data<T>(), *pm = m.data<T>(), *pv = v.data<T>();
        const T* g = grad.data<T>();
        const double c1 = 1.0 - std::pow(beta1, static_cast<double>(step)), c2 = 1.0 - std::pow(beta2, static_cast<double>(step));
        const T decay = static_cast<T>(1.0 - lr * weight_decay), b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2);
        const T step_size = static_cast<T>(lr / c1), inv_sqrt_c2 = static_cast<T>(1.0 / std::sqrt(c2)), e = static_cast<T>(eps);
        const std::int64_t n = param.numel();
#pragma omp parallel for simd if (n > cpu::kParallelGrain)
        for (std::int64_t i = 0; i < n; ++i) {
            pm[i] = b1 * pm[i] + (T(1) - b1) * g[i];
            pv[i] = b2 * pv[i] + (T(1) - b2) * g[i] * g[i];
            p[i] = p[i] * decay - step_size * pm[i] / (std::sqrt(pv[i]) * inv_sqrt_c2 + e);
        }
    });
}

}  // namespace bplab
