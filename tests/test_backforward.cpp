// tests/test_backforward.cpp — Backforward Propagation's claims, each against an independent computation.
// One unit = backprop; unit 2 sees unit 1 updated; incremental = faithful; pass counts; optimiser state.
#include <catch2/catch.hpp>
#include <cmath>

#include "core/optim/sgd.h"
#include "core/train/backforward.h"
#include "core/train/backprop.h"
#include "models/mlp.h"
#include "tests/test_helpers.h"

using namespace bplab;
using bplab::test::max_abs_diff;
using bplab::test::random_tensor;

namespace {

Batch make_batch(std::int64_t b, std::int64_t inputs, std::int64_t classes, std::uint64_t seed) {
    std::vector<std::int64_t> y(static_cast<std::size_t>(b));
    for (std::int64_t i = 0; i < b; ++i) y[static_cast<std::size_t>(i)] = (i * 7 + static_cast<std::int64_t>(seed)) % classes;
    return {random_tensor({b, inputs}, seed, DType::f64), Tensor::from_indices(y, {b})};
}

MlpConfig small_mlp(std::vector<std::int64_t> hidden) {
    MlpConfig c;
    c.inputs = 6;
    c.hidden = std::move(hidden);
    c.classes = 4;
    c.dtype = DType::f64;
    return c;
}

/// A model that forwards to an MLP and counts how often each unit runs forward.
class CountingModel final : public Model {
public:
    explicit CountingModel(const MlpConfig& c) : mlp_(c), calls_(static_cast<std::size_t>(mlp_.num_units()), 0) {
        register_module("mlp", mlp_);
    }
    std::int64_t num_units() const override { return mlp_.num_units(); }
    Tensor forward_unit(std::int64_t k, const Tensor& x) const override {
        ++calls_[static_cast<std::size_t>(k)];
        return mlp_.forward_unit(k, x);
    }
    std::vector<Tensor> unit_parameters(std::int64_t k) const override { return mlp_.unit_parameters(k); }
    std::int64_t total_calls() const {
        std::int64_t t = 0;
        for (auto c : calls_) t += c;
        return t;
    }
    const std::vector<std::int64_t>& calls() const { return calls_; }

private:
    Mlp mlp_;
    mutable std::vector<std::int64_t> calls_;
};

/// Records which parameters each step() call received.
class RecordingSgd final : public Optimizer {
public:
    RecordingSgd(std::vector<Tensor> params, double lr) : Optimizer(std::move(params), lr), sgd_(params_, {.lr = lr}) {}
    std::vector<std::vector<Tensor>> calls;

protected:
    void update(const std::vector<Tensor>& subset) override {
        calls.push_back(subset);
        sgd_.step(subset);
    }
    std::vector<std::pair<std::string, std::vector<Tensor>*>> buffers() override { return {}; }

private:
    Sgd sgd_;
};

/// Reference gradients of a 2-layer ReLU MLP with mean cross-entropy, written with plain loops.
struct TwoLayer {
    std::vector<double> w1, b1, w2, b2;  // (H, I), (H), (C, H), (C)
    std::int64_t in, hidden, classes;
};

void reference_grads(const TwoLayer& m, const Batch& batch, TwoLayer& g) {
    const auto x = batch.x.to_vector(), yv = batch.y.to_vector();
    const std::int64_t B = batch.x.size(0), I = m.in, H = m.hidden, C = m.classes;
    g = {std::vector<double>(m.w1.size()), std::vector<double>(m.b1.size()), std::vector<double>(m.w2.size()),
         std::vector<double>(m.b2.size()), I, H, C};
    for (std::int64_t b = 0; b < B; ++b) {
        std::vector<double> pre(static_cast<std::size_t>(H)), h(static_cast<std::size_t>(H)), z(static_cast<std::size_t>(C));
        for (std::int64_t j = 0; j < H; ++j) {
            double s = m.b1[static_cast<std::size_t>(j)];
            for (std::int64_t i = 0; i < I; ++i) s += m.w1[static_cast<std::size_t>(j * I + i)] * x[static_cast<std::size_t>(b * I + i)];
            pre[static_cast<std::size_t>(j)] = s;
            h[static_cast<std::size_t>(j)] = s > 0 ? s : 0;
        }
        double mx = -1e300;
        for (std::int64_t c = 0; c < C; ++c) {
            double s = m.b2[static_cast<std::size_t>(c)];
            for (std::int64_t j = 0; j < H; ++j) s += m.w2[static_cast<std::size_t>(c * H + j)] * h[static_cast<std::size_t>(j)];
            z[static_cast<std::size_t>(c)] = s;
            mx = std::max(mx, s);
        }
        double den = 0;
        for (double v : z) den += std::exp(v - mx);
        std::vector<double> dz(static_cast<std::size_t>(C)), dh(static_cast<std::size_t>(H), 0.0);
        for (std::int64_t c = 0; c < C; ++c)
            dz[static_cast<std::size_t>(c)] = (std::exp(z[static_cast<std::size_t>(c)] - mx) / den - (c == static_cast<std::int64_t>(yv[static_cast<std::size_t>(b)]) ? 1.0 : 0.0)) / static_cast<double>(B);
        for (std::int64_t c = 0; c < C; ++c) {
            g.b2[static_cast<std::size_t>(c)] += dz[static_cast<std::size_t>(c)];
            for (std::int64_t j = 0; j < H; ++j) {
                g.w2[static_cast<std::size_t>(c * H + j)] += dz[static_cast<std::size_t>(c)] * h[static_cast<std::size_t>(j)];
                dh[static_cast<std::size_t>(j)] += dz[static_cast<std::size_t>(c)] * m.w2[static_cast<std::size_t>(c * H + j)];
            }
        }
        for (std::int64_t j = 0; j < H; ++j) {
            const double dpre = pre[static_cast<std::size_t>(j)] > 0 ? dh[static_cast<std::size_t>(j)] : 0.0;
            g.b1[static_cast<std::size_t>(j)] += dpre;
            for (std::int64_t i = 0; i < I; ++i) g.w1[static_cast<std::size_t>(j * I + i)] += dpre * x[static_cast<std::size_t>(b * I + i)];
        }
    }
}

double max_diff(const Tensor& t, const std::vector<double>& v) {
    const auto a = t.to_vector();
    REQUIRE(a.size() == v.size());
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = bplab::test::nan_max(m, std::abs(a[i] - v[i]));
    return m;
}

}  // namespace

