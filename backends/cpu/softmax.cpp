// backends/cpu/softmax.cpp — softmax, log-softmax and fused cross-entropy over rows.
// Every row subtracts its maximum first, so large logits never overflow exp.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/cpu/cpu_backend.h"

namespace bplab {
namespace {

/// y = log_softmax(x) for one row of length c.
template <class T>
void log_softmax_row(T* y, const T* x, std::int64_t c) {
    const T mx = *std::max_element(x, x + c);
    double s = 0.0;
    for (std::int64_t j = 0; j < c; ++j) s += std::exp(static_cast<double>(x[j] - mx));
    const T lse = mx + static_cast<T>(std::log(s));
    for (std::int64_t j = 0; j < c; ++j) y[j] = x[j] - lse;
}

}  // namespace

void CpuBackend::softmax_forward(Tensor& y, const Tensor& x) {
    const std::int64_t rows = rows_of(x), c = x.size(-1);
    cpu::dispatch_float("softmax_forward", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T* px = x.data<T>();
        T* py = y.data<T>();
#pragma omp parallel for if (x.numel() > cpu::kParallelGrain)
        for (std::int64_t r = 0; r < rows; ++r) {
            const T* xr = px + r * c;
            T* yr = py + r * c;
            const T mx = *std::max_element(xr, xr + c);
            T s = 0;
            for (std::int64_t j = 0; j < c; ++j) s += (yr[j] = std::exp(xr[j] - mx));
            const T inv = static_cast<T>(1) / s;
            for (std::int64_t j = 0; j < c; ++j) yr[j] *= inv;
        }
    });
}

void CpuBackend::softmax_backward(Tensor& dx, const Tensor& dy, const Tensor& y) {
    const std::int64_t rows = rows_of(y), c = y.size(-1);
    cpu::dispatch_float("softmax_backward", y.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T *pdy = dy.data<T>(), *py = y.data<T>();
        T* pdx = dx.data<T>();
#pragma omp parallel for if (y.numel() > cpu::kParallelGrain)
        for (std::int64_t r = 0; r < rows; ++r) {
            T dot = 0;
            for (std::int64_t j = 0; j < c; ++j) dot += pdy[r * c + j] * py[r * c + j];
            for (std::int64_t j = 0; j < c; ++j) pdx[r * c + j] = py[r * c + j] * (pdy[r * c + j] - dot);
        }
    });
}

void CpuBackend::log_softmax_forward(Tensor& y, const Tensor& x) {
    const std::int64_t rows = rows_of(x), c = x.size(-1);
    cpu::dispatch_float("log_softmax_forward", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T* px = x.data<T>();
        T* py = y.data<T>();
#pragma omp parallel for if (x.numel() > cpu::kParallelGrain)
        for (std::int64_t r = 0; r < rows; ++r) log_softmax_row(py + r * c, px + r * c, c);
    });
}

void CpuBackend::log_softmax_backward(Tensor& dx, const Tensor& dy, const Tensor& y) {
    const std::int64_t rows = rows_of(y), c = y.size(-1);
    cpu::dispatch_float("log_softmax_backward", y.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T *pdy = dy.data<T>(), *py = y.data<T>();
        T* pdx = dx.data<T>();
#pragma omp parallel for if (y.numel() > cpu::kParallelGrain)
        for (std::int64_t r = 0; r < rows; ++r) {
            T s = 0;
            for (std::int64_t j = 0; j < c; ++j) s += pdy[r * c + j];
            for (std::int64_t j = 0; j < c; ++j) pdx[r * c + j] = pdy[r * c + j] - std::exp(py[r * c + j]) * s;
        }
    });
}

void CpuBackend::cross_entropy_forward(Tensor& loss, Tensor& logp, const Tensor& logits, const Tensor& labels,
                                       double smoothing) {
    const std::int64_t rows = logits.size(0), c = logits.size(1);
    const auto* y = labels.data<std::int64_t>();
    cpu::dispatch_float("cross_entropy_forward", logits.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T* px = logits.data<T>();
        T* pl = logp.data<T>();
        std::vector<double> row_loss(static_cast<std::size_t>(rows));  // added in row order: any thread count, same bits
#pragma omp parallel for if (logits.numel() > cpu::kParallelGrain)
        for (std::int64_t r = 0; r < rows; ++r) {
            T* lr = pl + r * c;
            log_softmax_row(lr, px + r * c, c);
            double row_sum = 0.0;
            for (std::int64_t j = 0; j < c; ++j) row_sum += lr[j];
            row_loss[static_cast<std::size_t>(r)] = -(1.0 - smoothing) * lr[y[r]] - smoothing / static_cast<double>(c) * row_sum;
        }
        double total = 0.0;
        for (const double v : row_loss) total += v;
        loss.data<T>()[0] = static_cast<T>(rows ? total / static_cast<double>(rows) : 0.0);
    });
}

void CpuBackend::cross_entropy_backward(Tensor& dlogits, const Tensor& dloss, const Tensor& logp, const Tensor& labels,
                                        double smoothing) {
    const std::int64_t rows = logp.size(0), c = logp.size(1);
    const auto* y = labels.data<std::int64_t>();
    cpu::dispatch_float("cross_entropy_backward", logp.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T* pl = logp.data<T>();
        T* pd = dlogits.data<T>();
        const T g = dloss.data<T>()[0] / static_cast<T>(rows);
        const T off = static_cast<T>(smoothing / static_cast<double>(c)), on = static_cast<T>(1.0 - smoothing) + off;
#pragma omp parallel for if (logp.numel() > cpu::kParallelGrain)
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t j = 0; j < c; ++j)
                pd[r * c + j] = g * (std::exp(pl[r * c + j]) - (j == y[r] ? on : off));
    });
}

}  // namespace bplab
