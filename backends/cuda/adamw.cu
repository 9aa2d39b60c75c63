// backends/cuda/adamw.cu — the fused AdamW update (decoupled weight decay, bias correction), one pass over p.
// The twin of backends/cpu/adamw.cpp; the rule is written in backends/backend.h.
#include <cmath>

#include "backends/cuda/kernels.cuh"

namespace bplab::cuda {
namespace {

template <class T>
__global__ void adamw_kernel(T* p, const T* g, T* m, T* v, std::int64_t n, T decay, T beta1, T beta2, T eps,
                             T step_size, T inv_sqrt_c2) {
    BPLAB_GRID_STRIDE(i, n) {
        m[i] = beta1 * m[i] + (T(1) - beta1) * g[i];
        v[i] = beta2 * v[i] + (T(1) - beta2) * g[i] * g[i];
        p[i] = p[i] * decay - step_size * m[i] / (sqrt(v[i]) * inv_sqrt_c2 + eps);
    }
}

}  // namespace

void CudaBackend::adamw_update(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, double lr, double beta1,
                               double beta2, double eps, double weight_decay, std::int64_t step) {
    const std::int64_t n = param.numel();
    const double c1 = 1.0 - std::pow(beta1, static_cast<double>(step)), c2 = 1.0 - std::pow(beta2, static_cast<double>(step));
    launch_float("adamw", param.dtype(), n, [&](auto tag) {
        using T = decltype(tag);
        adamw_kernel<<<blocks_for(n), kThreads>>>(param.data<T>(), grad.data<T>(), m.data<T>(), v.data<T>(), n,
                                                  static_cast<T>(1.0 - lr * weight_decay), static_cast<T>(beta1),
                                                  static_cast<T>(beta2), static_cast<T>(eps), static_cast<T>(lr / c1),
                                                  static_cast<T>(1.0 / std::sqrt(c2)));
    });
}

}  // namespace bplab::cuda
