// backends/cuda/attention.cu — softmax(q kᵀ·scale) v with batched cuBLAS GEMMs and a row kernel, in passes over
// the (batch, head) groups that bound the maps' size; saves only the log-sum-exp per query, and the backward
// recomputes the probabilities. Under autocast (bf16 q, k, v, dout)
// every GEMM takes bf16 operands on tensor cores, P and dS rounded first. Twin of backends/cpu/attention.cpp.
#include <algorithm>
#include <cstdlib>
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

/// How many groups' (Nq, Nk) maps one pass makes: as many as fit in BPLAB_CUDA_ATTENTION_MAP_BYTES (default 32 MiB)
/// per map, at least one. The maps are transient, but attention's backward runs when nearly every activation is
/// alive, so their size adds to the step's peak: ViT-Tiny at batch 256 would otherwise make two 119 MB maps.
std::int64_t groups_per_pass(const Geometry& g, std::size_t element_bytes) {
    const char* bytes = std::getenv("BPLAB_CUDA_ATTENTION_MAP_BYTES");
    const std::int64_t budget = bytes ? std::max<std::int64_t>(1, std::atoll(bytes)) : std::int64_t{32} << 20;
    const std::int64_t map = g.nq * g.nk * static_cast<std::int64_t>(element_bytes);
    return std::clamp<std::int64_t>(budget / map, 1, g.groups);
}

/// An operand of the groups' products: a (groups, rows, cols) tensor, read from group `first` on (0 for a map
/// made for this pass).
struct Groups {
    const Tensor& t;
    std::int64_t first;
};

/// `count` groups' products c = alpha op(a) op(b) (beta 0), with T the sums' type: bf16 a and b under autocast
/// (f32 sums, tensor cores), else a and b of type T.
template <class T>
void product(cublasHandle_t h, Groups c, Groups a, Groups b, std::int64_t m, std::int64_t n, std::int64_t k,
             bool trans_a, bool trans_b, std::int64_t count, std::int64_t stride_a, std::int64_t stride_b,
             double alpha) {
    T* pc = c.t.data<T>() + c.first * m * n;
    if constexpr (std::is_same_v<T, float>)
        if (a.t.dtype() == DType::bf16) {
            gemm_bf16(h, pc, a.t.data<BFloat16>() + a.first * stride_a, b.t.data<BFloat16>() + b.first * stride_b, m, n,
                      k, trans_a, trans_b, count, stride_a, stride_b, static_cast<float>(alpha), 0.0f);
            return;
        }
    gemm<T>(h, pc, a.t.data<T>() + a.first * stride_a, b.t.data<T>() + b.first * stride_b, m, n, k, trans_a, trans_b,
            count, stride_a, stride_b, static_cast<T>(alpha), T(0));
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
    dispatch_float("attention", lse.dtype(), [&](auto tag) {  // lse has the sums' type: f32 for bf16 q, k, v
        using T = decltype(tag);
        const std::int64_t per_pass = groups_per_pass(g, sizeof(T));
        Tensor s = scratch({per_pass, g.nq, g.nk}, lse.dtype());  // the maps live only inside this call
        for (std::int64_t first = 0; first < g.groups; first += per_pass) {
            const std::int64_t count = std::min(per_pass, g.groups - first), rows = count * g.nq;
            product<T>(cublas_, {s, 0}, {q, first}, {k, first}, g.nq, g.nk, g.d, false, true, count, g.nq * g.d,
                       g.nk * g.d, scale);
            softmax_lse_kernel<<<row_blocks(rows), dim3(32, kRowsPerBlock)>>>(s.data<T>(), lse.data<T>() + first * g.nq,
                                                                            rows, g.nk);
            BPLAB_CUDA_LAUNCHED();
            product<T>(cublas_, {out, first}, {product_operand(*this, s, q.dtype()), 0}, {v, first}, g.nq, g.d, g.nk,
                       false, false, count, g.nq * g.nk, g.nk * g.d, 1.0);
        }
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
    dispatch_float("attention backward", lse.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const std::int64_t per_pass = groups_per_pass(g, sizeof(T));
        const bool dqk = dq.defined() || dk.defined();
        Tensor p = scratch({per_pass, g.nq, g.nk}, lse.dtype());
        Tensor dp = dqk ? scratch({per_pass, g.nq, g.nk}, lse.dtype()) : Tensor();  // dP = dO Vᵀ, then dS in place
        for (std::int64_t first = 0; first < g.groups; first += per_pass) {
            const std::int64_t count = std::min(per_pass, g.groups - first), rows = count * g.nq;
            product<T>(cublas_, {p, 0}, {q, first}, {k, first}, g.nq, g.nk, g.d, false, true, count, g.nq * g.d,
                       g.nk * g.d, scale);
            probabilities_kernel<<<blocks_for(rows * g.nk), kThreads>>>(p.data<T>(), lse.data<T>() + first * g.nq,
                                                                        rows * g.nk, g.nk);
            BPLAB_CUDA_LAUNCHED();
            if (dv.defined())  // dV = Pᵀ dO
                product<T>(cublas_, {dv, first}, {product_operand(*this, p, q.dtype()), 0}, {dout, first}, g.nk, g.d,
                           g.nq, true, false, count, g.nq * g.nk, g.nq * g.d, 1.0);
            if (!dqk) continue;
            product<T>(cublas_, {dp, 0}, {dout, first}, {v, first}, g.nq, g.nk, g.d, false, true, count, g.nq * g.d,
                       g.nk * g.d, 1.0);
            softmax_grad_kernel<<<row_blocks(rows), dim3(32, kRowsPerBlock)>>>(dp.data<T>(), p.data<T>(), rows, g.nk);
            BPLAB_CUDA_LAUNCHED();
            const Tensor ds = product_operand(*this, dp, q.dtype());
            if (dq.defined())  // dQ = dS K · scale
                product<T>(cublas_, {dq, first}, {ds, 0}, {k, first}, g.nq, g.d, g.nk, false, false, count,
                           g.nq * g.nk, g.nk * g.d, scale);
            if (dk.defined())  // dK = dSᵀ Q · scale
                product<T>(cublas_, {dk, first}, {ds, 0}, {q, first}, g.nk, g.d, g.nq, true, false, count,
                           g.nq * g.nk, g.nq * g.d, scale);
        }
    });
}

}  // namespace bplab::cuda
