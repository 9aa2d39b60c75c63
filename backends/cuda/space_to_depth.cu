// backends/cuda/space_to_depth.cu — space-to-depth and its inverse on channels-last tensors, any dtype
// (SBP's downsampling); the twin of backends/cpu/space_to_depth.cpp.
#include "backends/cuda/kernels.cuh"

namespace bplab::cuda {
namespace {

/// For every element of the (B, H/s, W/s, s·s·C) side, its offset in the (B, H, W, C) side; moves one way or
/// the other.
template <class U, bool ToDepth>
__global__ void space_depth_kernel(U* out, const U* x, std::int64_t n, std::int64_t h, std::int64_t w, std::int64_t c,
                                   std::int64_t s) {
    const std::int64_t ho = h / s, wo = w / s, cd = s * s * c;
    BPLAB_GRID_STRIDE(i, n) {
        const std::int64_t ch = i % cd, j = (i / cd) % wo, r = (i / (cd * wo)) % ho, b = i / (cd * wo * ho);
        const std::int64_t sub = ch / c, cc = ch % c, dy = sub / s, dx = sub % s;
        const std::int64_t spatial = ((b * h + r * s + dy) * w + j * s + dx) * c + cc;
        if (ToDepth) out[i] = x[spatial];
        else out[spatial] = x[i];
    }
}

template <bool ToDepth>
void space_depth(const Tensor& spatial_side, Tensor& out, const Tensor& x, std::int64_t s) {
    const std::int64_t n = x.numel();
    if (n == 0) return;
    const std::int64_t h = spatial_side.size(1), w = spatial_side.size(2), c = spatial_side.size(3);
    dispatch_by_size(x.dtype(), [&](auto tag) {
        using U = decltype(tag);
        space_depth_kernel<U, ToDepth><<<blocks_for(n), kThreads>>>(static_cast<U*>(out.raw_data()),
                                                                   static_cast<const U*>(x.raw_data()), n, h, w, c, s);
    });
    BPLAB_CUDA_LAUNCHED();
}

}  // namespace

void CudaBackend::space_to_depth(Tensor& out, const Tensor& x, std::int64_t s) { space_depth<true>(x, out, x, s); }

void CudaBackend::depth_to_space(Tensor& out, const Tensor& x, std::int64_t s) { space_depth<false>(out, out, x, s); }

}  // namespace bplab::cuda