TEST_CASE("backforward: with one unit it is exactly backprop", "[backforward]") {
    const Batch batch = make_batch(8, 6, 4, 1);
    Mlp a(small_mlp({})), b(small_mlp({})), c(small_mlp({}));
    Sgd sa(a.parameters(), {.lr = 0.3}), sb(b.parameters(), {.lr = 0.3}), sc(c.parameters(), {.lr = 0.3});
    for (int step = 0; step < 3; ++step) {
        backprop_step(a, batch, sa);
        backforward_step(b, batch, sb);
        backforward_incremental_step(c, batch, sc);
    }
    for (std::size_t i = 0; i < a.parameters().size(); ++i) {
        CHECK(max_abs_diff(a.parameters()[i], b.parameters()[i]) == 0.0);
        CHECK(max_abs_diff(a.parameters()[i], c.parameters()[i]) == 0.0);
    }
}

TEST_CASE("backforward: unit 2's update uses the gradient taken after unit 1's update", "[backforward]") {
    const Batch batch = make_batch(8, 6, 4, 2);
    const double lr = 0.7;
    Mlp model(small_mlp({5}));
    const auto p = model.parameters();  // fc1.weight, fc1.bias, fc2.weight, fc2.bias
    TwoLayer m{p[0].to_vector(), p[1].to_vector(), p[2].to_vector(), p[3].to_vector(), 6, 5, 4};

    // Independent side: SGD on fc1 with the gradient at the initial weights, then the gradient of fc2
    // recomputed (plain loops) with fc1 already updated.
    TwoLayer g;
    reference_grads(m, batch, g);
    for (std::size_t i = 0; i < m.w1.size(); ++i) m.w1[i] -= lr * g.w1[i];
    for (std::size_t i = 0; i < m.b1.size(); ++i) m.b1[i] -= lr * g.b1[i];
    reference_grads(m, batch, g);
    for (std::size_t i = 0; i < m.w2.size(); ++i) m.w2[i] -= lr * g.w2[i];
    for (std::size_t i = 0; i < m.b2.size(); ++i) m.b2[i] -= lr * g.b2[i];

    Sgd sgd(model.parameters(), {.lr = lr});
    backforward_step(model, batch, sgd);
    CHECK(max_diff(p[0], m.w1) < 1e-14);
    CHECK(max_diff(p[1], m.b1) < 1e-14);
    CHECK(max_diff(p[2], m.w2) < 1e-14);
    CHECK(max_diff(p[3], m.b2) < 1e-14);
    CHECK(max_diff(p[2].grad(), g.w2) < 1e-14);  // the gradient left in fc2 is the one it used

    // And it differs from backprop's update of fc2 (otherwise the test would prove nothing).
    Mlp plain(small_mlp({5}));
    Sgd plain_sgd(plain.parameters(), {.lr = lr});
    backprop_step(plain, batch, plain_sgd);
    CHECK(max_abs_diff(plain.parameters()[2], p[2]) > 1e-6);
}

