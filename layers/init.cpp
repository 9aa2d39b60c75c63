// layers/init.cpp — parameter initialisers.
// Values are drawn in row-major order from the given Rng, so a seed fixes every weight.
#include "layers/init.h"

#include <cmath>
#include <vector>

namespace bplab::init {

Tensor kaiming_normal(const Shape& shape, std::int64_t fan_in, Rng& rng, DType dtype) {
    const double std = std::sqrt(2.0 / static_cast<double>(fan_in));
    std::vector<double> v(static_cast<std::size_t>(shape_numel(shape)));
    for (auto& x : v) x = std * rng.normal();
    return Tensor::from_vector(v, shape, dtype);
}

Tensor trunc_normal(const Shape& shape, double std, Rng& rng, DType dtype, double lo, double hi) {
    std::vector<double> v(static_cast<std::size_t>(shape_numel(shape)));
    for (auto& x : v) {
        do x = std * rng.normal();
        while (x < lo || x > hi);
    }
    return Tensor::from_vector(v, shape, dtype);
}

Tensor uniform(const Shape& shape, double bound, Rng& rng, DType dtype) {
    std::vector<double> v(static_cast<std::size_t>(shape_numel(shape)));
    for (auto& x : v) x = bound * (2.0 * rng.uniform() - 1.0);
    return Tensor::from_vector(v, shape, dtype);
}

}  // namespace bplab::init
