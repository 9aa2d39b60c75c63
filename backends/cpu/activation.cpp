// backends/cpu/activation.cpp — ReLU and exact GELU, forward and backward.
// GELU(x) = x Φ(x); its derivative is Φ(x) + x φ(x). erf and exp are Eigen's vectorised versions.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <unsupported/Eigen/SpecialFunctions>

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

/// Runs f(begin, count) over [0, n) in chunks, in parallel when n is large (Eigen vectorises each chunk).
template <class F>
void for_chunks(std::int64_t n, F f) {
    constexpr std::int64_t chunk = 1 << 14;
    const std::int64_t chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for if (n > cpu::kParallelGrain)
    for (std::int64_t c = 0; c < chunks; ++c) f(c * chunk, std::min(chunk, n - c * chunk));
}

constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

}  // namespace

void CpuBackend::relu_forward(Tensor& y, const Tensor& x) {
    unary("relu_forward", y, x, [](auto v) { return v <= 0 ? decltype(v)(0) : v; });  // NaN stays NaN
}

void CpuBackend::relu_backward(Tensor& dx, const Tensor& dy, const Tensor& y) {
    binary_map("relu_backward", dx, dy, y, [](auto g, auto v) { return v > 0 ? g : decltype(g)(0); });
}

void CpuBackend::gelu_forward(Tensor& y, const Tensor& x) {
    cpu::dispatch_float("gelu_forward", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        for_chunks(x.numel(), [&](std::int64_t begin, std::int64_t n) {
            const Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> v(x.data<T>() + begin, n);
            Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>(y.data<T>() + begin, n) =
                T(0.5) * v * (T(1) + (v * T(kInvSqrt2)).erf());
        });
    });
}

void CpuBackend::gelu_backward(Tensor& dx, const Tensor& dy, const Tensor& x) {
    cpu::dispatch_float("gelu_backward", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        for_chunks(x.numel(), [&](std::int64_t begin, std::int64_t n) {
            const Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> v(x.data<T>() + begin, n), g(dy.data<T>() + begin, n);
            const auto cdf = T(0.5) * (T(1) + (v * T(kInvSqrt2)).erf());
            const auto pdf = T(kInvSqrt2Pi) * (T(-0.5) * v * v).exp();
            Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>(dx.data<T>() + begin, n) = g * (cdf + v * pdf);
        });
    });
}

}  // namespace bplab
