// tests/test_autograd.cpp — the autograd engine: accumulation, shared subexpressions, no-grad,
// deep chains, retain_graph, and the exact bytes a known graph holds during forward and backward.
#include <catch2/catch.hpp>

#include "core/allocator.h"
#include "core/ops.h"
#include "tests/test_helpers.h"

using namespace bplab;
using bplab::test::max_abs_diff;
using bplab::test::random_tensor;

namespace {
Tensor param(const Shape& shape, std::uint64_t seed, DType dtype = DType::f64) {
    Tensor t = random_tensor(shape, seed, dtype);
    t.set_requires_grad(true);
    return t;
}
}  // namespace

TEST_CASE("autograd: a tensor used twice accumulates both gradients", "[autograd]") {
    Tensor x = param({5}, 1);
    backward(sum(mul(x, x)));  // d/dx Σ x² = 2x
    REQUIRE(max_abs_diff(x.grad(), scale(x, 2.0)) < 1e-15);
}

TEST_CASE("autograd: shared subexpression feeds two branches", "[autograd]") {
    Tensor x = param({4}, 2);
    const Tensor y = mul(x, x);               // y = x²
    backward(sum(add(y, mul(y, x))));         // L = Σ x² + x³ -> dL/dx = 2x + 3x²
    const auto xv = x.to_vector(), g = x.grad().to_vector();
    for (std::size_t i = 0; i < xv.size(); ++i) REQUIRE(g[i] == Approx(2 * xv[i] + 3 * xv[i] * xv[i]).epsilon(1e-14));
}

TEST_CASE("autograd: gradients accumulate across backward calls until zeroed", "[autograd]") {
    Tensor x = param({3}, 3);
    backward(sum(scale(x, 3.0)));
    backward(sum(scale(x, 3.0)));
    for (double g : x.grad().to_vector()) REQUIRE(g == 6.0);
    x.zero_grad();
    backward(sum(scale(x, 3.0)));
    for (double g : x.grad().to_vector()) REQUIRE(g == 3.0);
}

TEST_CASE("autograd: add's two identical gradients do not alias between leaves", "[autograd]") {
    Tensor a = param({3}, 4), b = param({3}, 5);
    backward(sum(add(a, b)));
    backward(sum(scale(a, 2.0)));  // accumulates into a.grad in place; b.grad must not change
    for (double g : a.grad().to_vector()) REQUIRE(g == 3.0);
    for (double g : b.grad().to_vector()) REQUIRE(g == 1.0);
}

TEST_CASE("autograd: NoGradGuard records nothing and restores the mode", "[autograd]") {
    Tensor x = param({3}, 6);
    {
        NoGradGuard no_grad;
        const Tensor y = scale(x, 2.0);
        REQUIRE_FALSE(needs_grad(y));
        REQUIRE(y.grad_fn() == nullptr);
        REQUIRE_FALSE(grad_enabled());
    }
    REQUIRE(grad_enabled());
    REQUIRE(scale(x, 2.0).grad_fn() != nullptr);
}

TEST_CASE("autograd: inputs that need no gradient get none", "[autograd]") {
    Tensor w = param({2, 3}, 7);
    const Tensor x = random_tensor({4, 3}, 8);
    backward(sum(linear(x, w, Tensor())));
    REQUIRE(w.grad().defined());
    REQUIRE_FALSE(x.grad().defined());
}

TEST_CASE("autograd: a 100,000-op chain runs backward and is destroyed without recursion", "[autograd]") {
    Tensor x = param({1}, 9);
    {
        Tensor y = x;
        for (int i = 0; i < 100000; ++i) y = scale(y, 1.0);
        REQUIRE(graph_size(y) == 100001);
        backward(y);
    }
    REQUIRE(x.grad().item() == 1.0);
    Tensor z = x;
    for (int i = 0; i < 100000; ++i) z = add(z, x);  // never run: the graph is only dropped
    z = Tensor();
}

