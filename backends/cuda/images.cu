// backends/cuda/images.cu — data augmentation's crop, pad and mirror (place_images) on the GPU, so a batch is
// uploaded at the dataset's size and padded there; the twin of backends/cpu/images.cpp.
#include "backends/cuda/kernels.cuh"

namespace bplab::cuda {
namespace {

/// out (B, S, S, C): one thread per element, which reads its image pixel or writes the fill. I splits the flat
/// index (see dispatch_index); image coordinates are signed 64-bit, since offsets may point outside.
template <class T, class I>
__global__ void place_images_kernel(T* out, const T* x, const std::int64_t* placement, std::int64_t h, std::int64_t w,
                                    I c, I size, T fill, I n) {
    BPLAB_GRID_STRIDE_AS(I, i, n) {
        const I k = i % c, j = (i / c) % size, row = (i / (c * size)) % size, b = i / (c * size * size);
        const std::int64_t* at = placement + 3 * static_cast<std::int64_t>(b);  // dy, dx, flip
        const std::int64_t r = row + at[0], col = j + at[1];
        const std::int64_t m = at[2] ? w - 1 - col : col;
        out[i] = (r >= 0 && r < h && col >= 0 && col < w) ? x[((b * h + r) * w + m) * c + k] : fill;
    }
}

}  // namespace

void CudaBackend::place_images(Tensor& out, const Tensor& x, const Tensor& placement, double fill) {
    const std::int64_t n = out.numel(), h = x.size(1), w = x.size(2), c = x.size(3), size = out.size(1);
    launch_float("place_images", x.dtype(), n, [&](auto tag) {
        using T = decltype(tag);
        dispatch_index(n, [&](auto index) {
            using I = decltype(index);
            place_images_kernel<<<blocks_for(n), kThreads>>>(out.data<T>(), x.data<T>(), placement.data<std::int64_t>(),
                                                             h, w, static_cast<I>(c), static_cast<I>(size),
                                                             static_cast<T>(fill), static_cast<I>(n));
        });
    });
}

}  // namespace bplab::cuda
