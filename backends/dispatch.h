// backends/dispatch.h — from a tensor's runtime dtype to a kernel's element type, shared by every backend.
// Float kernels are templates over float and double; anything else is an error naming backend, op and dtype.
#pragma once
#include <stdexcept>
#include <string>
#include <utility>

#include "core/dtype.h"

namespace bplab {

/// Calls f(T{}) with T = float or double, as the dtype says; `backend` and `op` name the error otherwise.
template <class F>
void dispatch_float(const char* backend, const char* op, DType dtype, F&& f) {
    switch (dtype) {
        case DType::f32: std::forward<F>(f)(float{}); return;
        case DType::f64: std::forward<F>(f)(double{}); return;
        default:
            throw std::invalid_argument(std::string(backend) + " " + op + ": " + dtype_name(dtype) + " is not a float type");
    }
}

}  // namespace bplab
