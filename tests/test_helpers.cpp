// tests/test_helpers.cpp — random tensors, comparisons, the finite-difference checker, temp dirs.
// The checker perturbs one element at a time, so keep gradcheck inputs small.
#include "tests/test_helpers.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <random>
#include <stdexcept>

namespace bplab::test {

Tensor random_tensor(const Shape& shape, std::uint64_t seed, DType dtype, double lo, double hi) {
    std::mt19937_64 gen(seed);
    std::vector<double> v(static_cast<std::size_t>(shape_numel(shape)));
    for (auto& x : v) x = lo + (hi - lo) * (static_cast<double>(gen() >> 11) * 0x1.0p-53);
    return Tensor::from_vector(v, shape, dtype);
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
    if (a.shape() != b.shape())
        throw std::invalid_argument("max_abs_diff: shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()));
    const auto va = a.to_vector(), vb = b.to_vector();
    double m = 0.0;
    for (std::size_t i = 0; i < va.size(); ++i) m = nan_max(m, std::abs(va[i] - vb[i]));
    return m;
}

std::vector<Tensor> output_and_grads(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                                     const std::vector<Tensor>& inputs) {
    for (const Tensor& t : inputs) Tensor(t).zero_grad();
    const Tensor y = fn(inputs);
    backward(sum(mul(y, random_tensor(y.shape(), 99, y.dtype()))));
    std::vector<Tensor> out{y.detach()};
    for (const Tensor& t : inputs) out.push_back(t.grad().clone());
    return out;
}

double worst_relative(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        double scale = 1e-30;
        for (double v : a[i].to_vector()) scale = std::max(scale, std::abs(v));
        worst = nan_max(worst, max_abs_diff(a[i], b[i]) / scale);
    }
    return worst;
}

double check_gradients(const std::function<Tensor(const std::vector<Tensor>&)>& fn, std::vector<Tensor> inputs,
                       const GradCheckOptions& options) {
    for (const Tensor& t : inputs)
        if (t.defined() && t.requires_grad() && t.dtype() != DType::f64)
            throw std::invalid_argument("check_gradients: inputs must be F64");
    Tensor probe;
    {
        NoGradGuard no_grad;
        probe = fn(inputs);
    }
    const Tensor w = random_tensor(probe.shape(), 977, DType::f64, 0.5, 1.5);
    auto objective = [&]() {
        NoGradGuard no_grad;
        const auto y = fn(inputs).to_vector(), wv = w.to_vector();
        double s = 0.0;
        for (std::size_t i = 0; i < y.size(); ++i) s += y[i] * wv[i];
        return s;
    };
    for (Tensor& t : inputs)
        if (t.defined() && t.requires_grad()) t.zero_grad();
    backward(sum(mul(fn(inputs), w)));

    double worst = 0.0;
    for (std::size_t k = 0; k < inputs.size(); ++k) {
        Tensor& t = inputs[k];
        if (!t.defined() || !t.requires_grad()) continue;
        REQUIRE(t.grad().defined());
        CHECK(t.grad().shape() == t.shape());
        const auto analytic = t.grad().to_vector();
        double* p = t.data<double>();
        for (std::int64_t i = 0; i < t.numel(); ++i) {
            const double saved = p[i];
            p[i] = saved + options.eps;
            const double up = objective();
            p[i] = saved - options.eps;
            const double down = objective();
            p[i] = saved;
            const double numeric = (up - down) / (2 * options.eps);
            const double err = std::abs(analytic[static_cast<std::size_t>(i)] - numeric) / std::max(1.0, std::abs(numeric));
            worst = nan_max(worst, err);
            if (!(err <= options.tol)) {
                INFO("input " << k << " element " << i << ": autograd " << analytic[static_cast<std::size_t>(i)]
                              << ", finite differences " << numeric);
                CHECK(err <= options.tol);
                return worst;
            }
        }
    }
    return worst;
}

TempDir::TempDir() {
    std::random_device rd;
    const auto base = std::filesystem::temp_directory_path();
    for (int attempt = 0; attempt < 100; ++attempt) {
        const auto p = base / ("bplab-test-" + std::to_string(rd()));
        if (std::filesystem::create_directory(p)) {
            dir_ = p.string();
            return;
        }
    }
    throw std::runtime_error("TempDir: could not create a directory under " + base.string());
}

std::vector<std::string> TempDir::entries() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

}  // namespace bplab::test