TEST_CASE("backforward: incremental gives the faithful variant's weights on a 4-layer MLP", "[backforward]") {
    Mlp faithful(small_mlp({7, 6, 5})), incremental(small_mlp({7, 6, 5}));
    Sgd sf(faithful.parameters(), {.lr = 0.2, .momentum = 0.9}), si(incremental.parameters(), {.lr = 0.2, .momentum = 0.9});
    for (int step = 0; step < 5; ++step) {
        const Batch batch = make_batch(8, 6, 4, 10 + static_cast<std::uint64_t>(step));
        const double lf = backforward_step(faithful, batch, sf), li = backforward_incremental_step(incremental, batch, si);
        CHECK(std::abs(lf - li) <= 1e-12);
    }
    for (std::size_t i = 0; i < faithful.parameters().size(); ++i) {
        INFO(faithful.named_parameters()[i].first);
        CHECK(max_abs_diff(faithful.parameters()[i], incremental.parameters()[i]) <= 1e-12);
    }
}

TEST_CASE("backforward: unit forward passes are n² (faithful), n(n+1)/2 + n−1 (incremental), 3 per unit (as released)", "[backforward]") {
    const Batch batch = make_batch(4, 6, 4, 3);
    CountingModel deep(small_mlp({7, 6, 5}));
    Sgd sd(deep.parameters(), {.lr = 0.1});
    backforward_step(deep, batch, sd);
    CHECK(deep.total_calls() == 16);
    CountingModel deep2(small_mlp({7, 6, 5}));
    Sgd sd2(deep2.parameters(), {.lr = 0.1});
    backforward_incremental_step(deep2, batch, sd2);
    CHECK(deep2.total_calls() == 10 + 3);
    CHECK(deep2.calls() == std::vector<std::int64_t>{2, 3, 4, 4});

    CountingModel two(small_mlp({5}));
    RecordingSgd rec(two.parameters(), 0.1);
    backforward_as_released_step(two, batch, rec);
    CHECK(two.calls() == std::vector<std::int64_t>{3, 3});  // 3 full forward passes
    REQUIRE(rec.calls.size() == 3);
    CHECK(rec.calls[0].size() == 2);  // fc1 only
    CHECK(rec.calls[0][0].same(two.unit_parameters(0)[0]));
    CHECK(rec.calls[1][0].same(two.unit_parameters(1)[0]));  // fc2 only
    CHECK(rec.calls[2].size() == 4);  // then everything
}

TEST_CASE("backforward: an optimiser's state is touched only when its unit is updated", "[backforward]") {
    const Batch batch = make_batch(4, 6, 4, 4);
    Mlp model(small_mlp({7, 5}));
    RecordingSgd rec(model.parameters(), 0.1);
    backforward_step(model, batch, rec);
    REQUIRE(rec.calls.size() == 3);
    for (std::int64_t k = 0; k < 3; ++k) {
        const auto unit = model.unit_parameters(k);
        REQUIRE(rec.calls[static_cast<std::size_t>(k)].size() == unit.size());
        for (std::size_t i = 0; i < unit.size(); ++i) CHECK(rec.calls[static_cast<std::size_t>(k)][i].same(unit[i]));
    }
    Sgd momentum(model.parameters(), {.lr = 0.1, .momentum = 0.9});
    backforward_incremental_step(model, batch, momentum);
    for (const Tensor& p : model.parameters()) CHECK(momentum.updates_of(p) == 1);
    backforward_as_released_step(model, batch, momentum);
    for (const Tensor& p : model.parameters()) CHECK(momentum.updates_of(p) == 3);
}
