// core/optim/optimizer.h — the optimiser interface: update all parameters, or only a chosen subset.
// Backforward updates one unit at a time, so a step must leave other parameters' state untouched.
#pragma once
#include <map>
#include <vector>

#include "core/tensor.h"

namespace bplab {

class Optimizer {
public:
    explicit Optimizer(std::vector<Tensor> params, double lr);
    virtual ~Optimizer() = default;

    /// Updates every parameter that has a gradient.
    void step() { step(params_); }
    /// Updates only `subset` (each must be one of this optimiser's parameters).
    virtual void step(const std::vector<Tensor>& subset) = 0;
    /// Drops every parameter's gradient.
    void zero_grad();

    double lr() const { return lr_; }
    void set_lr(double lr) { lr_ = lr; }
    /// How many updates a parameter has received (its state is touched exactly then).
    std::int64_t updates_of(const Tensor& param) const;
    const std::vector<Tensor>& params() const { return params_; }

protected:
    /// Throws unless p is one of this optimiser's parameters; counts the update.
    void begin_update(const Tensor& p);

    std::vector<Tensor> params_;
    double lr_;

private:
    std::map<const TensorImpl*, std::int64_t> updates_;
};

}  // namespace bplab
