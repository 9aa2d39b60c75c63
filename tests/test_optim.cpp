// tests/test_optim.cpp — optimisers against their update rules written out independently, state round
// trips for resumes, the schedule's shape, clipping and EMA.
#include <catch2/catch.hpp>
#include <cmath>

#include "core/io/safetensors.h"
#include "core/optim/adamw.h"
#include "core/optim/schedule.h"
#include "core/optim/sgd.h"
#include "tests/test_helpers.h"

using namespace bplab;
using bplab::test::max_abs_diff;
using bplab::test::random_tensor;

namespace {
Tensor param(const Shape& shape, std::uint64_t seed) {
    Tensor t = random_tensor(shape, seed, DType::f64);
    t.set_requires_grad(true);
    return t;
}
}  // namespace

TEST_CASE("adamw: three steps equal the written-out rule, decay only where asked", "[optim]") {
    Tensor w = param({3, 2}, 1), b = param({2}, 2);
    const double lr = 0.1, b1 = 0.9, b2 = 0.99, eps = 1e-8, wd = 0.5;
    AdamW opt({w, b}, {true, false}, {.lr = lr, .beta1 = b1, .beta2 = b2, .eps = eps, .weight_decay = wd});
    std::vector<double> pw = w.to_vector(), pb = b.to_vector(), mw(6, 0), vw(6, 0), mb(2, 0), vb(2, 0);
    for (int t = 1; t <= 3; ++t) {
        const Tensor gw = random_tensor({3, 2}, 10 + static_cast<std::uint64_t>(t), DType::f64);
        const Tensor gb = random_tensor({2}, 20 + static_cast<std::uint64_t>(t), DType::f64);
        w.set_grad(gw.clone());
        b.set_grad(gb.clone());
        opt.step();
        auto rule = [&](std::vector<double>& p, std::vector<double>& m, std::vector<double>& v, const Tensor& g, double decay) {
            const auto gv = g.to_vector();
            for (std::size_t i = 0; i < p.size(); ++i) {
                p[i] *= 1 - lr * decay;
                m[i] = b1 * m[i] + (1 - b1) * gv[i];
                v[i] = b2 * v[i] + (1 - b2) * gv[i] * gv[i];
                const double mh = m[i] / (1 - std::pow(b1, t)), vh = v[i] / (1 - std::pow(b2, t));
                p[i] -= lr * mh / (std::sqrt(vh) + eps);
            }
        };
        rule(pw, mw, vw, gw, wd);
        rule(pb, mb, vb, gb, 0.0);
    }
    const auto aw = w.to_vector(), ab = b.to_vector();
    for (std::size_t i = 0; i < 6; ++i) CHECK(aw[i] == Approx(pw[i]).margin(1e-14).epsilon(0));
    for (std::size_t i = 0; i < 2; ++i) CHECK(ab[i] == Approx(pb[i]).margin(1e-14).epsilon(0));
}

TEST_CASE("adamw: weight decay mask follows timm (no decay for 1-D, cls_token, pos_embed)", "[optim]") {
    const auto mask = weight_decay_mask({{"blocks.0.attn.qkv.weight", Tensor::zeros({6, 2})},
                                         {"blocks.0.attn.qkv.bias", Tensor::zeros({6})},
                                         {"cls_token", Tensor::zeros({1, 1, 2})},
                                         {"pos_embed", Tensor::zeros({1, 5, 2})},
                                         {"stem.0.weight", Tensor::zeros({2, 3, 4, 4})}});
    CHECK(mask == std::vector<bool>{true, false, false, false, true});
}

TEST_CASE("sgd: Nesterov momentum with weight decay equals the written-out rule", "[optim]") {
    Tensor w = param({4}, 3);
    Sgd opt({w}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true});
    std::vector<double> p = w.to_vector(), buf(4, 0.0);
    for (int t = 0; t < 3; ++t) {
        const Tensor g = random_tensor({4}, 30 + static_cast<std::uint64_t>(t), DType::f64);
        w.set_grad(g.clone());
        opt.step();
        const auto gv = g.to_vector();
        for (std::size_t i = 0; i < 4; ++i) {
            const double d = gv[i] + 0.01 * p[i];
            buf[i] = 0.9 * buf[i] + d;
            p[i] -= 0.1 * (d + 0.9 * buf[i]);
        }
    }
    const auto a = w.to_vector();
    for (std::size_t i = 0; i < 4; ++i) CHECK(a[i] == Approx(p[i]).margin(1e-15).epsilon(0));
}

