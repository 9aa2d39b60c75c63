// backends/cuda/memory.cu — fill, copies between and within devices, dtype casts, transpose, permute and
// per-row scaling on the GPU; the twin of backends/cpu/memory.cpp.
#include "backends/cuda/kernels.cuh"
#include "backends/cuda/staging.h"

namespace bplab::cuda {
namespace {

template <class T>
__global__ void fill_kernel(T* out, T value, std::int64_t n) {
    BPLAB_GRID_STRIDE(i, n) out[i] = value;
}

template <class To, class From>
__global__ void cast_kernel(To* out, const From* x, std::int64_t n) {
    BPLAB_GRID_STRIDE(i, n) out[i] = static_cast<To>(x[i]);
}

/// out (B, N, M) = x (B, M, N) transposed, through a 32×32 shared tile so both sides are read coalesced.
template <class T>
__global__ void transpose_kernel(T* out, const T* x, std::int64_t m, std::int64_t n) {
    __shared__ T tile[32][33];
    const std::int64_t b = blockIdx.z;
    const std::int64_t row0 = blockIdx.y * 32, col0 = blockIdx.x * 32;
    const T* xb = x + b * m * n;
    T* ob = out + b * m * n;
    for (int r = threadIdx.y; r < 32; r += 8) {
        const std::int64_t row = row0 + r, col = col0 + threadIdx.x;
        if (row < m && col < n) tile[r][threadIdx.x] = xb[row * n + col];
    }
    __syncthreads();
    for (int r = threadIdx.y; r < 32; r += 8) {
        const std::int64_t row = col0 + r, col = row0 + threadIdx.x;  // out is (n, m)
        if (row < n && col < m) ob[row * m + col] = tile[threadIdx.x][r];
    }
}

constexpr int kMaxDims = 8;
constexpr int kMaxParts = static_cast<int>(Backend::kMaxPermuteParts);
template <class I>
struct PermuteGeometry {
    int dims;
    I out_shape[kMaxDims];
    I in_stride[kMaxDims];  ///< stride in x of the dim that lands at out's position i
    I in_part, out_part;    ///< elements per part of the whole x and the whole out
};

/// The part pointers of each side (unused ones null).
template <class T>
struct PermuteParts {
    T* out[kMaxParts];
    const T* in[kMaxParts];
};

/// parts[i] with i < kMaxParts chosen by comparisons, so that the array stays in registers (a run-time index
/// into a kernel parameter array makes ptxas copy it to local memory).
template <class P>
__device__ P pick(P const (&parts)[kMaxParts], int i) {
    P p = parts[0];
#pragma unroll
    for (int k = 1; k < kMaxParts; ++k)
        if (i == k) p = parts[k];
    return p;
}

/// With Parts false both sides are one tensor, and the part arithmetic (two divisions per element) is left out.
template <class T, class I, bool Parts>
__global__ void permute_kernel(PermuteParts<T> p, PermuteGeometry<I> g, I n) {
    BPLAB_GRID_STRIDE_AS(I, i, n) {
        I rest = i, offset = 0;
#pragma unroll
        for (int d = kMaxDims - 1; d >= 0; --d) {  // unrolled: g's arrays are indexed by constants, so they stay
            if (d >= g.dims) continue;             // in registers rather than a local-memory copy of g
            offset += (rest % g.out_shape[d]) * g.in_stride[d];
            rest /= g.out_shape[d];
        }
        if constexpr (Parts)
            pick(p.out, static_cast<int>(i / g.out_part))[i % g.out_part] =
                pick(p.in, static_cast<int>(offset / g.in_part))[offset % g.in_part];
        else
            p.out[0][i] = p.in[0][offset];
    }
}

template <class T>
__global__ void scale_rows_kernel(T* out, const T* x, const T* s, std::int64_t n, std::int64_t inner) {
    BPLAB_GRID_STRIDE(i, n) out[i] = x[i] * s[i / inner];
}

template <class F>
void dispatch_any(DType dtype, F&& f) {
    switch (dtype) {
        case DType::f32: f(float{}); return;
        case DType::f64: f(double{}); return;
        case DType::i32: f(std::int32_t{}); return;
        case DType::i64: f(std::int64_t{}); return;
        case DType::bf16: f(BFloat16{}); return;
    }
}

}  // namespace

void CudaBackend::fill(Tensor& out, double value) {
    const std::int64_t n = out.numel();
    if (n == 0) return;
    dispatch_any(out.dtype(), [&](auto tag) {
        using T = decltype(tag);
        fill_kernel<<<blocks_for(n), kThreads>>>(out.data<T>(), static_cast<T>(value), n);
    });
    BPLAB_CUDA_LAUNCHED();
}

void CudaBackend::copy(Tensor& dst, const Tensor& src) {
    if (dst.nbytes() != src.nbytes() || dst.dtype() != src.dtype())
        throw std::invalid_argument("cuda copy: " + shape_str(src.shape()) + " " + dtype_name(src.dtype()) + " into " +
                                    shape_str(dst.shape()) + " " + dtype_name(dst.dtype()));
    if (src.nbytes() == 0) return;
    if (dst.device().is_cpu()) {  // the host reads dst next: wait for the copy
        BPLAB_CUDA_CHECK(cudaMemcpy(dst.raw_data(), src.raw_data(), src.nbytes(), cudaMemcpyDefault));
        return;
    }
    // Into the GPU, queued on the default stream without waiting for the GPU's earlier work: from the host
    // through the pinned ring of staging.h (row indices, masks; batches go straight), within the GPU directly.
    if (src.device().is_cpu()) upload(dst.raw_data(), src.raw_data(), src.nbytes());
    else BPLAB_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), src.nbytes(), cudaMemcpyDeviceToDevice, nullptr));
}

