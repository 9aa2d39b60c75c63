// backends/cpu/memory.cpp — fill, copy, dtype cast, transpose, permute and per-row scaling on the CPU.
// The transpose works in tiles so that both sides stay in cache; permute copies contiguous runs when it can.
#include <algorithm>
#include <cstring>
#include <vector>

#include "backends/cpu/cpu_backend.h"

namespace bplab {
namespace {

template <class To, class From>
void convert(To* dst, const From* src, std::int64_t n) {
#pragma omp parallel for if (n > cpu::kParallelGrain)
    for (std::int64_t i = 0; i < n; ++i) dst[i] = static_cast<To>(src[i]);
}

template <class To>
void convert_from(To* dst, const Tensor& src) {
    switch (src.dtype()) {
        case DType::f32: convert(dst, src.data<float>(), src.numel()); break;
        case DType::f64: convert(dst, src.data<double>(), src.numel()); break;
        case DType::i32: convert(dst, src.data<std::int32_t>(), src.numel()); break;
        case DType::i64: convert(dst, src.data<std::int64_t>(), src.numel()); break;
        case DType::bf16: convert(dst, src.data<BFloat16>(), src.numel()); break;
    }
}

template <class T>
void fill_typed(Tensor& out, double value) {
    std::fill_n(out.data<T>(), out.numel(), static_cast<T>(value));
}

}  // namespace

void CpuBackend::fill(Tensor& out, double value) {
    switch (out.dtype()) {
        case DType::f32: fill_typed<float>(out, value); break;
        case DType::f64: fill_typed<double>(out, value); break;
        case DType::i32: fill_typed<std::int32_t>(out, value); break;
        case DType::i64: fill_typed<std::int64_t>(out, value); break;
        case DType::bf16: fill_typed<BFloat16>(out, value); break;
    }
}

void CpuBackend::copy(Tensor& dst, const Tensor& src) {
    if (!dst.device().is_cpu() || !src.device().is_cpu())
        throw std::invalid_argument("cpu copy: " + src.device().str() + " -> " + dst.device().str() +
                                    " needs the CUDA backend");
    if (dst.nbytes() != src.nbytes() || dst.dtype() != src.dtype())
        throw std::invalid_argument("cpu copy: " + shape_str(src.shape()) + " " + dtype_name(src.dtype()) + " into " +
                                    shape_str(dst.shape()) + " " + dtype_name(dst.dtype()));
    if (src.nbytes()) std::memcpy(dst.raw_data(), src.raw_data(), src.nbytes());
}

void CpuBackend::cast(Tensor& dst, const Tensor& src) {
    switch (dst.dtype()) {
        case DType::f32: convert_from(dst.data<float>(), src); break;
        case DType::f64: convert_from(dst.data<double>(), src); break;
        case DType::i32: convert_from(dst.data<std::int32_t>(), src); break;
        case DType::i64: convert_from(dst.data<std::int64_t>(), src); break;
        case DType::bf16: convert_from(dst.data<BFloat16>(), src); break;
    }
}

void CpuBackend::transpose(Tensor& out, const Tensor& x) {
    const std::int64_t m = x.size(-2), n = x.size(-1), batches = x.numel() / std::max<std::int64_t>(m * n, 1);
    dispatch_by_size(x.dtype(), [&](auto tag) {  // moves elements: any dtype
        using T = decltype(tag);
        const T* src = static_cast<const T*>(x.raw_data());
        T* dst = static_cast<T*>(out.raw_data());
        constexpr std::int64_t tile = 32;
#pragma omp parallel for collapse(2) if (x.numel() > cpu::kParallelGrain)
        for (std::int64_t b = 0; b < batches; ++b)
            for (std::int64_t i0 = 0; i0 < m; i0 += tile)
                for (std::int64_t j0 = 0; j0 < n; j0 += tile)
                    for (std::int64_t i = i0; i < std::min(i0 + tile, m); ++i)
                        for (std::int64_t j = j0; j < std::min(j0 + tile, n); ++j)
                            dst[b * m * n + j * m + i] = src[b * m * n + i * n + j];
    });
}

}  // namespace bplab

namespace bplab {

void CpuBackend::permute_parts(const std::vector<Tensor*>& outs, const std::vector<const Tensor*>& xs,
                               const Shape& x_shape, const std::vector<std::int64_t>& dims) {
    const std::size_t nd = dims.size();
    check_permute_parts("cpu", outs, xs, x_shape, dims);
    // Strides of the whole x, read in the order of out's dims.
    std::vector<std::int64_t> in_stride(nd), stride_for_out(nd);
    Shape os(nd);
    std::int64_t st = 1;
    for (std::size_t i = nd; i-- > 0;) {
        in_stride[i] = st;
        st *= x_shape[i];
    }
    for (std::size_t i = 0; i < nd; ++i) {
        stride_for_out[i] = in_stride[static_cast<std::size_t>(dims[i])];
        os[i] = x_shape[static_cast<std::size_t>(dims[i])];
    }
    const std::int64_t total = shape_numel(x_shape);
    const std::int64_t inner = nd ? os[nd - 1] : 1, inner_stride = nd ? stride_for_out[nd - 1] : 1;
    const std::int64_t outer = inner ? total / inner : 0;
    const std::int64_t in_part = total / static_cast<std::int64_t>(xs.size());
    const std::int64_t out_part = total / static_cast<std::int64_t>(outs.size());
    // A run of `inner` output elements stays within one output part (they split dim 0; the run follows the last
    // dim), and, when it is contiguous in x, within one input part unless it runs along x's dim 0 itself (x's
    // later dims all of size 1): then it is copied element by element.
    const bool contiguous_run = inner_stride == 1 && inner > 0 && in_part % inner == 0;
    const std::size_t es = dtype_size(xs[0]->dtype());
    std::vector<const char*> src;
    std::vector<char*> dst;
    for (const Tensor* x : xs) src.push_back(static_cast<const char*>(x->raw_data()));
    for (Tensor* out : outs) dst.push_back(static_cast<char*>(out->raw_data()));
    const auto at = [&](std::int64_t j) {  // element j of the whole x
        return src[static_cast<std::size_t>(j / in_part)] + static_cast<std::size_t>(j % in_part) * es;
    };
#pragma omp parallel for if (total > cpu::kParallelGrain)
    for (std::int64_t o = 0; o < outer; ++o) {
        std::int64_t rem = o, offset = 0;
        for (std::size_t i = nd ? nd - 1 : 0; i-- > 0;) {  // out's dims but the last (none for a 0-d tensor)
            offset += (rem % os[i]) * stride_for_out[i];
            rem /= os[i];
        }
        const std::int64_t first = o * inner;
        char* d = dst[static_cast<std::size_t>(first / out_part)] + static_cast<std::size_t>(first % out_part) * es;
        if (contiguous_run) {
            std::memcpy(d, at(offset), static_cast<std::size_t>(inner) * es);
        } else {
            for (std::int64_t j = 0; j < inner; ++j)
                std::memcpy(d + static_cast<std::size_t>(j) * es, at(offset + j * inner_stride), es);
        }
    }
}

void CpuBackend::scale_rows(Tensor& out, const Tensor& x, const Tensor& s) {
    const std::int64_t rows = s.numel(), cols = rows ? x.numel() / rows : 0;
    cpu::dispatch_float("scale_rows", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T *px = x.data<T>(), *ps = s.data<T>();
        T* po = out.data<T>();
#pragma omp parallel for if (x.numel() > cpu::kParallelGrain)
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t c = 0; c < cols; ++c) po[r * cols + c] = px[r * cols + c] * ps[r];
    });
}

}  // namespace bplab
