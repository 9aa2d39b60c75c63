// backends/cpu/elementwise.cpp — binary ops with trailing broadcast, scale and axpy.
// b is indexed modulo its size, which covers same-shape, trailing and one-element operands.
#include "backends/cpu/cpu_backend.h"

namespace bplab {
namespace {

template <class T, class Op>
void broadcast_loop(T* out, const T* a, const T* b, std::int64_t n, std::int64_t inner, Op op) {
    const std::int64_t rows = n / inner;
#pragma omp parallel for if (n > cpu::kParallelGrain)
    for (std::int64_t r = 0; r < rows; ++r) {
        const T* ar = a + r * inner;
        T* outr = out + r * inner;
        for (std::int64_t c = 0; c < inner; ++c) outr[c] = op(ar[c], b[c]);
    }
}

}  // namespace

void CpuBackend::binary(Tensor& out, const Tensor& a, const Tensor& b, BinaryOp op) {
    const std::int64_t n = a.numel(), inner = b.numel();
    if (n == 0) return;
    cpu::dispatch_float("binary", a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T *pa = a.data<T>(), *pb = b.data<T>();
        T* po = out.data<T>();
        switch (op) {
            case BinaryOp::add: broadcast_loop(po, pa, pb, n, inner, [](T x, T y) { return x + y; }); break;
            case BinaryOp::sub: broadcast_loop(po, pa, pb, n, inner, [](T x, T y) { return x - y; }); break;
            case BinaryOp::mul: broadcast_loop(po, pa, pb, n, inner, [](T x, T y) { return x * y; }); break;
            case BinaryOp::div: broadcast_loop(po, pa, pb, n, inner, [](T x, T y) { return x / y; }); break;
        }
    });
}

void CpuBackend::scale(Tensor& out, const Tensor& a, double s) {
    cpu::dispatch_float("scale", a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T* pa = a.data<T>();
        T* po = out.data<T>();
        const T st = static_cast<T>(s);
        const std::int64_t n = a.numel();
#pragma omp parallel for simd if (n > cpu::kParallelGrain)
        for (std::int64_t i = 0; i < n; ++i) po[i] = st * pa[i];
    });
}

void CpuBackend::axpy(Tensor& y, const Tensor& x, double alpha) {
    cpu::dispatch_float("axpy", y.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T* px = x.data<T>();
        T* py = y.data<T>();
        const T at = static_cast<T>(alpha);
        const std::int64_t n = y.numel();
#pragma omp parallel for simd if (n > cpu::kParallelGrain)
        for (std::int64_t i = 0; i < n; ++i) py[i] += at * px[i];
    });
}

}  // namespace bplab
