// layers/module.h — the base of layers and models: named parameters, children, train/eval mode.
// Names are dotted paths as in PyTorch state dicts ("fc1.weight"), so checkpoints exchange with it.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace bplab {

using NamedTensorList = std::vector<std::pair<std::string, Tensor>>;

class Module {
public:
    virtual ~Module() = default;
    Module() = default;
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;

    /// Every parameter with its dotted name, in registration order (children in place).
    NamedTensorList named_parameters() const;
    std::vector<Tensor> parameters() const;
    std::int64_t parameter_count() const;

    /// Copies values into the parameters by name; every parameter must be present with its shape.
    void load_parameters(const NamedTensorList& values, const std::string& source);
    /// Drops the accumulated gradient of every parameter.
    void zero_grad();
    /// Moves every parameter to `device` in place (every handle to it follows; gradients are dropped).
    /// Build optimisers after this, so that their state is made on the same device.
    void to(Device device);
    /// Where the parameters are (the CPU for a module without any).
    Device device() const;

    void train(bool on = true);
    void eval() { train(false); }
    bool training() const { return training_; }

protected:
    /// Registers a parameter (marked requires_grad) and returns a handle to it (same storage).
    Tensor register_parameter(const std::string& name, Tensor value);
    /// Registers a child whose lifetime the derived class owns (a member or a unique_ptr).
    void register_module(const std::string& name, Module& child);

private:
    void collect(const std::string& prefix, NamedTensorList& out) const;
    std::vector<std::pair<std::string, Tensor>> params_;
    std::vector<std::pair<std::string, Module*>> children_;
    bool training_ = true;
};

}  // namespace bplab
