// backends/cuda/activation.cu — ReLU and exact (erf) GELU, forward and backward, on the GPU.
// The twin of backends/cpu/activation.cpp.
#include "backends/cuda/kernels.cuh"

namespace bplab::cuda {
namespace {

template <class T>
__global__ void relu_forward_kernel(T* y, const T* x, std::int64_t n) {
    BPLAB_GRID_STRIDE(i, n) y[i] = x[i] <= T(0) ? T(0) : x[i];  // NaN stays NaN
}

template <class T>
__global__ void relu_backward_kernel(T* dx, const T* dy, const T* y, std::int64_t n) {
    BPLAB_GRID_STRIDE(i, n) dx[i] = y[i] > T(0) ? dy[i] : T(0);
}

template <class T>
__global__ void gelu_forward_kernel(T* y, const T* x, std::int64_t n) {
    BPLAB_GRID_STRIDE(i, n) y[i] = T(0.5) * x[i] * (T(1) + erf(x[i] * T(0.70710678118654752440)));
}

/// d/dx x Φ(x) = Φ(x) + x φ(x)
template <class T>
__global__ void gelu_backward_kernel(T* dx, const T* dy, const T* x, std::int64_t n) {
    BPLAB_GRID_STRIDE(i, n) {
        const T v = x[i];
        const T cdf = T(0.5) * (T(1) + erf(v * T(0.70710678118654752440)));
        const T pdf = exp(T(-0.5) * v * v) * T(0.39894228040143267794);
        dx[i] = dy[i] * (cdf + v * pdf);
    }
}

}  // namespace

void CudaBackend::relu_forward(Tensor& y, const Tensor& x) {
    launch_float("relu", x.dtype(), x.numel(), [&](auto tag) {
        using T = decltype(tag);
        relu_forward_kernel<<<blocks_for(x.numel()), kThreads>>>(y.data<T>(), x.data<T>(), x.numel());
    });
}

void CudaBackend::relu_backward(Tensor& dx, const Tensor& dy, const Tensor& y) {
    launch_float("relu backward", y.dtype(), y.numel(), [&](auto tag) {
        using T = decltype(tag);
        relu_backward_kernel<<<blocks_for(y.numel()), kThreads>>>(dx.data<T>(), dy.data<T>(), y.data<T>(), y.numel());
    });
}

void CudaBackend::gelu_forward(Tensor& y, const Tensor& x) {
    launch_float("gelu", x.dtype(), x.numel(), [&](auto tag) {
        using T = decltype(tag);
        gelu_forward_kernel<<<blocks_for(x.numel()), kThreads>>>(y.data<T>(), x.data<T>(), x.numel());
    });
}

void CudaBackend::gelu_backward(Tensor& dx, const Tensor& dy, const Tensor& x) {
    launch_float("gelu backward", x.dtype(), x.numel(), [&](auto tag) {
        using T = decltype(tag);
        gelu_backward_kernel<<<blocks_for(x.numel()), kThreads>>>(dx.data<T>(), dy.data<T>(), x.data<T>(), x.numel());
    });
}

}  // namespace bplab::cuda
