// backends/cuda/attention.cu — softmax(q kᵀ·scale) v with batched cuBLAS GEMMs and a row kernel; saves only
// the log-sum-exp per query, and the backward recomputes the probabilities. Twin of backends/cpu/attention.cpp.
#include "backends/cuda/gemm.cuh"
#include "backends/cuda/kernels.cuh"

namespace bplab::cuda {
namespace {

/// In place over each row of s (the scaled scores), one warp per row: s = softmax(s); lse = log Σ exp(s).
template <class T>
__global__ void softmax_lse_kernel(T* s, T* lse, std::int64_t rows, std::int64_t cols) {
    const std::int64_t r = warp_row(rows);
    if (r < 0) return;
    T* row = s + r * cols;
    T m, sum;
    warp_row_max_sum_exp(row, cols, m, sum);
    for (std::int64_t c = threadIdx.x; c < cols; c += 32) row[c] = exp(row[c] - m) / sum;
    if (threadIdx.x == 0) lse[r] = m + log(sum);
}

/// p = exp(s − lse) in place, from the recomputed scaled scores.
template <class T>
__global__ void probabilities_kernel(T* s, const T* lse, std::int64_t n, std::int64_t cols) {
    BPLAB_GRID_STRIDE(i, n) s[i] = exp(s[i] - lse[i / cols]);
}

/// dS = P ⊙ (dP − Σ_c dP ⊙ P), in place over dP, one warp per row.
template <class T>
__global__ void softmax_grad_kernel(T* dp, const T* p, std::int64_t rows, std::int64_t cols) {
    const std::int64_t r = warp_row(rows);
    if (r < 0) return;
    const std::int64_t base = r * cols;
    T s = 0;
    for (std::int64_t c = threadIdx.x; c < cols; c += 32) s += dp[base + c] * p[base + c];
    s = warp_sum(s);
    for (std::int64_t c = threadIdx.x; c < cols; c += 32) dp[base + c] = p[base + c] * (dp[base + c] - s);
}

struct Geometry {
    std::int64_t groups, nq, nk, d;
};

Geometry geometry(const Tensor& q, const Tensor& k) {
    const std::int64_t d = q.size(-1), nq = q.size(-2), nk = k.size(-2);
    return {q.numel() / (nq * d), nq, nk, d};
}

}  // namespace

void CudaBackend::attention_forward(Tensor& out, Tensor& lse, const Tensor& q, const Tensor& k, const Tensor& v,
                                    double scale) {
    if (q.numel() == 0 || k.numel() == 0) return;  // no rows: nothing to compute (as on the CPU)
    const Geometry g = geometry(q, k);
    Tensor s = scratch({g.groups, g.nq, g.nk}, q.dtype());  // the map lives only inside this call
    dispatch_float("attention", q.dtype(), [&](auto tag) {
        using T = decltype(tag);
        gemm<T>(cublas_, s.data<T>(), q.data<T>(), k.data<T>(), g.nq, g.nk, g.d, false, true, g.groups, g.nq * g.d,
                g.nk * g.d, static_cast<T>(scale), T(0));
        softmax_lse_kernel<<<row_blocks(g.groups * g.nq), dim3(32, kRowsPerBlock)>>>(s.data<T>(), lse.data<T>(),
                                                                                   g.groups * g.nq, g.nk);
        BPLAB_CUDA_LAUNCHED();
        gemm<T>(cublas_, out.data<T>(), s.data<T>(), v.data<T>(), g.nq, g.d, g.nk, false, false, g.groups, g.nq * g.nk,
                g.nk * g.d, T(1), T(0));
    });
}

void CudaBackend::attention_backward(Tensor& dq, Tensor& dk, Tensor& dv, const Tensor& dout, const Tensor& q,
                                     const Tensor& k, const Tensor& v, const Tensor& lse, double scale) {
    // Undefined outputs are inputs that need no gradient (SBP's query mode detaches q and k of dropped rows).
    if (q.numel() == 0 || k.numel() == 0) {
        for (Tensor* t : {&dq, &dk, &dv})
            if (t->defined()) fill(*t, 0.0);
        return;
    }
    const Geometry g = geometry(q, k);
    Tensor p = scratch({g.groups, g.nq, g.nk}, q.dtype());
    dispatch_float("attention backward", q.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T sc = static_cast<T>(scale);
        gemm<T>(cublas_, p.data<T>(), q.data<T>(), k.data<T>(), g.nq, g.nk, g.d, false, true, g.groups, g.nq * g.d,
                g.nk * g.d, sc, T(0));
        probabilities_kernel<<<blocks_for(p.numel()), kThreads>>>(p.data<T>(), lse.data<T>(), p.numel(), g.nk);
        BPLAB_CUDA_LAUNCHED();
        if (dv.defined())  // dV = Pᵀ dO
            gemm<T>(cublas_, dv.data<T>(), p.data<T>(), dout.data<T>(), g.nk, g.d, g.nq, true, false, g.groups,
                    g.nq * g.nk, g.nq * g.d, T(1), T(0));
        if (!dq.defined() && !dk.defined()) return;
        Tensor dp = scratch({g.groups, g.nq, g.nk}, q.dtype());  // dP = dO Vᵀ, then dS in place
        gemm<T>(cublas_, dp.data<T>(), dout.data<T>(), v.data<T>(), g.nq, g.nk, g.d, false, true, g.groups, g.nq * g.d,
                g.nk * g.d, T(1), T(0));
        softmax_grad_kernel<<<row_blocks(g.groups * g.nq), dim3(32, kRowsPerBlock)>>>(dp.data<T>(), p.data<T>(),
                                                                                    g.groups * g.nq, g.nk);
        BPLAB_CUDA_LAUNCHED();
        if (dq.defined())  // dQ = dS K · scale
            gemm<T>(cublas_, dq.data<T>(), dp.data<T>(), k.data<T>(), g.nq, g.d, g.nk, false, false, g.groups,
                    g.nq * g.nk, g.nk * g.d, sc, T(0));
        if (dk.defined())  // dK = dSᵀ Q · scale
            gemm<T>(cublas_, dk.data<T>(), dp.data<T>(), q.data<T>(), g.nk, g.d, g.nq, true, false, g.groups,
                    g.nq * g.nk, g.nq * g.d, sc, T(0));
    });
}

}  // namespace bplab::cuda
