// core/optim/optimizer.cpp — bookkeeping shared by optimisers: parameter identity, counts, state I/O.
// Parameters are identified by their TensorImpl, which in-place updates keep.
#include "core/optim/optimizer.h"

#include <map>
#include <stdexcept>

#include "backends/backend.h"
#include "core/optim/schedule.h"

namespace bplab {

Optimizer::Optimizer(std::vector<Tensor> params, double lr)
    : params_(std::move(params)), lr_(lr), updates_(params_.size(), 0) {
    for (std::size_t i = 0; i < params_.size(); ++i) index_[params_[i].impl_ptr().get()] = i;
}

void Optimizer::step(const std::vector<Tensor>& subset) {
    if (max_grad_norm_ > 0) clip_grad_norm(subset, max_grad_norm_);
    update(subset);
}

void Optimizer::zero_grad() {
    for (Tensor& p : params_) p.zero_grad();
}

std::int64_t Optimizer::updates_of(const Tensor& param) const {
    auto it = index_.find(param.impl_ptr().get());
    if (it == index_.end()) throw std::invalid_argument("optimizer: tensor is not one of its parameters");
    return updates_[it->second];
}

std::size_t Optimizer::begin_update(const Tensor& p) {
    auto it = index_.find(p.impl_ptr().get());
    if (it == index_.end())
        throw std::invalid_argument("optimizer: step() given a tensor of shape " + shape_str(p.shape()) +
                                    " that is not one of its parameters");
    ++updates_[it->second];
    return it->second;
}

std::vector<std::pair<std::string, Tensor>> Optimizer::state() const {
    std::vector<std::pair<std::string, Tensor>> out;
    out.emplace_back("updates", Tensor::from_indices(updates_, {static_cast<std::int64_t>(updates_.size())}));
    for (auto& [name, list] : const_cast<Optimizer*>(this)->buffers())
        for (std::size_t i = 0; i < list->size(); ++i)
            if ((*list)[i].defined()) out.emplace_back(name + "." + std::to_string(i), (*list)[i]);
    return out;
}

void Optimizer::load_state(const std::vector<std::pair<std::string, Tensor>>& state, const std::string& source) {
    std::map<std::string, const Tensor*> by_name;
    for (const auto& [name, t] : state) by_name[name] = &t;
    auto updates = by_name.find("updates");
    if (updates == by_name.end() || updates->second->numel() != static_cast<std::int64_t>(params_.size()))
        throw std::runtime_error(source + ": optimiser state has no 'updates' for " + std::to_string(params_.size()) +
                                 " parameters");
    const auto kept_here = [this](const std::string& name) {  // "updates" or "<buffer>.<parameter index>"
        if (name == "updates") return true;
        for (auto& [buffer, list] : buffers()) {
            if (name.rfind(buffer + ".", 0) != 0) continue;
            const std::string index = name.substr(buffer.size() + 1);
            if (!index.empty() && index.size() <= 18 && index.find_first_not_of("0123456789") == std::string::npos &&
                (index == "0" || index[0] != '0') && std::stoull(index) < list->size())
                return true;
        }
        return false;
    };
    for (const auto& [name, t] : by_name)
        if (!kept_here(name))
            throw std::runtime_error(source + ": optimiser state has '" + name +
                                     "', which this optimiser does not keep (was it saved by another optimiser?)");
    const auto counts = updates->second->to_vector();
    for (std::size_t i = 0; i < params_.size(); ++i) updates_[i] = static_cast<std::int64_t>(counts[i]);
    for (auto& [name, list] : buffers())
        for (std::size_t i = 0; i < list->size(); ++i) {
            auto it = by_name.find(name + "." + std::to_string(i));
            if (it == by_name.end()) {
                if (updates_[i] > 0)  // saved by an optimiser that keeps no such buffer
                    throw std::runtime_error(source + ": optimiser state has no '" + name + "." + std::to_string(i) +
                                             "' for a parameter updated " + std::to_string(updates_[i]) +
                                             " times (was it saved by another optimiser?)");
                (*list)[i] = Tensor();
                continue;
            }
            if (it->second->shape() != params_[i].shape())
                throw std::runtime_error(source + ": optimiser buffer " + it->first + " has shape " +
                                         shape_str(it->second->shape()) + " (expected " + shape_str(params_[i].shape()) + ")");
            (*list)[i] = it->second->to(params_[i].dtype()).to(params_[i].device()).clone();
        }
}

}  // namespace bplab
