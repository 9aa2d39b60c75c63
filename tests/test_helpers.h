// tests/test_helpers.h — shared tools for the tests: random tensors, comparisons, finite differences.
// check_gradients is the one gradient checker: f64 central differences against autograd.
#pragma once
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/tensor.h"

namespace bplab::test {

/// Uniform values in [lo, hi) from a fixed seed (deterministic across runs).
Tensor random_tensor(const Shape& shape, std::uint64_t seed, DType dtype = DType::f64, double lo = -1.0, double hi = 1.0);
/// max(a, b), but a NaN on either side is the result: std::max(m, NaN) is m, which would let a comparison pass
/// over a NaN (an element never written, under BPLAB_POISON) unseen.
inline double nan_max(double a, double b) { return std::isnan(a) || b <= a ? a : b; }
/// max |a − b| over all elements (shapes must agree); NaN if any difference is NaN.
double max_abs_diff(const Tensor& a, const Tensor& b);

/// The output and every input's gradient of sum(fn(inputs) ⊙ g), for a fixed random g (the inputs' gradients
/// are zeroed first).
std::vector<Tensor> output_and_grads(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                                     const std::vector<Tensor>& inputs);
/// Largest |a − b| over the pairs of tensors, relative to the largest |a| of each pair.
double worst_relative(const std::vector<Tensor>& a, const std::vector<Tensor>& b);

struct GradCheckOptions {
    double eps = 1e-6;  ///< central-difference step
    double tol = 1e-8;  ///< allowed |analytic − numeric| / max(1, |numeric|)
};

/// Checks autograd's gradient of sum(fn(inputs) ⊙ w), for a fixed random w, against central
/// differences for every element of every input that requires grad. Inputs must be f64.
/// Returns the largest error it saw (and fails the enclosing test past tol).
double check_gradients(const std::function<Tensor(const std::vector<Tensor>&)>& fn, std::vector<Tensor> inputs,
                       const GradCheckOptions& options = {});

/// A fresh empty directory under the system temp dir, removed by the destructor.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string path(const std::string& name) const { return dir_ + "/" + name; }
    const std::string& str() const { return dir_; }
    /// Names of the files in the directory, sorted.
    std::vector<std::string> entries() const;

private:
    std::string dir_;
};

}  // namespace bplab::test
