// core/ops/elementwise.cpp — add, sub, mul, div (with trailing broadcast) and scale.
// A broadcast operand's gradient is summed back over the leading dims it was repeated along.
#include <algorithm>
#include <stdexcept>

#include "backends/backend.h"
#include "core/ops.h"
#include "core/ops/check.h"

namespace bplab {
namespace {

const char* op_name(BinaryOp op) {
    switch (op) {
        case BinaryOp::add: return "add";
        case BinaryOp::sub: return "sub";
        case BinaryOp::mul: return "mul";
        case BinaryOp::div: return "div";
    }
    return "?";
}

/// True if `small`, without its leading 1s, equals the last dims of `big` (e.g. (1, N, C) into (B, N, C)).
bool is_trailing(const Shape& small, const Shape& big) {
    auto first = std::find_if(small.begin(), small.end(), [](std::int64_t d) { return d != 1; });
    const auto kept = static_cast<std::size_t>(small.end() - first);
    return kept <= big.size() && std::equal(first, small.end(), big.end() - static_cast<std::ptrdiff_t>(kept));
}

/// True if b broadcasts into a's shape: one element, or a's trailing dims.
bool broadcasts_into(const Tensor& b, const Tensor& a) { return b.numel() == 1 || is_trailing(b.shape(), a.shape()); }

void check_broadcast(BinaryOp op, const Tensor& a, const Tensor& b) {
    detail::require_float(op_name(op), a, "a");
    detail::require_float(op_name(op), b, "b");
    detail::require_same(op_name(op), a, b);
    if (!broadcasts_into(b, a))
        throw std::invalid_argument(std::string(op_name(op)) + ": cannot broadcast " + shape_str(b.shape()) + " to " +
                                    shape_str(a.shape()) + " (b, without leading 1s, must match a's trailing dims or have one element)");
}

Tensor binary_raw(const Tensor& a, const Tensor& b, BinaryOp op) {
    Tensor out = Tensor::empty_like(a);
    backend_for(a.device()).binary(out, a, b, op);
    return out;
}

/// Sums g (a's shape) down to `shape` (a trailing part of it, or one element).
Tensor reduce_to(const Tensor& g, const Shape& shape) {
    if (g.shape() == shape) return g;
    const std::int64_t inner = shape_numel(shape);
    Tensor out = Tensor::empty(shape, g.dtype(), g.device());
    if (inner == 0) return out;  // an empty operand's gradient
    backend_for(g.device()).sum_axis(out, g, 1, g.numel() / inner, inner);
    return out;
}

Tensor binary(const Tensor& a_in, const Tensor& b_in, BinaryOp op) {
    const bool commutes = op == BinaryOp::add || op == BinaryOp::mul;
    // The broadcast operand goes second; decided by shapes, not sizes (an empty (B, 0, C) times a (C) scale
    // has fewer elements than the scale and is still the big one).
    const bool swap = commutes && a_in.defined() && b_in.defined() && !broadcasts_into(b_in, a_in) &&
                      broadcasts_into(a_in, b_in);
    const Tensor& a = swap ? b_in : a_in;
    const Tensor& b = swap ? a_in : b_in;
    check_broadcast(op, a, b);
    Tensor out = binary_raw(a, b, op);
    const Tensor sa = a.detach(), sb = b.detach();
    const bool save_a = op == BinaryOp::mul || op == BinaryOp::div, save_b = op != BinaryOp::add && op != BinaryOp::sub;
    const Tensor keep_a = save_a ? sa : Tensor(), keep_b = save_b ? sb : Tensor();
    const Shape b_shape = b.shape();
    auto fn = [keep_a, keep_b, b_shape, op](const Tensor& dy, const NeedsGrad& needs) -> std::vector<Tensor> {
        Tensor da, db;
        switch (op) {
            case BinaryOp::add:
                if (needs[0]) da = dy;
                if (needs[1]) db = reduce_to(dy, b_shape);
                break;
            case BinaryOp::sub:
                if (needs[0]) da = dy;
                if (needs[1]) db = scale(reduce_to(dy, b_shape), -1.0);
                break;
            case BinaryOp::mul:
                if (needs[0]) da = binary_raw(dy, keep_b, BinaryOp::mul);
                if (needs[1]) db = reduce_to(binary_raw(dy, keep_a, BinaryOp::mul), b_shape);
                break;
            case BinaryOp::div:
                if (needs[0]) da = binary_raw(dy, keep_b, BinaryOp::div);
                if (needs[1]) {
                    // d(a/b)/db = −a / b²
                    Tensor t = binary_raw(binary_raw(dy, keep_a, BinaryOp::mul), keep_b, BinaryOp::div);
                    db = scale(reduce_to(binary_raw(t, keep_b, BinaryOp::div), b_shape), -1.0);
                }
                break;
        }
        return {da, db};
    };
    return record(out, op_name(op), {a, b}, fn);
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return binary(a, b, BinaryOp::add); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(a, b, BinaryOp::sub); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(a, b, BinaryOp::mul); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(a, b, BinaryOp::div); }

Tensor scale(const Tensor& x, double s) {
    detail::require_float("scale", x);
    Tensor out = Tensor::empty_like(x);
    backend_for(x.device()).scale(out, x, s);
    return record(out, "scale", {x}, [s](const Tensor& dy, const NeedsGrad&) -> std::vector<Tensor> {
        return {scale(dy, s)};
    });
}

}  // namespace bplab
