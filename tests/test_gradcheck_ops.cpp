// tests/test_gradcheck_ops.cpp — every differentiable op against f64 central differences.
// Inputs are small and random; each case names the op and the shapes it covers.
#include <catch2/catch.hpp>

#include "core/ops.h"
#include "tests/test_helpers.h"

using namespace bplab;
using bplab::test::check_gradients;
using bplab::test::random_tensor;

namespace {
Tensor param(const Shape& shape, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
    Tensor t = random_tensor(shape, seed, DType::f64, lo, hi);
    t.set_requires_grad(true);
    return t;
}
}  // namespace

TEST_CASE("gradcheck: matmul, every transpose combination, batched and shared b", "[gradcheck]") {
    for (bool ta : {false, true})
        for (bool tb : {false, true}) {
            INFO("trans_a " << ta << " trans_b " << tb);
            const Shape a2 = ta ? Shape{4, 3} : Shape{3, 4}, b2 = tb ? Shape{5, 4} : Shape{4, 5};
            check_gradients([&](const auto& in) { return matmul(in[0], in[1], ta, tb); }, {param(a2, 1), param(b2, 2)});
            Shape ab = a2, bb = b2;
            ab.insert(ab.begin(), {2, 2});
            bb.insert(bb.begin(), {2, 2});
            check_gradients([&](const auto& in) { return matmul(in[0], in[1], ta, tb); }, {param(ab, 3), param(bb, 4)});
            check_gradients([&](const auto& in) { return matmul(in[0], in[1], ta, tb); }, {param(ab, 5), param(b2, 6)});
        }
}

TEST_CASE("gradcheck: linear with and without bias", "[gradcheck]") {
    check_gradients([](const auto& in) { return linear(in[0], in[1], in[2]); },
                    {param({2, 3, 4}, 1), param({5, 4}, 2), param({5}, 3)});
    check_gradients([](const auto& in) { return linear(in[0], in[1], Tensor()); }, {param({3, 4}, 4), param({2, 4}, 5)});
}

TEST_CASE("gradcheck: linear with no outputs (dx is zero) and with no inputs (y is the bias)", "[gradcheck]") {
    const auto fn = [](const auto& in) { return linear(in[0], in[1], in[2]); };
    check_gradients(fn, {param({3, 4}, 6), param({0, 4}, 7), param({0}, 8)});
    check_gradients(fn, {param({3, 0}, 9), param({5, 0}, 10), param({5}, 11)});
}

TEST_CASE("gradcheck: add, sub, mul, div with full, trailing and scalar broadcast", "[gradcheck]") {
    using Fn = Tensor (*)(const Tensor&, const Tensor&);
    const std::pair<const char*, Fn> ops[] = {{"add", add}, {"sub", sub}, {"mul", mul}, {"div", div}};
    for (const auto& [name, op] : ops) {
        INFO(name);
        const Fn f = op;
        check_gradients([f](const auto& in) { return f(in[0], in[1]); }, {param({3, 4}, 1), param({3, 4}, 2, 0.5, 1.5)});
        check_gradients([f](const auto& in) { return f(in[0], in[1]); }, {param({2, 3, 4}, 3), param({4}, 4, 0.5, 1.5)});
        check_gradients([f](const auto& in) { return f(in[0], in[1]); }, {param({2, 3}, 5), param({1}, 6, 0.5, 1.5)});
    }
    check_gradients([](const auto& in) { return add(in[0], in[1]); }, {param({4}, 7), param({3, 4}, 8)});
    check_gradients([](const auto& in) { return mul(in[0], in[1]); }, {param({4}, 9), param({3, 4}, 10)});
    check_gradients([](const auto& in) { return scale(in[0], -2.5); }, {param({3, 4}, 11)});
}

TEST_CASE("binary ops with an empty trailing operand give it an empty gradient", "[gradcheck]") {
    const Tensor a = param({2, 0, 3}, 14), b = param({0, 3}, 15);
    backward(sum(add(a, b)));
    CHECK(b.grad().shape() == Shape{0, 3});
}

