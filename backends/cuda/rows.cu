// backends/cuda/rows.cu — gather, scatter and fill of rows along one axis (SBP's keep/drop split), any dtype.
// Views x as (outer, n, inner); the indices are on the GPU too (core/ops uploads indices kept on the CPU).
#include "backends/cuda/kernels.cuh"

namespace bplab::cuda {
namespace {

/// Element-wise over (outer, k, inner) moving bytes in units of U (the dtype's size).
/// I indexes the (outer, k, inner) side; the full side (outer, n, inner) can be larger, so it is 64-bit.
template <class U, bool Scatter, class I>
__global__ void rows_kernel(U* dst, const U* src, const std::int64_t* idx, I outer, std::int64_t n, I k, I inner) {
    BPLAB_GRID_STRIDE_AS(I, i, outer * k * inner) {
        const I j = i % inner, r = (i / inner) % k, o = i / (inner * k);
        const std::int64_t full = (static_cast<std::int64_t>(o) * n + idx[r]) * inner + j;
        if (Scatter) dst[full] = src[i];
        else dst[i] = src[full];
    }
}

template <class T, class I>
__global__ void fill_rows_kernel(T* out, const std::int64_t* idx, T value, I outer, std::int64_t n, I k, I inner) {
    BPLAB_GRID_STRIDE_AS(I, i, outer * k * inner) {
        const I j = i % inner, r = (i / inner) % k, o = i / (inner * k);
        out[(static_cast<std::int64_t>(o) * n + idx[r]) * inner + j] = value;
    }
}

template <bool Scatter>
void move_rows(Tensor& dst, const Tensor& src, const Tensor& idx, std::int64_t outer, std::int64_t n, std::int64_t inner) {
    const std::int64_t k = idx.numel();
    if (outer * k * inner == 0) return;
    dispatch_by_size(src.dtype(), [&](auto tag) {
        using U = decltype(tag);
        dispatch_index(outer * k * inner, [&](auto index) {
            using I = decltype(index);
            rows_kernel<U, Scatter><<<blocks_for(outer * k * inner), kThreads>>>(
                static_cast<U*>(dst.raw_data()), static_cast<const U*>(src.raw_data()), idx.data<std::int64_t>(),
                static_cast<I>(outer), n, static_cast<I>(k), static_cast<I>(inner));
        });
    });
    BPLAB_CUDA_LAUNCHED();
}

}  // namespace

void CudaBackend::gather_rows(Tensor& out, const Tensor& x, const Tensor& idx, std::int64_t outer, std::int64_t n,
                              std::int64_t inner) {
    move_rows<false>(out, x, idx, outer, n, inner);
}

void CudaBackend::scatter_rows(Tensor& out, const Tensor& src, const Tensor& idx, std::int64_t outer, std::int64_t n,
                               std::int64_t inner) {
    move_rows<true>(out, src, idx, outer, n, inner);
}

void CudaBackend::fill_rows(Tensor& out, const Tensor& idx, double value, std::int64_t outer, std::int64_t n,
                            std::int64_t inner) {
    const std::int64_t k = idx.numel();
    if (outer * k * inner == 0) return;
    dispatch_float("fill_rows", out.dtype(), [&](auto tag) {
        using T = decltype(tag);
        dispatch_index(outer * k * inner, [&](auto index) {
            using I = decltype(index);
            fill_rows_kernel<<<blocks_for(outer * k * inner), kThreads>>>(
                out.data<T>(), idx.data<std::int64_t>(), static_cast<T>(value), static_cast<I>(outer), n,
                static_cast<I>(k), static_cast<I>(inner));
        });
    });
    BPLAB_CUDA_LAUNCHED();
}

}  // namespace bplab::cuda
