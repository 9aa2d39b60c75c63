// backends/cpu/attention.cpp — scaled dot-product attention, one (batch, head) group per thread.
// The forward keeps only the log-sum-exp of each score row; the backward recomputes the probabilities. Under
// autocast (bf16 q, k, v, dout) every product reads bf16 operands: P and dS are rounded before theirs.
#include <cmath>
#include <limits>
#include <type_traits>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/eigen_map.h"
#include "core/bfloat16.h"

namespace bplab {
namespace {

/// The element type a group is computed in: f32 for bf16 operands (widened exactly), else the operands' own.
template <class O>
using Compute = std::conditional_t<std::is_same_v<O, BFloat16>, float, O>;

/// The (rows, cols) row-major block at p as a matrix of Compute<O>: a map, or a widened copy of bf16 values.
template <class O>
auto operand(const O* p, std::int64_t rows, std::int64_t cols) {
    if constexpr (std::is_same_v<O, BFloat16>) {
        cpu::RowMatrix<float> m(rows, cols);
        for (std::int64_t i = 0; i < rows * cols; ++i) m.data()[i] = static_cast<float>(p[i]);
        return m;
    } else {
        return cpu::ConstMatMap<O>(p, rows, cols);
    }
}

/// m as the operand of a product: each value rounded to bf16 under autocast (O = BFloat16), else m itself.
template <class O, class M>
decltype(auto) product_operand(const M& m) {
    if constexpr (std::is_same_v<O, BFloat16>) return cpu::RowMatrix<float>(m.unaryExpr([](float v) { return round_to_bf16(v); }));
    else return (m);  // a reference: no copy
}

/// Calls f(O{}) with O the storage type of the operands: float, double or BFloat16 (autocast).
template <class F>
void dispatch_operands(const char* op, DType dtype, F&& f) {
    if (dtype == DType::bf16) f(BFloat16{});
    else cpu::dispatch_float(op, dtype, f);
}

}  // namespace

void CpuBackend::attention_forward(Tensor& out, Tensor& lse, const Tensor& q, const Tensor& k, const Tensor& v,
                                   double scale) {
    const std::int64_t nq = q.size(-2), nk = k.size(-2), d = q.size(-1);
    if (q.numel() == 0 || k.numel() == 0) {  // no rows, or no keys: out is an empty sum of values, lse log 0
        fill(out, 0.0);
        fill(lse, -std::numeric_limits<double>::infinity());
        return;
    }
    const std::int64_t groups = q.numel() / (nq * d);
    dispatch_operands("attention_forward", q.dtype(), [&](auto tag) {
        using O = decltype(tag);
        using T = Compute<O>;
        const O *pq = q.data<O>(), *pk = k.data<O>(), *pv = v.data<O>();
        T *po = out.data<T>(), *pl = lse.data<T>();
#pragma omp parallel for if (groups > 1)
        for (std::int64_t g = 0; g < groups; ++g) {
            const auto Q = operand(pq + g * nq * d, nq, d), K = operand(pk + g * nk * d, nk, d),
                       V = operand(pv + g * nk * d, nk, d);
            cpu::RowMatrix<T> s = (Q * K.transpose()) * static_cast<T>(scale);  // (Nq, Nk)
            for (std::int64_t i = 0; i < nq; ++i) {
                const T mx = s.row(i).maxCoeff();
                s.row(i) = (s.row(i).array() - mx).exp();
                const T sum = s.row(i).sum();
                s.row(i) /= sum;
                pl[g * nq + i] = mx + std::log(sum);
            }
            cpu::MatMap<T>(po + g * nq * d, nq, d).noalias() = product_operand<O>(s) * V;
        }
    });
}

void CpuBackend::attention_backward(Tensor& dq, Tensor& dk, Tensor& dv, const Tensor& dout, const Tensor& q,
                                    const Tensor& k, const Tensor& v, const Tensor& lse, double scale) {
    const std::int64_t nq = q.size(-2), nk = k.size(-2), d = q.size(-1);
    if (q.numel() == 0 || k.numel() == 0) {  // no rows: the gradients that exist are zero
        for (Tensor* t : {&dq, &dk, &dv})
            if (t->defined()) fill(*t, 0.0);
        return;
    }
    const std::int64_t groups = q.numel() / (nq * d);
    dispatch_operands("attention_backward", q.dtype(), [&](auto tag) {
        using O = decltype(tag);
        using T = Compute<O>;
        const O *pq = q.data<O>(), *pk = k.data<O>(), *pdo = dout.data<O>();
        const O* pv = v.defined() ? v.data<O>() : nullptr;  // read only for dq and dk
        const T* pl = lse.data<T>();
        const T sc = static_cast<T>(scale);
#pragma omp parallel for if (groups > 1)
        for (std::int64_t g = 0; g < groups; ++g) {
            const auto Q = operand(pq + g * nq * d, nq, d), K = operand(pk + g * nk * d, nk, d),
                       dO = operand(pdo + g * nq * d, nq, d);
            cpu::RowMatrix<T> p = (Q * K.transpose()) * sc;  // scores, then probabilities (Nq, Nk)
            for (std::int64_t i = 0; i < nq; ++i) p.row(i) = (p.row(i).array() - pl[g * nq + i]).exp();
            if (dv.defined())
                cpu::MatMap<T>(dv.data<T>() + g * nk * d, nk, d).noalias() = product_operand<O>(p).transpose() * dO;
            if (!dq.defined() && !dk.defined()) continue;
            // dP, then dS = P ⊙ (dP − Σ_j P ⊙ dP)
            cpu::RowMatrix<T> ds = dO * operand(pv + g * nk * d, nk, d).transpose();
            for (std::int64_t i = 0; i < nq; ++i) {
                const T dot = (ds.row(i).array() * p.row(i).array()).sum();
                ds.row(i) = p.row(i).array() * (ds.row(i).array() - dot);
            }
            const auto& dS = product_operand<O>(ds);
            if (dq.defined()) cpu::MatMap<T>(dq.data<T>() + g * nq * d, nq, d).noalias() = (dS * K) * sc;
            if (dk.defined()) cpu::MatMap<T>(dk.data<T>() + g * nk * d, nk, d).noalias() = (dS.transpose() * Q) * sc;
        }
    });
}

}  // namespace bplab
