// layers/module.cpp — parameter registration, dotted names, loading by name, train/eval.
// Loading checks every name and shape and says which one is wrong and where it came from.
#include "layers/module.h"

#include <map>
#include <stdexcept>

#include "backends/backend.h"
#include "core/ops.h"

namespace bplab {

Tensor Module::register_parameter(const std::string& name, Tensor value) {
    value.set_requires_grad(true);
    params_.emplace_back(name, value);
    return value;
}

void Module::register_module(const std::string& name, Module& child) { children_.emplace_back(name, &child); }

void Module::collect(const std::string& prefix, NamedTensorList& out) const {
    for (const auto& [name, t] : params_) out.emplace_back(prefix + name, t);
    for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

NamedTensorList Module::named_parameters() const {
    NamedTensorList out;
    collect("", out);
    return out;
}

std::vector<Tensor> Module::parameters() const {
    std::vector<Tensor> out;
    for (auto& [name, t] : named_parameters()) out.push_back(t);
    return out;
}

std::int64_t Module::parameter_count() const {
    std::int64_t n = 0;
    for (const auto& [name, t] : named_parameters()) n += t.numel();
    return n;
}

void Module::load_parameters(const NamedTensorList& values, const std::string& source) {
    std::map<std::string, const Tensor*> by_name;
    for (const auto& [name, t] : values) by_name[name] = &t;
    for (auto& [name, p] : named_parameters()) {
        auto it = by_name.find(name);
        if (it == by_name.end()) throw std::runtime_error(source + ": parameter '" + name + "' is missing");
        const Tensor& v = *it->second;
        if (v.shape() != p.shape())
            throw std::runtime_error(source + ": parameter '" + name + "' has shape " + shape_str(v.shape()) +
                                     " (expected " + shape_str(p.shape()) + ")");
        if (!is_floating(v.dtype()))
            throw std::runtime_error(source + ": parameter '" + name + "' holds " + dtype_name(v.dtype()) +
                                     " (expected F32 or F64)");
        Tensor dst = p;
        backend_for(p.device()).copy(dst, v.to(p.dtype()).to(p.device()));
    }
}

void Module::zero_grad() {
    for (auto& [name, p] : named_parameters()) p.zero_grad();
}

void Module::to(Device device) {
    for (auto& [name, p] : named_parameters()) {
        if (p.device() == device) continue;
        p.impl().storage = p.detach().to(device).impl().storage;
        p.zero_grad();
    }
}

Device Module::device() const {
    const auto params = named_parameters();
    return params.empty() ? Device::cpu() : params.front().second.device();
}

void Module::train(bool on) {
    training_ = on;
    for (auto& [name, child] : children_) child->train(on);
}

}  // namespace bplab
