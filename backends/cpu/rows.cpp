// backends/cpu/rows.cpp — gather, scatter and fill of rows along one axis, as contiguous copies.
// Views x as (outer, n, inner): row idx[k] of every outer slice is a run of `inner` elements.
#include <algorithm>
#include <cstring>

#include "backends/cpu/cpu_backend.h"

namespace bplab {
namespace {

template <class F>
void for_each_row(std::int64_t outer, std::int64_t k, std::int64_t inner, F f) {
#pragma omp parallel for collapse(2) if (outer * k * inner > cpu::kParallelGrain)
    for (std::int64_t o = 0; o < outer; ++o)
        for (std::int64_t r = 0; r < k; ++r) f(o, r);
    (void)inner;
}

}  // namespace

void CpuBackend::gather_rows(Tensor& out, const Tensor& x, const Tensor& idx, std::int64_t outer, std::int64_t n,
                             std::int64_t inner) {
    const auto* id = idx.data<std::int64_t>();
    const std::int64_t k = idx.numel();
    const std::size_t es = dtype_size(x.dtype()), run = static_cast<std::size_t>(inner) * es;
    const auto* src = static_cast<const char*>(x.raw_data());
    auto* dst = static_cast<char*>(out.raw_data());
    for_each_row(outer, k, inner, [&](std::int64_t o, std::int64_t r) {
        std::memcpy(dst + static_cast<std::size_t>(o * k + r) * run, src + static_cast<std::size_t>(o * n + id[r]) * run, run);
    });
}

void CpuBackend::scatter_rows(Tensor& out, const Tensor& src, const Tensor& idx, std::int64_t outer, std::int64_t n,
                              std::int64_t inner) {
    const auto* id = idx.data<std::int64_t>();
    const std::int64_t k = idx.numel();
    const std::size_t es = dtype_size(src.dtype()), run = static_cast<std::size_t>(inner) * es;
    const auto* s = static_cast<const char*>(src.raw_data());
    auto* dst = static_cast<char*>(out.raw_data());
    for_each_row(outer, k, inner, [&](std::int64_t o, std::int64_t r) {
        std::memcpy(dst + static_cast<std::size_t>(o * n + id[r]) * run, s + static_cast<std::size_t>(o * k + r) * run, run);
    });
}

void CpuBackend::fill_rows(Tensor& out, const Tensor& idx, double value, std::int64_t outer, std::int64_t n,
                           std::int64_t inner) {
    const auto* id = idx.data<std::int64_t>();
    const std::int64_t k = idx.numel();
    cpu::dispatch_float("fill_rows", out.dtype(), [&](auto tag) {
        using T = decltype(tag);
        T* po = out.data<T>();
        for_each_row(outer, k, inner, [&](std::int64_t o, std::int64_t r) {
            std::fill_n(po + (o * n + id[r]) * inner, inner, static_cast<T>(value));
        });
    });
}

}  // namespace bplab
