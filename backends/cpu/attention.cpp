// backends/cpu/attention.cpp — scaled dot-product attention, one (batch, head) group per thread.
// The forward keeps only the log-sum-exp of each score row; the backward recomputes the probabilities.
#include <cmath>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/eigen_map.h"

namespace bplab {

void CpuBackend::attention_forward(Tensor& out, Tensor& lse, const Tensor& q, const Tensor& k, const Tensor& v,
                                   double scale) {
    const std::int64_t nq = q.size(-2), nk = k.size(-2), d = q.size(-1);
    if (q.numel() == 0 || k.numel() == 0) return;  // no rows: nothing to compute
    const std::int64_t groups = q.numel() / (nq * d);
    cpu::dispatch_float("attention_forward", q.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T *pq = q.data<T>(), *pk = k.data<T>(), *pv = v.data<T>();
        T *po = out.data<T>(), *pl = lse.data<T>();
#pragma omp parallel for if (groups > 1)
        for (std::int64_t g = 0; g < groups; ++g) {
            const cpu::ConstMatMap<T> Q(pq + g * nq * d, nq, d), K(pk + g * nk * d, nk, d), V(pv + g * nk * d, nk, d);
            cpu::RowMatrix<T> s = (Q * K.transpose()) * static_cast<T>(scale);  // (Nq, Nk)
            for (std::int64_t i = 0; i < nq; ++i) {
                const T mx = s.row(i).maxCoeff();
                s.row(i) = (s.row(i).array() - mx).exp();
                const T sum = s.row(i).sum();
                s.row(i) /= sum;
                pl[g * nq + i] = mx + std::log(sum);
            }
            cpu::MatMap<T>(po + g * nq * d, nq, d).noalias() = s * V;
        }
    });
}

void CpuBackend::attention_backward(Tensor& dq, Tensor& dk, Tensor& dv, const Tensor& dout, const Tensor& q,
                                    const Tensor& k, const Tensor& v, const Tensor& lse, double scale) {
    const std::int64_t nq = q.size(-2), nk = k.size(-2), d = q.size(-1);
    if (q.numel() == 0 || k.numel() == 0) return;  // no rows: nothing to compute
    const std::int64_t groups = q.numel() / (nq * d);
    cpu::dispatch_float("attention_backward", q.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T *pq = q.data<T>(), *pk = k.data<T>(), *pv = v.data<T>(), *pdo = dout.data<T>(), *pl = lse.data<T>();
        const T sc = static_cast<T>(scale);
#pragma omp parallel for if (groups > 1)
        for (std::int64_t g = 0; g < groups; ++g) {
            const cpu::ConstMatMap<T> Q(pq + g * nq * d, nq, d), K(pk + g * nk * d, nk, d), V(pv + g * nk * d, nk, d),
                dO(pdo + g * nq * d, nq, d);
            cpu::RowMatrix<T> p = (Q * K.transpose()) * sc;  // scores, then probabilities (Nq, Nk)
            for (std::int64_t i = 0; i < nq; ++i) p.row(i) = (p.row(i).array() - pl[g * nq + i]).exp();
            if (dv.defined()) cpu::MatMap<T>(dv.data<T>() + g * nk * d, nk, d).noalias() = p.transpose() * dO;
            cpu::RowMatrix<T> ds = dO * V.transpose();  // dP, then dS = P ⊙ (dP − Σ_j P ⊙ dP)
            for (std::int64_t i = 0; i < nq; ++i) {
                const T dot = (ds.row(i).array() * p.row(i).array()).sum();
                ds.row(i) = p.row(i).array() * (ds.row(i).array() - dot) * sc;
            }
            if (dq.defined()) cpu::MatMap<T>(dq.data<T>() + g * nq * d, nq, d).noalias() = ds * K;
            if (dk.defined()) cpu::MatMap<T>(dk.data<T>() + g * nk * d, nk, d).noalias() = ds.transpose() * Q;
        }
    });
}

}  // namespace bplab
