// core/optim/optimizer.h — the optimiser interface: update all parameters, or only a chosen subset.
// Backforward updates one unit at a time, so a step must leave other parameters' state untouched.
#pragma once
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace bplab {

class Optimizer {
public:
    Optimizer(std::vector<Tensor> params, double lr);
    virtual ~Optimizer() = default;

    /// Updates every parameter that has a gradient.
    void step() { step(params_); }
    /// Updates only `subset` (each must be one of this optimiser's parameters), after clipping the
    /// subset's gradients to the global norm set by set_max_grad_norm (if any).
    void step(const std::vector<Tensor>& subset);
    /// Gradient clipping by global L2 norm before every step; 0 turns it off.
    void set_max_grad_norm(double max_norm) { max_grad_norm_ = max_norm; }
    /// Drops every parameter's gradient.
    void zero_grad();

    double lr() const { return lr_; }
    void set_lr(double lr) { lr_ = lr; }
    /// How many updates a parameter has received (its state is touched exactly then).
    std::int64_t updates_of(const Tensor& param) const;
    const std::vector<Tensor>& params() const { return params_; }

    /// Everything a bit-identical resume needs: update counts and per-parameter buffers, by name.
    std::vector<std::pair<std::string, Tensor>> state() const;
    /// Restores what state() wrote; `source` names the file in errors.
    void load_state(const std::vector<std::pair<std::string, Tensor>>& state, const std::string& source);

protected:
    /// The update rule itself, on parameters whose gradients are final.
    virtual void update(const std::vector<Tensor>& subset) = 0;
    /// Throws unless p is one of this optimiser's parameters; counts the update and returns p's index.
    std::size_t begin_update(const Tensor& p);
    /// Per-parameter buffers of a subclass, by buffer name ("momentum", "exp_avg", ...), indexed like params_:
    /// those that every parameter has once it has been updated.
    virtual std::vector<std::pair<std::string, std::vector<Tensor>*>> buffers() = 0;

    std::vector<Tensor> params_;
    double lr_;
    double max_grad_norm_ = 0.0;

private:
    std::unordered_map<const TensorImpl*, std::size_t> index_;
    std::vector<std::int64_t> updates_;
};

}  // namespace bplab
