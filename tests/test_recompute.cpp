// tests/test_recompute.cpp — layer_norm_linear and gelu_linear, which recompute LayerNorm's and GELU's outputs in
// backward, and scaled_linear, which folds a layer scale into its linear: gradients against finite differences and against the unfused ops, the bytes they keep, whole models.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>

#include "core/allocator.h"
#include "core/autograd.h"
#include "core/ops.h"
#include "models/registry.h"
#include "tests/test_helpers.h"

using namespace bplab;
using bplab::test::check_gradients;
using bplab::test::max_abs_diff;
using bplab::test::output_and_grads;
using bplab::test::random_tensor;
using bplab::test::worst_relative;

namespace {

Tensor param(const Shape& shape, std::uint64_t seed, DType dtype = DType::f64, double lo = -1.0, double hi = 1.0) {
    Tensor t = random_tensor(shape, seed, dtype, lo, hi);
    t.set_requires_grad(true);
    return t;
}

/// Bytes an op holds after its forward beyond its output: what it keeps for backward.
std::int64_t kept_bytes(const std::function<Tensor()>& forward) {
    const std::int64_t before = memory_stats().current_bytes;
    const Tensor y = forward();
    return memory_stats().current_bytes - before - static_cast<std::int64_t>(y.nbytes());
}

}  // namespace

TEST_CASE("gradcheck: layer_norm_linear, with and without the norm's affine parameters and the bias", "[gradcheck]") {
    check_gradients([](const auto& in) { return layer_norm_linear(in[0], in[1], in[2], 1e-5, in[3], in[4]); },
                    {param({2, 3, 6}, 1), param({6}, 2), param({6}, 3), param({5, 6}, 4), param({5}, 5)});
    check_gradients([](const auto& in) { return layer_norm_linear(in[0], Tensor(), Tensor(), 1e-5, in[1], Tensor()); },
                    {param({4, 6}, 6), param({3, 6}, 7)});
}

TEST_CASE("gradcheck: gelu_linear, with and without layer scale γ and the bias, and on one 1-D row", "[gradcheck]") {
    check_gradients([](const auto& in) { return gelu_linear(in[0], in[1], in[2], in[3]); },
                    {param({2, 3, 8}, 11, DType::f64, -3, 3), param({5, 8}, 12), param({5}, 13), param({5}, 14)});
    check_gradients([](const auto& in) { return gelu_linear(in[0], in[1], Tensor(), in[2]); },
                    {param({4, 8}, 15, DType::f64, -3, 3), param({5, 8}, 16), param({5}, 17)});
    check_gradients([](const auto& in) { return gelu_linear(in[0], in[1], in[2]); },
                    {param({4, 8}, 18, DType::f64, -3, 3), param({5, 8}, 19), param({5}, 20)});
    check_gradients([](const auto& in) { return gelu_linear(in[0], in[1], in[2], in[3]); },  // one row, 1-D
                    {param({8}, 21, DType::f64, -3, 3), param({5, 8}, 22), param({5}, 23), param({5}, 24)});
}

TEST_CASE("gradcheck: scaled_linear, with and without the bias, and on one 1-D row", "[gradcheck]") {
    check_gradients([](const auto& in) { return scaled_linear(in[0], in[1], in[2], in[3]); },
                    {param({2, 3, 8}, 51), param({5, 8}, 52), param({5}, 53), param({5}, 54)});
    check_gradients([](const auto& in) { return scaled_linear(in[0], in[1], Tensor(), in[2]); },
                    {param({4, 8}, 55), param({5, 8}, 56), param({5}, 57)});
    check_gradients([](const auto& in) { return scaled_linear(in[0], in[1], in[2], in[3]); },  // one row, 1-D
                    {param({8}, 58), param({5, 8}, 59), param({5}, 60), param({5}, 61)});
}

TEST_CASE("recompute: without γ the fused ops give the unfused ops' output and gradients bit for bit (f32)", "[property]") {
    const std::vector<Tensor> ln_in{param({3, 7, 24}, 21, DType::f32), param({24}, 22, DType::f32),
                                    param({24}, 23, DType::f32), param({40, 24}, 24, DType::f32),
                                    param({40}, 25, DType::f32)};
    const auto fused_ln = output_and_grads([](const auto& in) { return layer_norm_linear(in[0], in[1], in[2], 1e-6, in[3], in[4]); }, ln_in);
    const auto plain_ln = output_and_grads([](const auto& in) { return linear(layer_norm(in[0], in[1], in[2], 1e-6), in[3], in[4]); }, ln_in);
    for (std::size_t i = 0; i < fused_ln.size(); ++i) CHECK(max_abs_diff(fused_ln[i], plain_ln[i]) == 0.0);

    const std::vector<Tensor> gelu_in{param({3, 7, 40}, 26, DType::f32, -3, 3), param({24, 40}, 27, DType::f32),
                                      param({24}, 28, DType::f32)};
    const auto fused = output_and_grads([](const auto& in) { return gelu_linear(in[0], in[1], in[2]); }, gelu_in);
    const auto plain = output_and_grads([](const auto& in) { return linear(gelu(in[0]), in[1], in[2]); }, gelu_in);
    for (std::size_t i = 0; i < fused.size(); ++i) CHECK(max_abs_diff(fused[i], plain[i]) == 0.0);
}

