// core/autocast.h — mixed precision, as a scope: under AutocastGuard(bf16) the linear ops, convolutions, attention
// and GELU read their f32 operands rounded to bfloat16, sum in f32, give f32, and keep the rounded inputs for
// backward (layer_norm_linear keeps its f32 x, from which it recomputes).
#pragma once
#include <optional>

#include "core/tensor.h"

namespace bplab {

/// The dtype that autocast ops (linear ops, convolutions, attention, GELU) round their f32 operands to on this
/// thread, if any (none unless a guard is alive).
std::optional<DType> autocast_dtype();

/// Rounds the operands of every autocast op on this thread to `dtype` for its lifetime (RAII); std::nullopt
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

/// True when an autocast op on x rounds its operands: a guard is alive and x is f32 (f64 stays exact, for gradient
/// checks). Ops decide this once, in forward, and their backward follows it.
bool autocast_applies(const Tensor& x);

/// t as an operand of an autocast op's products: rounded to the autocast dtype (no history) when `rounded`, else t.
Tensor autocast_operand(const Tensor& t, bool rounded);

/// The f32 values of t as an operand: rounded to the autocast dtype and widened again (no history) when `rounded`,
/// else t. For the convolutions, whose kernels take f32 only, and their weights and dy.
Tensor autocast_values(const Tensor& t, bool rounded);

/// The f32 values of a tensor an op kept under autocast: a bf16 copy widened (exactly), any other tensor as it is.
Tensor autocast_widened(const Tensor& kept);

/// "bf16" → DType::bf16, for command lines; names the flag, the text and what is accepted otherwise.
DType parse_autocast_dtype(const std::string& flag, const std::string& text);

}  // namespace bplab
