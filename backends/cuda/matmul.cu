// backends/cuda/matmul.cu — every GEMM through cuBLAS (strided-batched for attention heads), plus the linear
// layer's bias (fused by cuBLASLt where it has an algorithm, gemm_bias.h) and gradients, with bf16 operands under
// autocast; twin of backends/cpu/matmul.cpp.
#include "backends/cuda/gemm.cuh"
#include "backends/cuda/kernels.cuh"

namespace bplab::cuda {
namespace {

template <class T, class I>
__global__ void bias_rows_kernel(T* y, const T* bias, I n, I cols) {
    BPLAB_GRID_STRIDE_AS(I, i, n) y[i] = bias[i % cols];
}

}  // namespace

void CudaBackend::matmul(Tensor& out, const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, bool accumulate) {
    if (out.numel() == 0) return;
    const std::int64_t m = out.size(-2), n = out.size(-1), k = trans_a ? a.size(-2) : a.size(-1);
    const std::int64_t batch = out.numel() / (m * n);
    const bool shared_b = b.numel() == k * n;
    dispatch_float("matmul", a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        gemm<T>(cublas_, out.data<T>(), a.data<T>(), b.data<T>(), m, n, k, trans_a, trans_b, batch, m * k,
                shared_b ? 0 : k * n, T(1), accumulate ? T(1) : T(0));
    });
}

void CudaBackend::linear_forward(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b) {
    if (y.numel() == 0) return;
    const std::int64_t rows = linear_rows(y, x), in = x.size(-1), out = w.size(0);
    // cuBLASLt's heuristic refuses a dimension of 1 (as PyTorch found: it takes its Lt path only above 1).
    if (b.defined() && rows > 1 && out > 1 && in > 1 && gemm_bias_.run(y, x, w, b, cublas_workspace_)) return;
    dispatch_float("linear", y.dtype(), [&](auto tag) {
        using T = decltype(tag);
        if (b.defined()) {
            dispatch_index(y.numel(), [&](auto index) {
                using I = decltype(index);
                bias_rows_kernel<<<blocks_for(y.numel()), kThreads>>>(y.data<T>(), b.data<T>(), static_cast<I>(y.numel()),
                                                                      static_cast<I>(out));
            });
            BPLAB_CUDA_LAUNCHED();
        }
        const T beta = b.defined() ? T(1) : T(0);
        if constexpr (std::is_same_v<T, float>)
            if (w.dtype() == DType::bf16) {  // autocast
                gemm_bf16(cublas_, y.data<float>(), x.data<BFloat16>(), w.data<BFloat16>(), rows, out, in, false, true,
                          1, 0, 0, 1.0f, beta);
                return;
            }
        gemm<T>(cublas_, y.data<T>(), x.data<T>(), w.data<T>(), rows, out, in, false, true, 1, 0, 0, T(1), beta);
    });
}

void CudaBackend::linear_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x, const Tensor& w) {
    const std::int64_t rows = linear_rows(dy, x), in = w.size(1), out = w.size(0);
    if (dw.defined() && dw.numel() && rows == 0) fill(dw, 0.0);
    const bool want_dx = dx.defined() && dx.numel(), want_dw = dw.defined() && dw.numel() && rows > 0;
    if (w.dtype() == DType::bf16) {  // autocast: dy rounded to bf16 for the products, which sum in f32
        Tensor dy_rounded;
        if (want_dx || want_dw) {
            dy_rounded = scratch(dy.shape(), DType::bf16);
            cast(dy_rounded, dy);
        }
        if (want_dx)
            gemm_bf16(cublas_, dx.data<float>(), dy_rounded.data<BFloat16>(), w.data<BFloat16>(), rows, in, out, false,
                      false, 1, 0, 0, 1.0f, 0.0f);
        if (want_dw)
            gemm_bf16(cublas_, dw.data<float>(), dy_rounded.data<BFloat16>(), x.data<BFloat16>(), out, in, rows, true,
                      false, 1, 0, 0, 1.0f, 0.0f);
    } else {
        dispatch_float("linear backward", dy.dtype(), [&](auto tag) {
            using T = decltype(tag);
            if (want_dx)
                gemm<T>(cublas_, dx.data<T>(), dy.data<T>(), w.data<T>(), rows, in, out, false, false, 1, 0, 0, T(1), T(0));
            if (want_dw)
                gemm<T>(cublas_, dw.data<T>(), dy.data<T>(), x.data<T>(), out, in, rows, true, false, 1, 0, 0, T(1), T(0));
        });
    }
    if (db.defined()) sum_axis(db, dy, 1, rows, out);
}

}  // namespace bplab::cuda
