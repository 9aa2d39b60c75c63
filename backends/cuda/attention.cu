// backends/cuda/attention.cu — softmax(q kᵀ·scale) v with batched cuBLAS GEMMs and a row kernel; saves only
// the log-sum-exp per query, and the backward recomputes the probabilities. Under autocast (bf16 q, k, v, dout)
// every GEMM takes bf16 operands on tensor cores, P and dS rounded first. Twin of backends/cpu/attention.cpp.
#include <limits>

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

/// The groups' products c = alpha op(a) op(b) (beta 0), with T the sums' type: bf16 a and b under autocast
/// (f32 sums, tensor cores), else a and b of type T.
template <class T>
void product(cublasHandle_t h, Tensor& c, const Tensor& a, const Tensor& b, std::int64_t m, std::int64_t n,
             std::int64_t k, bool trans_a, bool trans_b, const Geometry& g, std::int64_t stride_a, std::int64_t stride_b,
             double alpha) {
    if constexpr (std::is_same_v<T, float>)
        if (a.dtype() == DType::bf16) {
            gemm_bf16(h, c.data<float>(), a.data<BFloat16>(), b.data<BFloat16>(), m, n, k, trans_a, trans_b, g.groups,
                      stride_a, stride_b, static_cast<float>(alpha), 0.0f);
            return;
        }
    gemm<T>(h, c.data<T>(), a.data<T>(), b.data<T>(), m, n, k, trans_a, trans_b, g.groups, stride_a, stride_b,
            static_cast<T>(alpha), T(0));
}

/// A probability or dS map as the operand of a product: rounded to bf16 (a scratch copy) when the operands are
/// bf16 (autocast), else the map itself.
Tensor product_operand(CudaBackend& backend, const Tensor& map, DType operands) {
    if (operands != DType::bf16) return map;
    Tensor rounded = scratch(map.shape(), DType::bf16);
    backend.cast(rounded, map);
    return rounded;
}

}  // namespace

void CudaBackend::attention_forward(Tensor& out, Tensor& lse, const Tensor& q, const Tensor& k, const Tensor& v,
                                    double scale) {
    if (q.numel() == 0 || k.numel() == 0) {  // no rows, or no keys: out 0, lse −∞ (as on the CPU)
        fill(out, 0.0);
        fill(lse, -std::numeric_limits<double>::infinity());
        return;
    }
    const Geometry g = geometry(q, k);
    Tensor s = scratch({g.groups, g.nq, g.nk}, lse.dtype());  // the map lives only inside this call
    dispatch_float("attention", lse.dtype(), [&](auto tag) {  // lse has the sums' type: f32 for bf16 q, k, v
        using T = decltype(tag);
        product<T>(cublas_, s, q, k, g.nq, g.nk, g.d, false, true, g, g.nq * g.d, g.nk * g.d, scale);
        softmax_lse_kernel<<<row_blocks(g.groups * g.nq), dim3(32, kRowsPerBlock)>>>(s.data<T>(), lse.data<T>(),
                                                                                   g.groups * g.nq, g.nk);
        BPLAB_CUDA_LAUNCHED();
        product<T>(cublas_, out, product_operand(*this, s, q.dtype()), v, g.nq, g.d, g.nk, false, false, g,
                   g.nq * g.nk, g.nk * g.d, 1.0);
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
    Tensor p = scratch({g.groups, g.nq, g.nk}, lse.dtype());
    dispatch_float("attention backward", lse.dtype(), [&](auto tag) {
        using T = decltype(tag);
        product<T>(cublas_, p, q, k, g.nq, g.nk, g.d, false, true, g, g.nq * g.d, g.nk * g.d, scale);
        probabilities_kernel<<<blocks_for(p.numel()), kThreads>>>(p.data<T>(), lse.data<T>(), p.numel(), g.nk);
        BPLAB_CUDA_LAUNCHED();
        if (dv.defined())  // dV = Pᵀ dO
            product<T>(cublas_, dv, product_operand(*this, p, q.dtype()), dout, g.nk, g.d, g.nq, true, false, g,
                       g.nq * g.nk, g.nq * g.d, 1.0);
        if (!dq.defined() && !dk.defined()) return;
        Tensor dp = scratch({g.groups, g.nq, g.nk}, lse.dtype());  // dP = dO Vᵀ, then dS in place
        product<T>(cublas_, dp, dout, v, g.nq, g.nk, g.d, false, true, g, g.nq * g.d, g.nk * g.d, 1.0);
        softmax_grad_kernel<<<row_blocks(g.groups * g.nq), dim3(32, kRowsPerBlock)>>>(dp.data<T>(), p.data<T>(),
                                                                                    g.groups * g.nq, g.nk);
        BPLAB_CUDA_LAUNCHED();
        const Tensor ds = product_operand(*this, dp, q.dtype());
        if (dq.defined())  // dQ = dS K · scale
            product<T>(cublas_, dq, ds, k, g.nq, g.d, g.nk, false, false, g, g.nq * g.nk, g.nk * g.d, scale);
        if (dk.defined())  // dK = dSᵀ Q · scale
            product<T>(cublas_, dk, ds, q, g.nk, g.d, g.nq, true, false, g, g.nq * g.nk, g.nq * g.d, scale);
    });
}

}  // namespace bplab::cuda
