// backends/cpu/matmul.cpp — batched GEMM and the fused linear forward/backward, on Eigen.
// Small batched products run one batch per thread; large ones let Eigen thread the GEMM. The linear layer's bf16
// operands (autocast) are widened to f32, exactly, a block of rows at a time, and multiplied there.
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
    const std::int64_t rows = linear_rows(dy, x), in = w.size(1), out = w.size(0);
    cpu::dispatch_float("linear_backward", dy.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const cpu::ConstMatMap<T> DY(dy.data<T>(), rows, out), W(w.data<T>(), out, in);
        if (dx.defined()) cpu::MatMap<T>(dx.data<T>(), rows, in).noalias() = DY * W;
        if (dw.defined())
            cpu::MatMap<T>(dw.data<T>(), out, in).noalias() = DY.transpose() * cpu::ConstMatMap<T>(x.data<T>(), rows, in);
    });
}

// Autocast's bf16 linear: its operands are widened to f32 (exactly) a block of rows at a time, so that the f32
// copies stay near 2 MB whatever the batch, and multiplied there with f32 sums.

/// Rows per block for matrices of `width` columns: 2¹⁹ floats, and at least 64 rows.
std::int64_t block_rows(std::int64_t width) {
    return std::max<std::int64_t>(64, (std::int64_t{1} << 19) / std::max<std::int64_t>(width, 1));
}

/// out (n, c) = rows [r0, r0 + n) of t (R, c) as f32: a bf16 t read exactly, an f32 t rounded to bf16 first.
void widen_rows(float* out, const Tensor& t, std::int64_t r0, std::int64_t n, std::int64_t c) {
    const std::int64_t count = n * c;
    if (t.dtype() == DType::bf16) {
        const BFloat16* src = t.data<BFloat16>() + r0 * c;
#pragma omp parallel for if (count > cpu::kParallelGrain)
        for (std::int64_t i = 0; i < count; ++i) out[i] = src[i];
    } else {
        const float* src = t.data<float>() + r0 * c;
#pragma omp parallel for if (count > cpu::kParallelGrain)
        for (std::int64_t i = 0; i < count; ++i) out[i] = round_to_bf16(src[i]);
    }
}

/// y (R, O) = x (R, I) · wᵀ + b with bf16 x and w, f32 y and b.
void linear_forward_bf16(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b) {
    const std::int64_t rows = linear_rows(y, x), in = w.size(1), out = w.size(0), block = block_rows(in);
    const Tensor wf = w.to(DType::f32);
    const cpu::ConstMatMap<float> W(wf.data<float>(), out, in);
    Tensor xf = Tensor::empty({std::min(block, rows), in});
    for (std::int64_t r0 = 0; r0 < rows; r0 += block) {
        const std::int64_t n = std::min(block, rows - r0);
        widen_rows(xf.data<float>(), x, r0, n, in);
        cpu::MatMap<float> Y(y.data<float>() + r0 * out, n, out);
        Y.noalias() = cpu::ConstMatMap<float>(xf.data<float>(), n, in) * W.transpose();
        if (b.defined()) Y.rowwise() += cpu::ConstRowVecMap<float>(b.data<float>(), out);
    }
}

/// dx (R, I) = bf16(dy) · w and dw (O, I) = bf16(dy)ᵀ · x, each when defined, with bf16 w and x (x read only
/// for dw) and f32 dy, dx, dw.
void linear_products_bf16(Tensor& dx, Tensor& dw, const Tensor& dy, const Tensor& x, const Tensor& w) {
    const std::int64_t rows = linear_rows(dy, x), in = w.size(1), out = w.size(0), block = block_rows(std::max(in, out));
    const Tensor wf = w.to(DType::f32);
    const cpu::ConstMatMap<float> W(wf.data<float>(), out, in);
    Tensor dyf = Tensor::empty({std::min(block, rows), out}), xf;
    if (dw.defined()) {
        xf = Tensor::empty({std::min(block, rows), in});
        cpu::MatMap<float>(dw.data<float>(), out, in).setZero();
    }
    for (std::int64_t r0 = 0; r0 < rows; r0 += block) {
        const std::int64_t n = std::min(block, rows - r0);
        widen_rows(dyf.data<float>(), dy, r0, n, out);
        const cpu::ConstMatMap<float> DY(dyf.data<float>(), n, out);
        if (dx.defined()) cpu::MatMap<float>(dx.data<float>() + r0 * in, n, in).noalias() = DY * W;
        if (dw.defined()) {
            widen_rows(xf.data<float>(), x, r0, n, in);
            cpu::MatMap<float>(dw.data<float>(), out, in).noalias() += DY.transpose() * cpu::ConstMatMap<float>(xf.data<float>(), n, in);
        }
    }
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
    if (w.dtype() == DType::bf16) {  // autocast
        linear_forward_bf16(y, x, w, b);
        return;
    }
    const std::int64_t rows = linear_rows(y, x), in = w.size(1), out = w.size(0);
    cpu::dispatch_float("linear_forward", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        cpu::MatMap<T> Y(y.data<T>(), rows, out);
        Y.noalias() = cpu::ConstMatMap<T>(x.data<T>(), rows, in) * cpu::ConstMatMap<T>(w.data<T>(), out, in).transpose();
        if (b.defined()) Y.rowwise() += cpu::ConstRowVecMap<T>(b.data<T>(), out);
    });
}

void CpuBackend::linear_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x, const Tensor& w) {
    const std::int64_t rows = linear_rows(dy, x), out = w.size(0);
    if (db.defined())
        cpu::dispatch_float("linear_backward", dy.dtype(), [&](auto tag) {
            using T = decltype(tag);
            cpu::RowVecMap<T>(db.data<T>(), out) = cpu::ConstMatMap<T>(dy.data<T>(), rows, out).colwise().sum();
        });
    if (w.dtype() == DType::bf16) linear_products_bf16(dx, dw, dy, x, w);  // autocast: dy rounded to bf16 too
    else linear_products(dx, dw, dy, x, w);
}

}  // namespace bplab