TEST_CASE("binary ops broadcast a per-channel tensor over an empty one, in either order", "[gradcheck]") {
    // An SBP part that keeps no rows is (B, 0, C): fewer elements than a (C) scale, and still the big operand.
    const Tensor empty = param({2, 0, 3}, 12), channel = param({3}, 13);
    for (const Tensor& y : {mul(empty, channel), mul(channel, empty), add(channel, empty), sub(empty, channel)}) {
        CHECK(y.shape() == Shape{2, 0, 3});
        backward(sum(y));
        REQUIRE(channel.grad().defined());
        for (double v : channel.grad().to_vector()) CHECK(v == 0.0);
        Tensor(channel).zero_grad();
    }
}

TEST_CASE("gradcheck: relu and gelu", "[gradcheck]") {
    // Keep relu inputs away from the kink at 0, where finite differences are undefined.
    Tensor x = random_tensor({4, 5}, 1, DType::f64, 0.1, 1.0);
    const auto v = x.to_vector();
    std::vector<double> signed_v(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) signed_v[i] = (i % 3 == 0 ? -1 : 1) * v[i];
    Tensor xr = Tensor::from_vector(signed_v, {4, 5}, DType::f64);
    xr.set_requires_grad(true);
    check_gradients([](const auto& in) { return relu(in[0]); }, {xr});
    check_gradients([](const auto& in) { return gelu(in[0]); }, {param({4, 5}, 2, -3.0, 3.0)});
}

TEST_CASE("gradcheck: softmax, log_softmax, cross_entropy with and without label smoothing", "[gradcheck]") {
    check_gradients([](const auto& in) { return softmax(in[0]); }, {param({2, 3, 5}, 1, -2, 2)});
    check_gradients([](const auto& in) { return log_softmax(in[0]); }, {param({3, 5}, 2, -2, 2)});
    const Tensor labels = Tensor::from_indices({0, 4, 2}, {3});
    for (double eps : {0.0, 0.1}) {
        INFO("label smoothing " << eps);
        check_gradients([&](const auto& in) { return cross_entropy(in[0], labels, eps); }, {param({3, 5}, 3, -2, 2)});
    }
}

TEST_CASE("gradcheck: sum and mean over each axis and over all", "[gradcheck]") {
    for (std::int64_t axis : {0, 1, 2, -1}) {
        INFO("axis " << axis);
        check_gradients([axis](const auto& in) { return sum(in[0], axis); }, {param({2, 3, 4}, 1)});
        check_gradients([axis](const auto& in) { return mean(in[0], axis, true); }, {param({2, 3, 4}, 2)});
    }
    check_gradients([](const auto& in) { return sum(in[0]); }, {param({2, 3}, 3)});
    check_gradients([](const auto& in) { return mean(in[0]); }, {param({2, 3}, 4)});
}

TEST_CASE("gradcheck: reshape and transpose", "[gradcheck]") {
    check_gradients([](const auto& in) { return mul(in[0].reshape({3, -1}), in[0].reshape({3, 4})); }, {param({2, 6}, 1)});
    check_gradients([](const auto& in) { return transpose(in[0]); }, {param({2, 3, 4}, 2)});
}

TEST_CASE("gradcheck: gather_rows and scatter_rows along the token axis", "[gradcheck]") {
    const Tensor idx = Tensor::from_indices({3, 0, 2}, {3});
    check_gradients([&](const auto& in) { return gather_rows(in[0], idx, 1); }, {param({2, 5, 3}, 1)});
    check_gradients([&](const auto& in) { return scatter_rows(in[0], in[1], idx, 1); },
                    {param({2, 5, 3}, 2), param({2, 3, 3}, 3)});
    check_gradients([&](const auto& in) { return gather_rows(in[0], idx, -1); }, {param({2, 4}, 4)});
}

TEST_CASE("gradcheck: interleave_rows puts each part at its rows (SBP's merge of kept and dropped rows)", "[gradcheck]") {
    const Tensor kept = Tensor::from_indices({4, 0, 2}, {3}), dropped = Tensor::from_indices({1, 3}, {2});
    check_gradients([&](const auto& in) { return interleave_rows({in[0], in[1]}, {kept, dropped}, 1); },
                    {param({2, 3, 3}, 5), param({2, 2, 3}, 6)});
    // Independent side: row kept[i] of the result is row i of the first part, dropped[i] of the second.
    const Tensor a = random_tensor({2, 3, 3}, 7, DType::f64), b = random_tensor({2, 2, 3}, 8, DType::f64);
    const std::vector<double> out = interleave_rows({a, b}, {kept, dropped}, 1).to_vector(), av = a.to_vector(),
                              bv = b.to_vector();
    const std::vector<std::size_t> from_a = {4, 0, 2}, from_b = {1, 3};
    for (std::size_t o = 0; o < 2; ++o)
        for (std::size_t c = 0; c < 3; ++c) {
            for (std::size_t i = 0; i < 3; ++i) CHECK(out[(o * 5 + from_a[i]) * 3 + c] == av[(o * 3 + i) * 3 + c]);
            for (std::size_t i = 0; i < 2; ++i) CHECK(out[(o * 5 + from_b[i]) * 3 + c] == bv[(o * 2 + i) * 3 + c]);
        }
}

