// core/train/method.cpp — the table of training methods.
// Adding a method means adding one row here and one step function in core/train/.
#include "core/train/method.h"

#include <stdexcept>
#include <utility>

#include "core/train/backforward.h"
#include "core/train/backprop.h"

namespace bplab {
namespace {

const std::vector<std::pair<std::string, StepFn>>& methods() {
    static const std::vector<std::pair<std::string, StepFn>> table = {
        {"backprop", backprop_step},
        {"backforward", backforward_step},
        {"backforward-incremental", backforward_incremental_step},
        {"backforward-as-released", backforward_as_released_step},
    };
    return table;
}

}  // namespace

const std::vector<std::string>& method_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& [name, fn] : methods()) out.push_back(name);
        return out;
    }();
    return names;
}

StepFn step_method(const std::string& name) {
    for (const auto& [n, fn] : methods())
        if (n == name) return fn;
    std::string valid;
    for (const auto& n : method_names()) valid += (valid.empty() ? "" : ", ") + n;
    throw std::invalid_argument("method '" + name + "' is unknown (expected one of: " + valid + ")");
}

}  // namespace bplab
