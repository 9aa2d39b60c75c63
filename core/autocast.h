// core/autocast.h — mixed precision, as a scope: under AutocastGuard(bf16) a linear op rounds its f32 input and
// weight to bfloat16, multiplies them with f32 sums and gives f32, and GELU reads its input rounded to bf16; both
// keep that rounded input for backward (layer_norm_linear keeps its f32 x, from which it recomputes).
#pragma once
#include <optional>

#include "core/tensor.h"

namespace bplab {

/// The dtype that linear ops and GELU round their f32 operands to on this thread, if any (none unless a guard is
/// alive).
std::optional<DType> autocast_dtype();

/// Rounds the operands of every linear op and GELU on this thread to `dtype` for its lifetime (RAII); std::nullopt
/// turns a surrounding guard's rounding off. Only bf16 is offered: fp16 would need loss scaling, which bplab does not have.
class AutocastGuard {
public:
    explicit AutocastGuard(std::optional<DType> dtype);
    ~AutocastGuard();
    AutocastGuard(const AutocastGuard&) = delete;
    AutocastGuard& operator=(const AutocastGuard&) = delete;

private:
    std::optional<DType> previous_;
};

/// True when a linear op or GELU on x rounds its operands: a guard is alive and x is f32 (f64 stays exact, for gradient
/// checks). Ops decide this once, in forward, and their backward follows it.
bool autocast_applies(const Tensor& x);

/// t as an operand of a linear op's products: rounded to the autocast dtype (no history) when `rounded`, else t.
Tensor autocast_operand(const Tensor& t, bool rounded);

/// The f32 values of a tensor an op kept under autocast: a bf16 copy widened (exactly), any other tensor as it is.
Tensor autocast_widened(const Tensor& kept);

/// "bf16" → DType::bf16, for command lines; names the flag, the text and what is accepted otherwise.
DType parse_autocast_dtype(const std::string& flag, const std::string& text);

}  // namespace bplab