TEST_CASE("gradcheck: unbind (q, k, v out of one tensor), every slice used differently or not at all", "[gradcheck]") {
    // Along axis 0, as attention's qkv; slice 2 is used twice (its gradients add up in one output slot).
    check_gradients([](const auto& in) {
        const std::vector<Tensor> s = unbind(in[0], 0);
        return add(mul(s[0], s[1]), mul(s[2], s[2]));
    }, {param({3, 2, 4}, 9)});
    // Along a middle axis; the middle slice is unused, so its rows of dx must be zeros.
    check_gradients([](const auto& in) {
        const std::vector<Tensor> s = unbind(in[0], 1);
        return mul(s[0], s[2]);
    }, {param({2, 3, 5}, 10)});
}

TEST_CASE("gradcheck: broadcast of a (1, N, C) operand, as a position embedding", "[gradcheck]") {
    check_gradients([](const auto& in) { return add(in[0], in[1]); }, {param({2, 3, 4}, 1), param({1, 3, 4}, 2)});
}

TEST_CASE("gradcheck: layer_norm with and without affine parameters", "[gradcheck]") {
    check_gradients([](const auto& in) { return layer_norm(in[0], in[1], in[2], 1e-5); },
                    {param({2, 3, 6}, 1, -2, 2), param({6}, 2, 0.5, 1.5), param({6}, 3)});
    check_gradients([](const auto& in) { return layer_norm(in[0], Tensor(), Tensor(), 1e-6); }, {param({4, 5}, 4, -2, 2)});
}

TEST_CASE("gradcheck: attention, self and cross (Nq != Nk), several groups", "[gradcheck]") {
    check_gradients([](const auto& in) { return attention(in[0], in[1], in[2], 0.5); },
                    {param({2, 2, 5, 3}, 1, -2, 2), param({2, 2, 5, 3}, 2, -2, 2), param({2, 2, 5, 3}, 3)});
    check_gradients([](const auto& in) { return attention(in[0], in[1], in[2], 1.0); },
                    {param({1, 3, 4}, 4, -2, 2), param({1, 6, 4}, 5, -2, 2), param({1, 6, 4}, 6)});
}

TEST_CASE("attention with no keys gives zeros (an empty sum of values) and zero gradients", "[gradcheck]") {
    const auto fn = [](const auto& in) { return attention(in[0], in[1], in[2], 0.5); };
    const std::vector<Tensor> in{param({2, 3, 4}, 7), param({2, 0, 4}, 8), param({2, 0, 4}, 9)};
    for (double v : fn(in).to_vector()) CHECK(v == 0.0);
    check_gradients(fn, in);
}

TEST_CASE("gradcheck: permute, permute_unbind, concat and scale_rows", "[gradcheck]") {
    check_gradients([](const auto& in) { return permute(in[0], {2, 0, 3, 1}); }, {param({2, 3, 4, 2}, 1)});
    check_gradients([](const auto& in) {
        const std::vector<Tensor> s = permute_unbind(in[0], {2, 0, 3, 1});  // 4 slices of (2, 3, 2)
        return add(add(s[0], scale(s[1], 2.0)), sub(scale(s[2], 3.0), s[3]));
    }, {param({2, 3, 4, 2}, 7)});
    check_gradients([](const auto& in) { return concat({in[0], in[1], in[2]}, 1); },
                    {param({2, 1, 3}, 2), param({2, 4, 3}, 3), param({2, 2, 3}, 4)});
    const Tensor s = random_tensor({3}, 5, DType::f64);
    check_gradients([&](const auto& in) { return scale_rows(in[0], s); }, {param({3, 2, 2}, 6)});
}