TEST_CASE("optimizer: state saved to safetensors and loaded gives bit-identical next updates", "[optim]") {
    bplab::test::TempDir dir;
    Tensor a = param({3}, 4), b = param({3}, 4);
    AdamW first({a}, {true}, {.lr = 0.05}), second({b}, {true}, {.lr = 0.05});
    for (int t = 0; t < 2; ++t) {
        a.set_grad(random_tensor({3}, 40 + static_cast<std::uint64_t>(t), DType::f64));
        first.step();
    }
    save_safetensors(dir.path("opt.safetensors"), first.state());
    second.load_state(load_safetensors(dir.path("opt.safetensors")).tensors, "opt.safetensors");
    b = Tensor::from_vector(a.to_vector(), {3}, DType::f64);
    b.set_requires_grad(true);
    AdamW resumed({b}, {true}, {.lr = 0.05});
    resumed.load_state(load_safetensors(dir.path("opt.safetensors")).tensors, "opt.safetensors");
    a.set_grad(random_tensor({3}, 50, DType::f64));
    b.set_grad(random_tensor({3}, 50, DType::f64));
    first.step();
    resumed.step();
    CHECK(max_abs_diff(a, b) == 0.0);
    CHECK(resumed.updates_of(b) == 3);
    CHECK_THROWS_WITH(second.load_state({}, "x.safetensors"), Catch::Contains("x.safetensors") && Catch::Contains("updates"));
    // Another optimiser's state (SGD's momentum) is refused, not taken as an AdamW without moments.
    Tensor c = param({3}, 4);
    Sgd sgd({c}, {.lr = 0.1, .momentum = 0.9});
    c.set_grad(random_tensor({3}, 60, DType::f64));
    sgd.step();
    CHECK_THROWS_WITH(second.load_state(sgd.state(), "sgd.safetensors"),
                      Catch::Contains("sgd.safetensors") && Catch::Contains("'momentum.0'") &&
                          Catch::Contains("another optimiser"));
    Tensor d = param({3}, 4);  // plain SGD keeps no buffer: its state lacks the moments AdamW needs
    Sgd plain({d}, {.lr = 0.1});
    d.set_grad(random_tensor({3}, 62, DType::f64));
    plain.step();
    CHECK_THROWS_WITH(second.load_state(plain.state(), "plain.safetensors"),
                      Catch::Contains("no 'exp_avg.0' for a parameter updated 1 times"));
    auto padded = first.state();  // "exp_avg.0" written "exp_avg.00"
    for (auto& [name, t] : padded)
        if (name == "exp_avg.0") name = "exp_avg.00";
    CHECK_THROWS_WITH(second.load_state(padded, "z"), Catch::Contains("'exp_avg.00'"));
    auto past_end = first.state();  // a buffer index past the parameters
    past_end.emplace_back("exp_avg.1", random_tensor({3}, 61, DType::f64));
    CHECK_THROWS_WITH(second.load_state(past_end, "y"), Catch::Contains("'exp_avg.1'"));
}

TEST_CASE("l2_norm and clip_grad_norm of f32 values near 1e20 do not overflow (the squares are summed in f64)",
          "[optim]") {
    Tensor w = Tensor::from_vector(std::vector<double>(1000, 1e20), {1000}, DType::f32);
    CHECK(l2_norm(w) == Approx(std::sqrt(1000.0) * 1e20).epsilon(1e-6));
    w.set_requires_grad(true);
    w.set_grad(Tensor::from_vector(std::vector<double>(1000, 1e20), {1000}, DType::f32));
    CHECK(clip_grad_norm({w}, 1.0) == Approx(std::sqrt(1000.0) * 1e20).epsilon(1e-6));
    CHECK(l2_norm(w.grad()) == Approx(1.0).epsilon(1e-5));
}

TEST_CASE("schedule: warm-up is linear, the cosine ends at min_lr, clipping and EMA do what they say", "[optim]") {
    CHECK(cosine_lr(0, 100, 10, 1.0, 0.0) == Approx(0.1));
    CHECK(cosine_lr(9, 100, 10, 1.0, 0.0) == Approx(1.0));
    CHECK(cosine_lr(55, 100, 10, 1.0, 0.0) == Approx(0.5));
    CHECK(cosine_lr(100, 100, 10, 1.0, 1e-6) == Approx(1e-6));

    Tensor w = param({2}, 5);
    w.set_grad(Tensor::from_vector({3.0, 4.0}, {2}, DType::f64));
    CHECK(clip_grad_norm({w}, 1.0) == Approx(5.0));
    CHECK(w.grad().to_vector()[0] == Approx(0.6).epsilon(1e-5));
    CHECK(clip_grad_norm({w}, 10.0) == Approx(1.0).epsilon(1e-5));
    // The global norm spans tensors of both dtypes and skips a tensor without a gradient:
    // √(3² + 4² + 12² + 84²) = 85, so clipping to 8.5 scales every gradient by 0.1.
    Tensor a = param({2}, 6), c = param({1}, 7), none = param({3}, 8);
    Tensor b = Tensor::zeros({1}, DType::f32).set_requires_grad(true);
    a.set_grad(Tensor::from_vector({3.0, 4.0}, {2}, DType::f64));
    c.set_grad(Tensor::from_vector({12.0}, {1}, DType::f64));
    b.set_grad(Tensor::from_vector({84.0}, {1}, DType::f32));
    CHECK(clip_grad_norm({a, none, b, c}, 8.5) == Approx(85.0));
    CHECK(a.grad().to_vector()[1] == Approx(0.4).epsilon(1e-5));
    CHECK(c.grad().to_vector()[0] == Approx(1.2).epsilon(1e-5));
    CHECK(b.grad().to_vector()[0] == Approx(8.4).epsilon(1e-5));

    Tensor p = Tensor::from_vector({1.0, 2.0}, {2}, DType::f64);
    Ema ema({{"p", p}}, 0.9);
    Tensor q = Tensor::from_vector({2.0, 4.0}, {2}, DType::f64);
    ema.update({{"p", q}});
    CHECK(ema.averages()[0].second.to_vector() == std::vector<double>{1.1, 2.2});
}
