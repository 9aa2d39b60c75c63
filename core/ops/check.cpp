// core/ops/check.cpp — argument checks shared by the functional ops.
// Index checks read the indices on the CPU: they are short (token positions), the data is not.
#include "core/ops/check.h"

#include <stdexcept>
#include <vector>

namespace bplab::detail {

void require_float(const char* op, const Tensor& x, const char* what) {
    if (!x.defined()) throw std::invalid_argument(std::string(op) + ": " + what + " is undefined");
    if (!is_floating(x.dtype()))
        throw std::invalid_argument(std::string(op) + ": " + what + " holds " + dtype_name(x.dtype()) +
                                    " (expected F32 or F64)");
}

void require_same(const char* op, const Tensor& a, const Tensor& b) {
    if (a.device() != b.device())
        throw std::invalid_argument(std::string(op) + ": operands on " + a.device().str() + " and " + b.device().str() +
                                    " (move one explicitly with .to(device))");
    if (a.dtype() != b.dtype())
        throw std::invalid_argument(std::string(op) + ": operands hold " + dtype_name(a.dtype()) + " and " +
                                    dtype_name(b.dtype()) + " (expected one dtype)");
}

void require_dims_at_least(const char* op, const Tensor& x, std::int64_t min_dims, const char* what) {
    if (x.dim() < min_dims)
        throw std::invalid_argument(std::string(op) + ": " + what + " of shape " + shape_str(x.shape()) +
                                    " has " + std::to_string(x.dim()) + " dims (expected at least " +
                                    std::to_string(min_dims) + ")");
}

std::int64_t normalize_axis(const char* op, std::int64_t axis, std::int64_t dims) {
    const std::int64_t a = axis < 0 ? axis + dims : axis;
    if (a < 0 || a >= dims)
        throw std::out_of_range(std::string(op) + ": axis " + std::to_string(axis) + " out of range for " +
                                std::to_string(dims) + " dims");
    return a;
}

std::int64_t span_numel(const Shape& shape, std::int64_t begin, std::int64_t end) {
    std::int64_t n = 1;
    for (std::int64_t i = begin; i < end; ++i) n *= shape[static_cast<std::size_t>(i)];
    return n;
}

namespace {

/// Marks idx's values in `seen` (n entries); throws on a bad tensor, a value outside [0, n) or a repeat.
/// Returns idx on `device`.
Tensor mark_rows(const char* op, const Tensor& idx, std::int64_t n, Device device, std::vector<bool>& seen) {
    if (!idx.defined() || idx.dtype() != DType::i64 || idx.dim() != 1)
        throw std::invalid_argument(std::string(op) + ": indices must be a 1-D I64 tensor" +
                                    (idx.defined() ? ", got " + std::string(dtype_name(idx.dtype())) + " of shape " +
                                                         shape_str(idx.shape())
                                                   : std::string()));
    const Tensor host = idx.device().is_cpu() ? idx : idx.to(Device::cpu());
    const auto* p = host.data<std::int64_t>();
    for (std::int64_t i = 0; i < idx.numel(); ++i) {
        if (p[i] < 0 || p[i] >= n)
            throw std::out_of_range(std::string(op) + ": index " + std::to_string(p[i]) + " out of range [0, " +
                                    std::to_string(n) + ")");
        if (seen[static_cast<std::size_t>(p[i])])
            throw std::invalid_argument(std::string(op) + ": index " + std::to_string(p[i]) +
                                        " appears twice (expected distinct indices)");
        seen[static_cast<std::size_t>(p[i])] = true;
    }
    if (idx.device() == device) return idx.detach();  // what op closures keep: no history
    return device.is_cpu() ? host : idx.to(device);
}

}  // namespace

Tensor row_indices(const char* op, const Tensor& idx, std::int64_t n, Device device) {
    std::vector<bool> seen(static_cast<std::size_t>(n), false);
    return mark_rows(op, idx, n, device, seen);
}

std::vector<Tensor> row_partition(const char* op, const std::vector<Tensor>& idx, Device device) {
    std::int64_t n = 0;
    for (const Tensor& i : idx) n += i.defined() ? i.numel() : 0;
    std::vector<bool> seen(static_cast<std::size_t>(n), false);
    std::vector<Tensor> out;
    for (const Tensor& i : idx) out.push_back(mark_rows(op, i, n, device, seen));
    return out;
}

void require_nhwc(const char* op, const Tensor& x, const char* what) {
    if (x.dim() != 4)
        throw std::invalid_argument(std::string(op) + ": " + what + " of shape " + shape_str(x.shape()) + " has " +
                                    std::to_string(x.dim()) + " dims (expected 4: (B, H, W, C), channels-last)");
}

std::array<std::int64_t, 2> conv_output_hw(const char* op, const Tensor& x, std::int64_t kh, std::int64_t kw,
                                           std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding) {
    const auto pair = [](std::array<std::int64_t, 2> v) {
        return "(" + std::to_string(v[0]) + ", " + std::to_string(v[1]) + ")";
    };
    if (stride[0] < 1 || stride[1] < 1)
        throw std::invalid_argument(std::string(op) + ": stride " + pair(stride) + " (expected at least 1)");
    if (padding[0] < 0 || padding[1] < 0)
        throw std::invalid_argument(std::string(op) + ": padding " + pair(padding) + " (expected at least 0)");
    if (kh < 1 || kw < 1)
        throw std::invalid_argument(std::string(op) + ": kernel " + std::to_string(kh) + "x" + std::to_string(kw) +
                                    " is empty");
    const std::int64_t h = x.size(1) + 2 * padding[0], w = x.size(2) + 2 * padding[1];
    if (h < kh || w < kw)
        throw std::invalid_argument(std::string(op) + ": kernel " + std::to_string(kh) + "x" + std::to_string(kw) +
                                    " is larger than the padded input " + std::to_string(h) + "x" + std::to_string(w) +
                                    " (input " + shape_str(x.shape()) + ", padding " + pair(padding) + ")");
    return {(h - kh) / stride[0] + 1, (w - kw) / stride[1] + 1};
}

}  // namespace bplab::detail
