// backends/cpu/layer_norm.cpp — layer normalisation over the last dim, forward and backward.
// Statistics in double per row; the backward uses the saved mean and 1/σ instead of recomputing them.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/cpu/cpu_backend.h"

namespace bplab {

void CpuBackend::layer_norm_forward(Tensor& y, Tensor& mean, Tensor& rstd, const Tensor& x, const Tensor& w,
                                    const Tensor& b, double eps) {
    const std::int64_t rows = rows_of(x), c = x.size(-1);
    cpu::dispatch_float("layer_norm_forward", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T *px = x.data<T>(), *pw = w.defined() ? w.data<T>() : nullptr, *pb = b.defined() ? b.data<T>() : nullptr;
        T *py = y.data<T>(), *pm = mean.data<T>(), *pr = rstd.data<T>();
#pragma omp parallel for if (x.numel() > cpu::kParallelGrain)
        for (std::int64_t r = 0; r < rows; ++r) {
            const T* xr = px + r * c;
            double s = 0, s2 = 0;
#pragma omp simd reduction(+ : s)
            for (std::int64_t j = 0; j < c; ++j) s += xr[j];
            const double mu = s / static_cast<double>(c);
#pragma omp simd reduction(+ : s2)
            for (std::int64_t j = 0; j < c; ++j) s2 += (xr[j] - mu) * (xr[j] - mu);
            const double inv = 1.0 / std::sqrt(s2 / static_cast<double>(c) + eps);
            pm[r] = static_cast<T>(mu);
            pr[r] = static_cast<T>(inv);
            const T m = static_cast<T>(mu), is = static_cast<T>(inv);
            T* yr = py + r * c;
            for (std::int64_t j = 0; j < c; ++j) {
                const T xhat = (xr[j] - m) * is;
                yr[j] = (pw ? xhat * pw[j] : xhat) + (pb ? pb[j] : T(0));
            }
        }
    });
}

void CpuBackend::layer_norm_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x,
                                     const Tensor& w, const Tensor& mean, const Tensor& rstd) {
    const std::int64_t rows = rows_of(x), c = x.size(-1);
    cpu::dispatch_float("layer_norm_backward", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T *px = x.data<T>(), *pdy = dy.data<T>(), *pw = w.defined() ? w.data<T>() : nullptr;
        const T *pm = mean.data<T>(), *pr = rstd.data<T>();
        if (dx.defined()) {
            T* pdx = dx.data<T>();
            // dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂)), g = dy ⊙ w
#pragma omp parallel for if (x.numel() > cpu::kParallelGrain)
            for (std::int64_t r = 0; r < rows; ++r) {
                const T *xr = px + r * c, *gr = pdy + r * c;
                const T m = pm[r], is = pr[r];
                double sg = 0, sgx = 0;
#pragma omp simd reduction(+ : sg, sgx)
                for (std::int64_t j = 0; j < c; ++j) {
                    const T g = pw ? gr[j] * pw[j] : gr[j];
                    sg += g;
                    sgx += g * (xr[j] - m) * is;
                }
                const T mg = static_cast<T>(sg / static_cast<double>(c)), mgx = static_cast<T>(sgx / static_cast<double>(c));
                T* dxr = pdx + r * c;
                for (std::int64_t j = 0; j < c; ++j) {
                    const T g = pw ? gr[j] * pw[j] : gr[j];
                    dxr[j] = is * (g - mg - (xr[j] - m) * is * mgx);
                }
            }
        }
        if (dw.defined() || db.defined()) {
            // Column sums over rows: fixed row blocks, each summed alone, then added in block order
            // (deterministic for any thread count, which bit-identical resumes rely on).
            constexpr std::int64_t block = 256;
            const std::int64_t blocks = (rows + block - 1) / block;
            std::vector<double> part_w(static_cast<std::size_t>(blocks * c), 0.0), part_b(part_w.size(), 0.0);
#pragma omp parallel for if (x.numel() > cpu::kParallelGrain)
            for (std::int64_t blk = 0; blk < blocks; ++blk) {
                double* lw = part_w.data() + blk * c;
                double* lb = part_b.data() + blk * c;
                for (std::int64_t r = blk * block; r < std::min(rows, (blk + 1) * block); ++r) {
                    const T *xr = px + r * c, *gr = pdy + r * c;
                    const T m = pm[r], is = pr[r];
                    for (std::int64_t j = 0; j < c; ++j) {
                        lw[j] += gr[j] * (xr[j] - m) * is;
                        lb[j] += gr[j];
                    }
                }
            }
            std::vector<double> acc_w(static_cast<std::size_t>(c), 0.0), acc_b(static_cast<std::size_t>(c), 0.0);
            for (std::int64_t blk = 0; blk < blocks; ++blk)
                for (std::int64_t j = 0; j < c; ++j) {
                    acc_w[static_cast<std::size_t>(j)] += part_w[static_cast<std::size_t>(blk * c + j)];
                    acc_b[static_cast<std::size_t>(j)] += part_b[static_cast<std::size_t>(blk * c + j)];
                }
            for (std::int64_t j = 0; j < c; ++j) {
                if (dw.defined()) dw.data<T>()[j] = static_cast<T>(acc_w[static_cast<std::size_t>(j)]);
                if (db.defined()) db.data<T>()[j] = static_cast<T>(acc_b[static_cast<std::size_t>(j)]);
            }
        }
    });
}

}  // namespace bplab
