// models/model.cpp — the composition of update units shared by every model.
// Backforward's incremental variant calls forward_units on a suffix of the model.
#include "models/model.h"

#include <stdexcept>

namespace bplab {

void Model::set_sbp(const sbp::SbpConfig& config) {
    if (config.enabled()) throw std::invalid_argument("sbp: this model has no blocks to split (SBP needs ViT or ConvNeXt)");
}

Tensor Model::forward_units(const Tensor& x, std::int64_t from, std::int64_t to) const {
    Tensor h = x;
    for (std::int64_t k = from; k < to; ++k) h = forward_unit(k, h);
    return h;
}

}  // namespace bplab
