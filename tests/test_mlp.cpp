// tests/test_mlp.cpp — the MLP model: names, sizes, initialisation statistics, units, training progress.
// Training on a tiny synthetic problem must drive the loss down (a check that the whole loop works).
#include <catch2/catch.hpp>
#include <cmath>

#include "core/optim/sgd.h"
#include "core/train/backprop.h"
#include "core/train/evaluate.h"
#include "models/mlp.h"
#include "tests/test_helpers.h"

using namespace bplab;

TEST_CASE("mlp: parameter names, shapes and count follow the published code", "[model]") {
    MlpConfig c;
    c.hidden = {100, 100, 100};
    const Mlp model(c);
    const auto params = model.named_parameters();
    REQUIRE(params.size() == 8);
    CHECK(params[0].first == "fc1.weight");
    CHECK(params[0].second.shape() == Shape{100, 784});
    CHECK(params[7].first == "fc4.bias");
    CHECK(model.parameter_count() == 784 * 100 + 100 + 2 * (100 * 100 + 100) + 100 * 10 + 10);
    CHECK(model.num_units() == 4);
    CHECK(model.unit_parameters(2).size() == 2);
}

TEST_CASE("mlp: kaiming-normal weights have std sqrt(2/fan_in), biases lie in ±1/sqrt(fan_in)", "[model]") {
    const Mlp model(MlpConfig{});
    const auto w = model.named_parameters()[0].second.to_vector();
    double s = 0, s2 = 0;
    for (double v : w) s += v, s2 += v * v;
    const double n = static_cast<double>(w.size()), mean = s / n, std = std::sqrt(s2 / n - mean * mean);
    CHECK(std::abs(mean) < 0.002);
    CHECK(std == Approx(std::sqrt(2.0 / 784)).epsilon(0.01));
    for (double v : model.named_parameters()[1].second.to_vector()) CHECK(std::abs(v) <= 1.0 / 28.0);
    const Mlp same(MlpConfig{});
    CHECK(same.named_parameters()[0].second.to_vector() == w);
}

TEST_CASE("mlp: SGD steps reduce the loss on a fixed batch", "[model]") {
    MlpConfig c;
    c.inputs = 20;
    c.hidden = {16};
    c.classes = 3;
    Mlp model(c);
    std::vector<std::int64_t> labels(32);
    for (int i = 0; i < 32; ++i) labels[static_cast<std::size_t>(i)] = i % 3;
    const Batch batch{bplab::test::random_tensor({32, 20}, 3, DType::f32), Tensor::from_indices(labels, {32})};
    Sgd sgd(model.parameters(), {.lr = 0.5});
    const double first = backprop_step(model, batch, sgd);
    double last = first;
    for (int i = 0; i < 200; ++i) last = backprop_step(model, batch, sgd);
    CHECK(last < 0.1 * first);
}
