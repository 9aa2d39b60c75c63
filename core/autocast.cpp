// core/autocast.cpp — the thread's autocast dtype and the guard that sets it (core/autocast.h).
// Thread-local like NoGradGuard's flag, so that a data thread's work never rounds.
#include <stdexcept>

#include "core/autocast.h"

namespace bplab {
namespace {
thread_local std::optional<DType> current;
}  // namespace

std::optional<DType> autocast_dtype() { return current; }

AutocastGuard::AutocastGuard(std::optional<DType> dtype) : previous_(current) {
    if (dtype && *dtype != DType::bf16)
        throw std::invalid_argument(std::string("AutocastGuard: ") + dtype_name(*dtype) +
                                    " (expected BF16, or none to turn autocast off)");
    current = dtype;
}

AutocastGuard::~AutocastGuard() { current = previous_; }

bool autocast_applies(const Tensor& x) { return current.has_value() && x.dtype() == DType::f32; }

Tensor autocast_operand(const Tensor& t, bool rounded) {
    if (!rounded || !t.defined()) return t;
    return t.detach().to(DType::bf16);
}

Tensor autocast_values(const Tensor& t, bool rounded) { return autocast_widened(autocast_operand(t, rounded)); }

Tensor autocast_widened(const Tensor& kept) { return kept.dtype() == DType::bf16 ? kept.to(DType::f32) : kept; }

DType parse_autocast_dtype(const std::string& flag, const std::string& text) {
    if (text == "bf16") return DType::bf16;
    throw std::invalid_argument(flag + " '" + text + "': expected bf16" +
                                (text == "fp16" || text == "f16" ? " (fp16 needs loss scaling, which bplab does not have)"
                                                                 : ""));
}

}  // namespace bplab