void CudaBackend::cast(Tensor& dst, const Tensor& src) {
    const std::int64_t n = src.numel();
    if (n == 0) return;
    dispatch_any(dst.dtype(), [&](auto to_tag) {
        using To = decltype(to_tag);
        dispatch_any(src.dtype(), [&](auto from_tag) {
            using From = decltype(from_tag);
            cast_kernel<<<blocks_for(n), kThreads>>>(dst.data<To>(), src.data<From>(), n);
        });
    });
    BPLAB_CUDA_LAUNCHED();
}

void CudaBackend::transpose(Tensor& out, const Tensor& x) {
    if (x.numel() == 0) return;
    const std::int64_t m = x.size(-2), n = x.size(-1), batches = x.numel() / (m * n);
    if (batches > 65535 || (m + 31) / 32 > 65535)
        throw std::invalid_argument("cuda transpose: " + shape_str(x.shape()) + " exceeds the launch grid (65535 batches or 2M rows)");
    const dim3 grid(static_cast<unsigned>((n + 31) / 32), static_cast<unsigned>((m + 31) / 32), static_cast<unsigned>(batches));
    dispatch_any(x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        transpose_kernel<<<grid, dim3(32, 8)>>>(out.data<T>(), x.data<T>(), m, n);
    });
    BPLAB_CUDA_LAUNCHED();
}

void CudaBackend::permute_parts(const std::vector<Tensor*>& outs, const std::vector<const Tensor*>& xs,
                                const Shape& x_shape, const std::vector<std::int64_t>& dims) {
    check_permute_parts("cuda", outs, xs, x_shape, dims);
    const std::int64_t n = shape_numel(x_shape);
    if (n == 0) return;
    if (dims.size() > kMaxDims) throw std::invalid_argument("cuda permute: at most 8 dims, got " + std::to_string(dims.size()));
    std::vector<std::int64_t> stride(dims.size(), 1);
    for (int d = static_cast<int>(dims.size()) - 2; d >= 0; --d)
        stride[static_cast<std::size_t>(d)] = stride[static_cast<std::size_t>(d + 1)] * x_shape[static_cast<std::size_t>(d + 1)];
    dispatch_index(n, [&](auto index) {
        using I = decltype(index);
        PermuteGeometry<I> g{};
        g.dims = static_cast<int>(dims.size());
        for (int d = 0; d < g.dims; ++d) {
            const auto from = static_cast<std::size_t>(dims[static_cast<std::size_t>(d)]);
            g.out_shape[d] = static_cast<I>(x_shape[from]);
            g.in_stride[d] = static_cast<I>(stride[from]);
        }
        g.in_part = static_cast<I>(n / static_cast<std::int64_t>(xs.size()));
        g.out_part = static_cast<I>(n / static_cast<std::int64_t>(outs.size()));
        dispatch_any(xs[0]->dtype(), [&](auto tag) {
            using T = decltype(tag);
            PermuteParts<T> p{};
            for (std::size_t k = 0; k < outs.size(); ++k) p.out[k] = outs[k]->data<T>();
            for (std::size_t k = 0; k < xs.size(); ++k) p.in[k] = xs[k]->data<T>();
            if (outs.size() == 1 && xs.size() == 1)
                permute_kernel<T, I, false><<<blocks_for(n), kThreads>>>(p, g, static_cast<I>(n));
            else
                permute_kernel<T, I, true><<<blocks_for(n), kThreads>>>(p, g, static_cast<I>(n));
        });
    });
    BPLAB_CUDA_LAUNCHED();
}

void CudaBackend::scale_rows(Tensor& out, const Tensor& x, const Tensor& s) {
    const std::int64_t n = x.numel();
    if (n == 0) return;
    dispatch_float("scale_rows", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        scale_rows_kernel<<<blocks_for(n), kThreads>>>(out.data<T>(), x.data<T>(), s.data<T>(), n, n / s.numel());
    });
    BPLAB_CUDA_LAUNCHED();
}

}  // namespace bplab::cuda
