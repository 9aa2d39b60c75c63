// backends/cpu/matmul.cpp — batched GEMM and the fused linear forward/backward, on Eigen.
// Small batched products run one batch per thread; large ones let Eigen thread the GEMM. The linear layer's bf16
// operands (autocast) are widened to f32, exactly, and multiplied there.
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/eigen_map.h"

namespace bplab {
namespace {

template <class T>
void gemm(T* c, const T* a, const T* b, std::int64_t m, std::int64_t k, std::int64_t n, bool ta, bool tb, bool acc) {
    cpu::MatMap<T> C(c, m, n);
    const cpu::ConstMatMap<T> A(a, ta ? k : m, ta ? m : k), B(b, tb ? n : k, tb ? k : n);
    auto run = [&](const auto& lhs, const auto& rhs) {
        if (acc) C.noalias() += lhs * rhs;
        else C.noalias() = lhs * rhs;
    };
    if (ta && tb) run(A.transpose(), B.transpose());
    else if (ta) run(A.transpose(), B);
    else if (tb) run(A, B.transpose());
    else run(A, B);
}

/// dx (R, I) = dy (R, O) · w (O, I) and dw (O, I) = dyᵀ · x (R, I), each when defined; x is read only for dw.
void linear_products(Tensor& dx, Tensor& dw, const Tensor& dy, const Tensor& x, const Tensor& w) {
    const std::int64_t rows = cpu::rows_of(dy), in = w.size(1), out = w.size(0);
    cpu::dispatch_float("linear_backward", dy.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const cpu::ConstMatMap<T> DY(dy.data<T>(), rows, out), W(w.data<T>(), out, in);
        if (dx.defined()) cpu::MatMap<T>(dx.data<T>(), rows, in).noalias() = DY * W;
        if (dw.defined())
            cpu::MatMap<T>(dw.data<T>(), out, in).noalias() = DY.transpose() * cpu::ConstMatMap<T>(x.data<T>(), rows, in);
    });
}

}  // namespace

void CpuBackend::matmul(Tensor& out, const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, bool accumulate) {
    const std::int64_t m = out.size(-2), n = out.size(-1), k = trans_a ? a.size(-2) : a.size(-1);
    const std::int64_t batches = out.numel() / std::max<std::int64_t>(m * n, 1);
    const std::int64_t b_batches = b.numel() / std::max<std::int64_t>(k * n, 1);
    cpu::dispatch_float("matmul", a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T *pa = a.data<T>(), *pb = b.data<T>();
        T* pc = out.data<T>();
        const bool per_thread = batches > 1 && m * n * k < (1 << 18);
#pragma omp parallel for if (per_thread)
        for (std::int64_t i = 0; i < batches; ++i)
            gemm(pc + i * m * n, pa + i * m * k, pb + (b_batches == 1 ? 0 : i * k * n), m, k, n, trans_a, trans_b,
                 accumulate);
    });
}

void CpuBackend::linear_forward(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b) {
    if (w.dtype() == DType::bf16) {  // autocast: the bf16 operands, exactly in f32, then f32 products and sums
        linear_forward(y, x.to(DType::f32), w.to(DType::f32), b);
        return;
    }
    const std::int64_t rows = cpu::rows_of(x), in = w.size(1), out = w.size(0);
    cpu::dispatch_float("linear_forward", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        cpu::MatMap<T> Y(y.data<T>(), rows, out);
        Y.noalias() = cpu::ConstMatMap<T>(x.data<T>(), rows, in) * cpu::ConstMatMap<T>(w.data<T>(), out, in).transpose();
        if (b.defined()) Y.rowwise() += cpu::ConstRowVecMap<T>(b.data<T>(), out);
    });
}

void CpuBackend::linear_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x, const Tensor& w) {
    const std::int64_t rows = cpu::rows_of(dy), out = w.size(0);
    if (db.defined())
        cpu::dispatch_float("linear_backward", dy.dtype(), [&](auto tag) {
            using T = decltype(tag);
            cpu::RowVecMap<T>(db.data<T>(), out) = cpu::ConstMatMap<T>(dy.data<T>(), rows, out).colwise().sum();
        });
    if (w.dtype() == DType::bf16)  // autocast: dy rounded to bf16 too; the bf16 operands are exact in f32
        linear_products(dx, dw, dy.to(DType::bf16).to(DType::f32), dw.defined() ? x.to(DType::f32) : x,
                        w.to(DType::f32));
    else
        linear_products(dx, dw, dy, x, w);
}

}  // namespace bplab
