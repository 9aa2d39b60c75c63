// backends/cpu/activation.cpp — ReLU and exact GELU, forward and backward.
// GELU(x) = x Φ(x); its derivative is Φ(x) + x φ(x), with φ the standard normal density.
#include <cmath>

#include "backends/cpu/cpu_backend.h"

namespace bplab {
namespace {

template <class F>
void unary(const char* op, Tensor& out, const Tensor& x, F f) {
    cpu::dispatch_float(op, x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T* px = x.data<T>();
        T* po = out.data<T>();
        const std::int64_t n = x.numel();
#pragma omp parallel for if (n > cpu::kParallelGrain)
        for (std::int64_t i = 0; i < n; ++i) po[i] = f(px[i]);
    });
}

template <class F>
void binary_map(const char* op, Tensor& out, const Tensor& a, const Tensor& b, F f) {
    cpu::dispatch_float(op, a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T *pa = a.data<T>(), *pb = b.data<T>();
        T* po = out.data<T>();
        const std::int64_t n = a.numel();
#pragma omp parallel for if (n > cpu::kParallelGrain)
        for (std::int64_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i]);
    });
}

constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

}  // namespace

void CpuBackend::relu_forward(Tensor& y, const Tensor& x) {
    unary("relu_forward", y, x, [](auto v) { return v > 0 ? v : decltype(v)(0); });
}

void CpuBackend::relu_backward(Tensor& dx, const Tensor& dy, const Tensor& y) {
    binary_map("relu_backward", dx, dy, y, [](auto g, auto v) { return v > 0 ? g : decltype(g)(0); });
}

void CpuBackend::gelu_forward(Tensor& y, const Tensor& x) {
    unary("gelu_forward", y, x, [](auto v) {
        using T = decltype(v);
        return static_cast<T>(0.5) * v * (static_cast<T>(1) + std::erf(v * static_cast<T>(kInvSqrt2)));
    });
}

void CpuBackend::gelu_backward(Tensor& dx, const Tensor& dy, const Tensor& x) {
    binary_map("gelu_backward", dx, dy, x, [](auto g, auto v) {
        using T = decltype(g);
        const T cdf = static_cast<T>(0.5) * (static_cast<T>(1) + std::erf(v * static_cast<T>(kInvSqrt2)));
        const T pdf = static_cast<T>(kInvSqrt2Pi) * std::exp(static_cast<T>(-0.5) * v * v);
        return g * (cdf + v * pdf);
    });
}

}  // namespace bplab