TEST_CASE("recompute: with γ folded into the weights, gelu_linear and scaled_linear match mul(linear(.), γ) to rounding", "[property]") {
    for (const DType dtype : {DType::f64, DType::f32}) {
        INFO(dtype_name(dtype));
        const std::vector<Tensor> in{param({3, 7, 40}, 31, dtype, -3, 3), param({24, 40}, 32, dtype),
                                     param({24}, 33, dtype), param({24}, 34, dtype)};
        const double tol = dtype == DType::f64 ? 1e-13 : 1e-5;
        const auto fused = output_and_grads([](const auto& t) { return gelu_linear(t[0], t[1], t[2], t[3]); }, in);
        const auto plain = output_and_grads([](const auto& t) { return mul(linear(gelu(t[0]), t[1], t[2]), t[3]); }, in);
        CHECK(worst_relative(plain, fused) <= tol);
        const auto folded = output_and_grads([](const auto& t) { return scaled_linear(t[0], t[1], t[2], t[3]); }, in);
        const auto unfolded = output_and_grads([](const auto& t) { return mul(linear(t[0], t[1], t[2]), t[3]); }, in);
        CHECK(worst_relative(unfolded, folded) <= tol);
    }
}

TEST_CASE("recompute: inputs that need no gradient get none, and the others are those of the unfused ops", "[property]") {
    // Every subset of the inputs requires grad in turn (f64): each backward branch that skips work runs once.
    using Fn = std::function<Tensor(const std::vector<Tensor>&)>;
    const auto grads_with = [](const Fn& fn, const std::vector<Tensor>& values, unsigned mask) {
        std::vector<Tensor> in;
        for (std::size_t i = 0; i < values.size(); ++i) {
            in.push_back(values[i].clone());
            if (mask >> i & 1u) in.back().set_requires_grad(true);
        }
        const Tensor y = fn(in);
        backward(sum(mul(y, random_tensor(y.shape(), 98, y.dtype()))));
        std::vector<Tensor> grads;
        for (const Tensor& t : in) grads.push_back(t.grad());
        return grads;
    };
    const auto compare = [&](const Fn& fused, const Fn& plain, const std::vector<Tensor>& values) {
        for (unsigned mask = 1; mask < (1u << values.size()); ++mask) {
            const auto f = grads_with(fused, values, mask), p = grads_with(plain, values, mask);
            for (std::size_t i = 0; i < values.size(); ++i) {
                INFO("inputs needing grad (bits) " << mask << ", input " << i);
                REQUIRE(f[i].defined() == bool(mask >> i & 1u));
                if (f[i].defined()) CHECK(max_abs_diff(f[i], p[i]) <= 1e-13);
            }
        }
    };
    compare([](const auto& in) { return layer_norm_linear(in[0], in[1], in[2], 1e-6, in[3], in[4]); },
            [](const auto& in) { return linear(layer_norm(in[0], in[1], in[2], 1e-6), in[3], in[4]); },
            {random_tensor({2, 5, 6}, 61), random_tensor({6}, 62), random_tensor({6}, 63), random_tensor({4, 6}, 64),
             random_tensor({4}, 65)});
    compare([](const auto& in) { return gelu_linear(in[0], in[1], in[2], in[3]); },
            [](const auto& in) { return mul(linear(gelu(in[0]), in[1], in[2]), in[3]); },
            {random_tensor({2, 5, 8}, 66, DType::f64, -3, 3), random_tensor({4, 8}, 67), random_tensor({4}, 68),
             random_tensor({4}, 69)});
    compare([](const auto& in) { return gelu_linear(in[0], in[1], in[2]); },
            [](const auto& in) { return linear(gelu(in[0]), in[1], in[2]); },
            {random_tensor({2, 5, 8}, 70, DType::f64, -3, 3), random_tensor({4, 8}, 71), random_tensor({4}, 72)});
    compare([](const auto& in) { return scaled_linear(in[0], in[1], in[2], in[3]); },
            [](const auto& in) { return mul(linear(in[0], in[1], in[2]), in[3]); },
            {random_tensor({2, 5, 8}, 91), random_tensor({4, 8}, 92), random_tensor({4}, 93), random_tensor({4}, 94)});
}

