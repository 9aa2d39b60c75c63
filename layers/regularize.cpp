// layers/regularize.cpp — dropout masks (per element) and DropPath masks (per sample).
// Masks are drawn on the CPU from the model's Rng and moved to the tensor's device.
#include "layers/regularize.h"

#include <stdexcept>
#include <vector>

#include "core/ops.h"

namespace bplab {
namespace {

void check_p(const char* op, double p) {
    if (!(p >= 0 && p < 1)) throw std::invalid_argument(std::string(op) + ": drop probability " + std::to_string(p) + " (expected 0 <= p < 1)");
}

Tensor keep_mask(std::int64_t n, double p, Rng& rng, DType dtype, Device device) {
    std::vector<double> m(static_cast<std::size_t>(n));
    for (auto& v : m) v = rng.uniform() < p ? 0.0 : 1.0 / (1.0 - p);
    return Tensor::from_vector(m, {n}, dtype).to(device);
}

}  // namespace

Tensor dropout(const Tensor& x, double p, bool training, Rng& rng) {
    check_p("dropout", p);
    if (!training || p == 0) return x;
    return mul(x, keep_mask(x.numel(), p, rng, x.dtype(), x.device()).reshape(x.shape()));
}

Tensor drop_path(const Tensor& x, double p, bool training, Rng& rng) {
    check_p("drop_path", p);
    if (!training || p == 0) return x;
    return scale_rows(x, keep_mask(x.size(0), p, rng, x.dtype(), x.device()));
}

}  // namespace bplab
