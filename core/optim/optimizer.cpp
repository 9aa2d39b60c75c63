// core/optim/optimizer.cpp — bookkeeping shared by optimisers.
// Parameters are identified by their TensorImpl, which in-place updates keep.
#include "core/optim/optimizer.h"

#include <stdexcept>

namespace bplab {

Optimizer::Optimizer(std::vector<Tensor> params, double lr) : params_(std::move(params)), lr_(lr) {
    for (const Tensor& p : params_) updates_[p.impl_ptr().get()] = 0;
}

void Optimizer::zero_grad() {
    for (Tensor& p : params_) p.zero_grad();
}

std::int64_t Optimizer::updates_of(const Tensor& param) const {
    auto it = updates_.find(param.impl_ptr().get());
    if (it == updates_.end()) throw std::invalid_argument("optimizer: tensor is not one of its parameters");
    return it->second;
}

void Optimizer::begin_update(const Tensor& p) {
    auto it = updates_.find(p.impl_ptr().get());
    if (it == updates_.end())
        throw std::invalid_argument("optimizer: step() given a tensor of shape " + shape_str(p.shape()) +
                                    " that is not one of its parameters");
    ++it->second;
}

}  // namespace bplab