TEST_CASE("autograd: backward twice needs retain_graph", "[autograd]") {
    Tensor x = param({3}, 10);
    const Tensor loss = sum(mul(x, x));
    backward(loss, {}, {.retain_graph = true});
    backward(loss);
    REQUIRE(max_abs_diff(x.grad(), scale(x, 4.0)) < 1e-15);
    REQUIRE_THROWS_WITH(backward(loss), Catch::Contains("retain_graph"));
}

TEST_CASE("autograd: backward of a non-scalar needs an explicit gradient", "[autograd]") {
    Tensor x = param({3}, 11);
    REQUIRE_THROWS_WITH(backward(scale(x, 2.0)), Catch::Contains("not a scalar"));
    backward(scale(x, 2.0), Tensor::full({3}, 0.5, DType::f64));
    for (double g : x.grad().to_vector()) REQUIRE(g == 1.0);
}

TEST_CASE("autograd: saved tensors are freed as soon as their node has run", "[autograd][memory]") {
    // linear (64,32)x(16,32)ᵀ -> relu -> sum, f32. Byte counts follow from what each node saves:
    // linear saves x and w (views, no new bytes), relu saves its output r, sum saves nothing.
    Tensor x = param({64, 32}, 12, DType::f32), w = param({16, 32}, 13, DType::f32);
    const std::int64_t base = memory_stats().current_bytes;
    reset_peak();
    Tensor loss = sum(relu(linear(x, w, Tensor())));
    // y (4096) and r (4096) coexist in forward; y dies with the expression, r is saved; loss is 4.
    CHECK(memory_stats().peak_bytes - base == 4096 + 4096 + 4);
    CHECK(memory_stats().current_bytes - base == 4096 + 4);
    reset_peak();
    backward(loss);
    // Peak: loss 4 + dx 8192 + dw 2048 + relu's dx 4096 while linear's backward runs (r already freed).
    CHECK(memory_stats().peak_bytes - base == 4 + 8192 + 2048 + 4096);
    // After: the saved r is gone; what remains is the loss and the two parameter gradients.
    CHECK(memory_stats().current_bytes - base == 4 + 8192 + 2048);
}

TEST_CASE("autograd: retain_graph keeps the saved tensors alive", "[autograd][memory]") {
    Tensor x = param({64, 32}, 14, DType::f32), w = param({16, 32}, 15, DType::f32);
    const std::int64_t base = memory_stats().current_bytes;
    Tensor loss = sum(relu(linear(x, w, Tensor())));
    backward(loss, {}, {.retain_graph = true});
    CHECK(memory_stats().current_bytes - base == 4 + 8192 + 2048 + 4096);
}

TEST_CASE("autograd: a node with several outputs runs once, with undefined gradients for unused outputs", "[autograd]") {
    Tensor x = param({3, 4}, 7);
    const std::vector<Tensor> rows = unbind(x, 0);  // three (4) slices, one node
    REQUIRE(rows.size() == 3);
    REQUIRE(rows[0].grad_fn() == rows[2].grad_fn());
    REQUIRE(graph_size(rows[1]) == 2);  // unbind and x's accumulator
    backward(sum(mul(rows[2], rows[0])), {}, {.retain_graph = true});
    // Independent side: d/dx of Σ x[2]·x[0] is x[2] in row 0, zeros in row 1, x[0] in row 2.
    const auto xv = x.to_vector(), g = x.grad().to_vector();
    for (std::size_t c = 0; c < 4; ++c) {
        CHECK(g[c] == xv[8 + c]);
        CHECK(g[4 + c] == 0.0);
        CHECK(g[8 + c] == xv[c]);
    }
    backward(sum(mul(rows[2], rows[0])));  // retain_graph kept the node's closure: it runs again and accumulates
    for (std::size_t c = 0; c < 4; ++c) CHECK(x.grad().to_vector()[c] == 2 * xv[8 + c]);
    {
        NoGradGuard no_grad;
        for (const Tensor& r : unbind(x, 0)) CHECK(r.grad_fn() == nullptr);
    }
}
