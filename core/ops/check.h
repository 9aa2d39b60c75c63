// core/ops/check.h — argument checks shared by the functional ops.
// Every message names the op, what it found and what it expected.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace bplab::detail {

/// Throws unless x is defined and holds f32 or f64.
void require_float(const char* op, const Tensor& x, const char* what = "input");
/// Throws unless a and b live on the same device and hold the same dtype.
void require_same(const char* op, const Tensor& a, const Tensor& b);
/// Throws unless x has at least `min_dims` dims.
void require_dims_at_least(const char* op, const Tensor& x, std::int64_t min_dims, const char* what = "input");
/// Maps a possibly negative axis into [0, dims); throws otherwise.
std::int64_t normalize_axis(const char* op, std::int64_t axis, std::int64_t dims);
/// Product of shape[begin, end).
std::int64_t span_numel(const Shape& shape, std::int64_t begin, std::int64_t end);

/// Checks that idx is a 1-D i64 tensor of distinct values in [0, n) and returns it on `device`. Indices on the
/// CPU are checked where they are and uploaded without waiting for the GPU; indices already on a GPU are copied
/// back for the check, which waits for it. So ops on GPU tensors take their row indices from the CPU.
Tensor row_indices(const char* op, const Tensor& idx, std::int64_t n, Device device);
/// Like row_indices for several index tensors that together name every row of [0, n) exactly once, n being
/// their total count (distinct values in [0, n), n of them, are all of [0, n)).
std::vector<Tensor> row_partition(const char* op, const std::vector<Tensor>& idx, Device device);

/// Throws unless x is 4-D, read as channels-last images (B, H, W, C).
void require_nhwc(const char* op, const Tensor& x, const char* what = "input");
/// Output (Ho, Wo) of a kh x kw window sliding over x (B, H, W, C) with stride and zero padding:
/// Ho = (H + 2·ph − kh) / sh + 1. Throws unless stride ≥ 1, padding ≥ 0 and one window fits.
std::array<std::int64_t, 2> conv_output_hw(const char* op, const Tensor& x, std::int64_t kh, std::int64_t kw,
                                           std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding);

}  // namespace bplab::detail
