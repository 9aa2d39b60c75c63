// backends/cuda/elementwise.cu — binary ops with trailing broadcast, scale and axpy on the GPU.
// b is indexed modulo its size, as on the CPU: same shape, trailing shape or one element.
#include "backends/cuda/kernels.cuh"

namespace bplab::cuda {
namespace {

template <class T, class I>
__global__ void binary_kernel(T* out, const T* a, const T* b, I n, I inner, BinaryOp op) {
    BPLAB_GRID_STRIDE_AS(I, i, n) {
        const T x = a[i], y = b[inner == n ? i : i % inner];
        switch (op) {
            case BinaryOp::add: out[i] = x + y; break;
            case BinaryOp::sub: out[i] = x - y; break;
            case BinaryOp::mul: out[i] = x * y; break;
            case BinaryOp::div: out[i] = x / y; break;
        }
    }
}

template <class T>
__global__ void scale_kernel(T* out, const T* a, T s, std::int64_t n) {
    BPLAB_GRID_STRIDE(i, n) out[i] = s * a[i];
}

template <class T>
__global__ void axpy_kernel(T* y, const T* x, T alpha, std::int64_t n) {
    BPLAB_GRID_STRIDE(i, n) y[i] += alpha * x[i];
}

}  // namespace

void CudaBackend::binary(Tensor& out, const Tensor& a, const Tensor& b, BinaryOp op) {
    const std::int64_t n = a.numel();
    if (n == 0) return;
    dispatch_float("binary", a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        dispatch_index(n, [&](auto index) {
            using I = decltype(index);
            binary_kernel<<<blocks_for(n), kThreads>>>(out.data<T>(), a.data<T>(), b.data<T>(), static_cast<I>(n),
                                                       static_cast<I>(b.numel()), op);
        });
    });
    BPLAB_CUDA_LAUNCHED();
}

void CudaBackend::scale(Tensor& out, const Tensor& a, double s) {
    const std::int64_t n = a.numel();
    launch_float("scale", a.dtype(), n, [&](auto tag) {
        using T = decltype(tag);
        scale_kernel<<<blocks_for(n), kThreads>>>(out.data<T>(), a.data<T>(), static_cast<T>(s), n);
    });
}

void CudaBackend::axpy(Tensor& y, const Tensor& x, double alpha) {
    const std::int64_t n = y.numel();
    launch_float("axpy", y.dtype(), n, [&](auto tag) {
        using T = decltype(tag);
        axpy_kernel<<<blocks_for(n), kThreads>>>(y.data<T>(), x.data<T>(), static_cast<T>(alpha), n);
    });
}

}  // namespace bplab::cuda