TEST_CASE("recompute: with no rows (an SBP part that keeps none) the fused ops give zero weight gradients", "[property]") {
    const Tensor x = param({2, 0, 6}, 81), nw = param({6}, 82), nb = param({6}, 83), w1 = param({4, 6}, 84),
                 b1 = param({4}, 85), w2 = param({6, 4}, 86), b2 = param({6}, 87), gamma = param({6}, 88);
    const Tensor y = gelu_linear(layer_norm_linear(x, nw, nb, 1e-6, w1, b1), w2, b2, gamma);
    CHECK(y.shape() == Shape{2, 0, 6});
    backward(add(sum(y), sum(scaled_linear(gelu(linear(x, w1, b1)), w2, b2, gamma))));
    for (const Tensor* t : {&nw, &nb, &w1, &b1, &w2, &b2, &gamma}) {
        REQUIRE(t->grad().defined());
        for (double v : t->grad().to_vector()) CHECK(v == 0.0);
    }
    CHECK(x.grad().numel() == 0);
}

TEST_CASE("recompute: gelu_linear and scaled_linear refuse a layer scale that is not one value per output", "[property]") {
    const Tensor a = random_tensor({3, 8}, 73), w = random_tensor({4, 8}, 74), b = random_tensor({4}, 75);
    CHECK_THROWS_WITH(gelu_linear(a, w, b, random_tensor({1}, 76)), Catch::Contains("gelu_linear") && Catch::Contains("(1,)"));
    CHECK_THROWS_WITH(gelu_linear(a, w, b, random_tensor({3, 4}, 77)), Catch::Contains("expected (out,)"));
    CHECK_THROWS_WITH(scaled_linear(a, w, b, random_tensor({5}, 78)), Catch::Contains("scaled_linear") && Catch::Contains("(5,)"));
}

TEST_CASE("recompute: the fused ops keep nothing but their inputs, the unfused ones the normalised rows and GELU's output", "[property][memory]") {
    const Tensor x = param({4, 16, 32}, 41, DType::f32), nw = param({32}, 42, DType::f32),
                 nb = param({32}, 43, DType::f32), w1 = param({128, 32}, 44, DType::f32),
                 b1 = param({128}, 45, DType::f32), w2 = param({32, 128}, 46, DType::f32),
                 b2 = param({32}, 47, DType::f32), gamma = param({32}, 48, DType::f32);
    const std::int64_t rows = 4 * 16, f32 = 4;
    CHECK(kept_bytes([&] { return layer_norm_linear(x, nw, nb, 1e-6, w1, b1); }) == 0);
    CHECK(kept_bytes([&] { return linear(layer_norm(x, nw, nb, 1e-6), w1, b1); }) == rows * (32 + 2) * f32);
    const Tensor a = param({4, 16, 128}, 49, DType::f32);
    CHECK(kept_bytes([&] { return gelu_linear(a, w2, b2, gamma); }) == 0);
    CHECK(kept_bytes([&] { return mul(linear(gelu(a), w2, b2), gamma); }) == rows * (128 + 32) * f32);
    CHECK(kept_bytes([&] { return scaled_linear(a, w2, b2, gamma); }) == 0);
    CHECK(kept_bytes([&] { return mul(linear(a, w2, b2), gamma); }) == rows * 32 * f32);
}

TEST_CASE("recompute: ViT and ConvNeXt steps, exact and SBP, give the same loss and gradients and keep fewer bytes", "[property][memory]") {
    for (const std::string name : {"vit-mini", "convnext-mini"}) {
        for (const double keep : {1.0, 0.5}) {
            INFO(name << ", SBP keep " << keep);
            const auto step = [&](bool recompute, std::int64_t& saved) {
                auto model = make_model(name, {.classes = 10, .in_channels = 1, .recompute = recompute, .seed = 5,
                                               .dtype = DType::f64});
                model->set_sbp(sbp::make_config(keep, "grid", "", "uniform", false, "qkv", false));
                model->begin_step();
                const std::int64_t size = model_image_size(name);
                const Tensor x = random_tensor({2, size, size, 1}, 6);
                const std::int64_t before = memory_stats().current_bytes;
                const Tensor loss = cross_entropy(model->forward(x), Tensor::from_indices({3, 7}, {2}));
                saved = memory_stats().current_bytes - before;
                backward(loss);
                std::vector<Tensor> out{loss.detach()};
                for (const auto& [n, p] : model->named_parameters()) out.push_back(p.grad().clone());
                return out;
            };
            std::int64_t saved_plain = 0, saved_recompute = 0;
            const auto plain = step(false, saved_plain), recomputed = step(true, saved_recompute);
            REQUIRE(plain.size() == recomputed.size());
            if (name == "vit-mini") {  // no layer scale: the same kernels on the same numbers
                for (std::size_t i = 0; i < plain.size(); ++i) CHECK(max_abs_diff(plain[i], recomputed[i]) == 0.0);
            } else {  // γ's gradients re-associated
                CHECK(worst_relative(plain, recomputed) <= 1e-12);
            }
            CHECK(saved_recompute < saved_plain * 3 / 4);
        }
    }
}
