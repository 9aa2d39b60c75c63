// backends/cpu/reduce.cpp — sum over one axis, its repeat (backward), sum of squares, row argmax.
// Sums accumulate in double so that f32 reductions over long axes stay accurate.
#include <algorithm>
#include <vector>

#include "backends/cpu/cpu_backend.h"

namespace bplab {

void CpuBackend::sum_axis(Tensor& out, const Tensor& x, std::int64_t outer, std::int64_t n, std::int64_t inner) {
    cpu::dispatch_float("sum_axis", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T* px = x.data<T>();
        T* po = out.data<T>();
#pragma omp parallel for if (x.numel() > cpu::kParallelGrain && outer > 1)
        for (std::int64_t o = 0; o < outer; ++o) {
            std::vector<double> acc(static_cast<std::size_t>(inner), 0.0);
            for (std::int64_t j = 0; j < n; ++j) {
                const T* row = px + (o * n + j) * inner;
                for (std::int64_t i = 0; i < inner; ++i) acc[static_cast<std::size_t>(i)] += row[i];
            }
            for (std::int64_t i = 0; i < inner; ++i) po[o * inner + i] = static_cast<T>(acc[static_cast<std::size_t>(i)]);
        }
    });
}

void CpuBackend::repeat_axis(Tensor& out, const Tensor& x, std::int64_t outer, std::int64_t n, std::int64_t inner) {
    cpu::dispatch_float("repeat_axis", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T* px = x.data<T>();
        T* po = out.data<T>();
#pragma omp parallel for collapse(2) if (out.numel() > cpu::kParallelGrain)
        for (std::int64_t o = 0; o < outer; ++o)
            for (std::int64_t j = 0; j < n; ++j)
                for (std::int64_t i = 0; i < inner; ++i) po[(o * n + j) * inner + i] = px[o * inner + i];
    });
}

void CpuBackend::sum_squares(Tensor& out, const Tensor& x) {
    cpu::dispatch_float("sum_squares", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T* px = x.data<T>();
        // Fixed blocks, their sums added in order: the same bits for any number of threads (an OpenMP reduction
        // would add the threads' sums in the order they finish).
        constexpr std::int64_t kBlock = 4096;
        const std::int64_t n = x.numel(), blocks = (n + kBlock - 1) / kBlock;
        std::vector<double> partial(static_cast<std::size_t>(blocks), 0.0);
#pragma omp parallel for if (n > cpu::kParallelGrain)
        for (std::int64_t b = 0; b < blocks; ++b) {
            double acc = 0.0;
            for (std::int64_t i = b * kBlock; i < std::min(n, (b + 1) * kBlock); ++i)
                acc += static_cast<double>(px[i]) * static_cast<double>(px[i]);
            partial[static_cast<std::size_t>(b)] = acc;
        }
        double acc = 0.0;
        for (const double p : partial) acc += p;
        out.data<double>()[0] = acc;
    });
}

void CpuBackend::argmax_rows(Tensor& out, const Tensor& x) {
    const std::int64_t rows = rows_of(x), cols = x.size(-1);
    cpu::dispatch_float("argmax_rows", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T* px = x.data<T>();
        auto* po = out.data<std::int64_t>();
        for (std::int64_t r = 0; r < rows; ++r) {
            std::int64_t best = 0;
            for (std::int64_t c = 1; c < cols; ++c)
                if (px[r * cols + c] > px[r * cols + best]) best = c;
            po[r] = best;
        }
    });
}

}  // namespace bplab
