// tests/test_gradcheck_conv.cpp — conv2d, depthwise_conv2d and space_to_depth: f64 gradient checks, forwards and
// backwards against the direct definition of convolution (no im2col), and the error messages for bad shapes.
#include <array>
#include <catch2/catch.hpp>
#include <vector>

#include "core/allocator.h"
#include "core/autograd.h"
#include "core/ops.h"
#include "tests/test_helpers.h"

using namespace bplab;
using bplab::test::check_gradients;
using bplab::test::max_abs_diff;
using bplab::test::random_tensor;

namespace {

using Pair = std::array<std::int64_t, 2>;

Tensor param(const Shape& shape, std::uint64_t seed) {
    Tensor t = random_tensor(shape, seed);
    t.set_requires_grad(true);
    return t;
}

// Calls f(b, oy, ox, o, i, ky, kx, iy, ix) for every tap of every output that lands inside x (B, H, W, I):
// y[b, oy, ox, o] += x[b, iy, ix, i] · w[o, i, ky, kx] with iy = oy·sh − ph + ky, ix = ox·sw − pw + kx.
// Depthwise: i runs over {o} only and the weight is w[o, 0, ky, kx].
template <class F>
void for_each_tap(const Shape& xs, const Shape& ws, std::int64_t ho, std::int64_t wo, Pair stride, Pair padding,
                  bool depthwise, F f) {
    for (std::int64_t b = 0; b < xs[0]; ++b)
        for (std::int64_t oy = 0; oy < ho; ++oy)
            for (std::int64_t ox = 0; ox < wo; ++ox)
                for (std::int64_t o = 0; o < ws[0]; ++o)
                    for (std::int64_t i = depthwise ? o : 0; i < (depthwise ? o + 1 : xs[3]); ++i)
                        for (std::int64_t ky = 0; ky < ws[2]; ++ky)
                            for (std::int64_t kx = 0; kx < ws[3]; ++kx) {
                                const std::int64_t iy = oy * stride[0] - padding[0] + ky;
                                const std::int64_t ix = ox * stride[1] - padding[1] + kx;
                                if (iy >= 0 && iy < xs[1] && ix >= 0 && ix < xs[2]) f(b, oy, ox, o, i, ky, kx, iy, ix);
                            }
}

struct Naive {
    Shape xs, ws;
    std::int64_t ho, wo;
    bool depthwise;
    std::int64_t xi(std::int64_t b, std::int64_t y, std::int64_t x, std::int64_t c) const {
        return ((b * xs[1] + y) * xs[2] + x) * xs[3] + c;
    }
    std::int64_t yi(std::int64_t b, std::int64_t y, std::int64_t x, std::int64_t o) const {
        return ((b * ho + y) * wo + x) * ws[0] + o;
    }
    std::int64_t wi(std::int64_t o, std::int64_t i, std::int64_t ky, std::int64_t kx) const {
        return ((o * ws[1] + (depthwise ? 0 : i)) * ws[2] + ky) * ws[3] + kx;
    }
};

Naive naive_for(const Tensor& x, const Tensor& w, Pair stride, Pair padding, bool depthwise) {
    return {x.shape(), w.shape(), (x.size(1) + 2 * padding[0] - w.size(2)) / stride[0] + 1,
            (x.size(2) + 2 * padding[1] - w.size(3)) / stride[1] + 1, depthwise};
}

// The direct definition of (depthwise) convolution, in double.
Tensor naive_conv(const Tensor& x, const Tensor& w, const Tensor& bias, Pair stride, Pair padding, bool depthwise) {
    const Naive n = naive_for(x, w, stride, padding, depthwise);
    const auto xv = x.to_vector(), wv = w.to_vector();
    std::vector<double> y(static_cast<std::size_t>(x.size(0) * n.ho * n.wo * w.size(0)), 0.0);
    if (bias.defined()) {
        const auto bv = bias.to_vector();
        for (std::size_t k = 0; k < y.size(); ++k) y[k] = bv[k % bv.size()];
    }
    for_each_tap(x.shape(), w.shape(), n.ho, n.wo, stride, padding, depthwise,
                 [&](auto b, auto oy, auto ox, auto o, auto i, auto ky, auto kx, auto iy, auto ix) {
                     y[static_cast<std::size_t>(n.yi(b, oy, ox, o))] +=
                         xv[static_cast<std::size_t>(n.xi(b, iy, ix, i))] * wv[static_cast<std::size_t>(n.wi(o, i, ky, kx))];
                 });
    return Tensor::from_vector(y, {x.size(0), n.ho, n.wo, w.size(0)}, x.dtype());
}

// The direct definition's gradients: dx, dw, db for a given dy.
std::array<Tensor, 3> naive_conv_grads(const Tensor& x, const Tensor& w, const Tensor& dy, Pair stride, Pair padding,
                                       bool depthwise) {
    const Naive n = naive_for(x, w, stride, padding, depthwise);
    const auto xv = x.to_vector(), wv = w.to_vector(), dyv = dy.to_vector();
    std::vector<double> dx(xv.size(), 0.0), dw(wv.size(), 0.0), db(static_cast<std::size_t>(w.size(0)), 0.0);
    for (std::size_t k = 0; k < dyv.size(); ++k) db[k % db.size()] += dyv[k];
    for_each_tap(x.shape(), w.shape(), n.ho, n.wo, stride, padding, depthwise,
                 [&](auto b, auto oy, auto ox, auto o, auto i, auto ky, auto kx, auto iy, auto ix) {
                     const auto xk = static_cast<std::size_t>(n.xi(b, iy, ix, i));
                     const auto wk = static_cast<std::size_t>(n.wi(o, i, ky, kx));
                     const double d = dyv[static_cast<std::size_t>(n.yi(b, oy, ox, o))];
                     dx[xk] += d * wv[wk];
                     dw[wk] += d * xv[xk];
                 });
    return {Tensor::from_vector(dx, x.shape(), DType::f64), Tensor::from_vector(dw, w.shape(), DType::f64),
            Tensor::from_vector(db, {w.size(0)}, DType::f64)};
}

struct ConvCase {
    const char* name;
    Shape x, w;
    Pair stride, padding;
    bool bias;
};

// Covers: same-size 3x3, patch embedding (kernel == stride, odd map: the last row/column is dropped), a non-square
// kernel with unequal strides and padding on one axis only, 1x1 (x itself is the im2col matrix), padding wider than
// the kernel (edge windows see only zeros), and a kernel as large as the padded map.
const std::vector<ConvCase> kConvCases = {
    {"3x3 stride 1 pad 1", {2, 5, 4, 3}, {4, 3, 3, 3}, {1, 1}, {1, 1}, true},
    {"3x3 stride 1 pad 1, no bias", {1, 4, 5, 2}, {3, 2, 3, 3}, {1, 1}, {1, 1}, false},
    {"2x2 stride 2 pad 0 (patch embed)", {2, 5, 7, 3}, {4, 3, 2, 2}, {2, 2}, {0, 0}, true},
    {"2x2 stride 2 pad 0 (patch embed), no bias", {1, 4, 6, 2}, {3, 2, 2, 2}, {2, 2}, {0, 0}, false},
    {"3x2 stride (2, 1) pad (1, 0)", {2, 6, 5, 2}, {3, 2, 3, 2}, {2, 1}, {1, 0}, true},
    {"3x2 stride (2, 1) pad (1, 0), no bias", {1, 7, 4, 3}, {2, 3, 3, 2}, {2, 1}, {1, 0}, false},
    {"1x1 stride 1 pad 0", {2, 3, 4, 3}, {5, 3, 1, 1}, {1, 1}, {0, 0}, true},
    {"2x2 stride 1 pad 2 (padding wider than the kernel)", {1, 3, 3, 2}, {2, 2, 2, 2}, {1, 1}, {2, 2}, true},
    {"5x4 kernel on a 3x2 map with pad (1, 1)", {2, 3, 2, 2}, {3, 2, 5, 4}, {1, 2}, {1, 1}, true},
};

struct DepthwiseCase {
    const char* name;
    Shape x;
    std::int64_t kh, kw;
    Pair stride, padding;
    bool bias;
};

const std::vector<DepthwiseCase> kDepthwiseCases = {
    {"7x7 stride 1 pad 3 on 9x9 (ConvNeXt)", {2, 9, 9, 3}, 7, 7, {1, 1}, {3, 3}, true},
    {"3x3 stride 2 pad 1 on 7x6", {2, 7, 6, 4}, 3, 3, {2, 2}, {1, 1}, true},
    {"3x3 stride 2 pad 1 on 7x6, no bias", {1, 7, 6, 2}, 3, 3, {2, 2}, {1, 1}, false},
    {"7x7 pad 3 on 2x3 (kernel bigger than the map)", {2, 2, 3, 3}, 7, 7, {1, 1}, {3, 3}, true},
    {"2x3 stride (1, 2) pad (0, 2)", {1, 4, 5, 2}, 2, 3, {1, 2}, {0, 2}, true},
    {"7x7 stride 1 pad 3, 40 channels (whole register blocks of the weight gradient and a tail)", {1, 5, 6, 40}, 7,
     7, {1, 1}, {3, 3}, true},
};

Tensor bias_or_none(bool on, std::int64_t n, std::uint64_t seed) { return on ? param({n}, seed) : Tensor(); }

// The checked objective Σ r ⊙ conv(x, w, b) is affine in each single element of x, w or b, so central differences
// carry no truncation error at any step; a step of 1e-3 (not 1e-6) keeps their rounding noise below the tolerance
// for 7x7 windows summed over whole maps.
const bplab::test::GradCheckOptions kAffine{.eps = 1e-3, .tol = 1e-8};

}  // namespace

TEST_CASE("conv2d forward equals the direct definition of convolution", "[gradcheck][conv]") {
    for (const auto& c : kConvCases) {
        INFO(c.name);
        const Tensor x = random_tensor(c.x, 1), w = random_tensor(c.w, 2);
        const Tensor b = c.bias ? random_tensor({c.w[0]}, 3) : Tensor();
        const Tensor expected = naive_conv(x, w, b, c.stride, c.padding, false);
        REQUIRE(max_abs_diff(conv2d(x, w, b, c.stride, c.padding), expected) <= 1e-12);
        const Tensor y32 = conv2d(x.to(DType::f32), w.to(DType::f32), b.defined() ? b.to(DType::f32) : Tensor(),
                                  c.stride, c.padding);
        REQUIRE(max_abs_diff(y32.to(DType::f64), expected) <= 1e-5);
    }
}

TEST_CASE("gradcheck: conv2d (same 3x3, patch embed, strided non-square, 1x1, wide padding)", "[gradcheck][conv]") {
    for (const auto& c : kConvCases) {
        INFO(c.name);
        check_gradients([&](const auto& in) { return conv2d(in[0], in[1], in[2], c.stride, c.padding); },
                        {param(c.x, 1), param(c.w, 2), bias_or_none(c.bias, c.w[0], 3)}, kAffine);
    }
}

TEST_CASE("conv2d backward equals the direct definition on a batch spanning several im2col chunks", "[gradcheck][conv]") {
    // The im2col rows of one 50x50x96 image with a 3x3 kernel (2500 x 864) outgrow the CPU backend's im2col buffer,
    // so every image is its own chunk: this checks that dw accumulates across chunks and dx is folded back per image.
    const Pair stride{1, 1}, padding{1, 1};
    Tensor x = param({3, 50, 50, 96}, 1), w = param({4, 96, 3, 3}, 2), b = param({4}, 3);
    const Tensor y = conv2d(x, w, b, stride, padding);
    REQUIRE(max_abs_diff(y, naive_conv(x, w, b, stride, padding, false)) <= 1e-11);
    const Tensor dy = random_tensor(y.shape(), 4);
    backward(y, dy);
    const auto [dx, dw, db] = naive_conv_grads(x, w, dy, stride, padding, false);
    REQUIRE(max_abs_diff(x.grad(), dx) <= 1e-11);
    REQUIRE(max_abs_diff(w.grad(), dw) <= 1e-10);
    REQUIRE(max_abs_diff(b.grad(), db) <= 1e-10);
}

TEST_CASE("conv2d's scratch holds one chunk of the batch's own images, not the chunk budget", "[conv][memory]") {
    // One 8x8x3 image, 3x3 kernel, 5 outputs, f32: im2col holds 64 rows of 27 and the reordered weight 5 x 27.
    // Sized for the 1 M-element budget instead, the columns would take 4 MiB (bplab mem at batch 4 showed it).
    const Tensor x = random_tensor({1, 8, 8, 3}, 31, DType::f32), w = random_tensor({5, 3, 3, 3}, 32, DType::f32);
    NoGradGuard no_grad;
    const std::int64_t before = memory_stats().current_bytes;
    reset_peak();
    const Tensor y = conv2d(x, w, Tensor(), {1, 1}, {1, 1});
    CHECK(memory_stats().peak_bytes - before == (64 * 5 + 64 * 27 + 5 * 27) * 4);
}

TEST_CASE("conv2d with kernel == stride equals space_to_depth then linear with the weight in (O, kh, kw, I) order",
          "[gradcheck][conv]") {
    // ConvNeXt's downsampling runs as space_to_depth + linear; a timm conv weight (O, I, 2, 2) maps onto it by a permute.
    const Tensor x = random_tensor({2, 6, 4, 3}, 1), w = random_tensor({5, 3, 2, 2}, 2), b = random_tensor({5}, 3);
    const auto wv = w.to_vector();
    std::vector<double> wl(wv.size());
    for (std::int64_t o = 0; o < 5; ++o)
        for (std::int64_t i = 0; i < 3; ++i)
            for (std::int64_t t = 0; t < 4; ++t)
                wl[static_cast<std::size_t>((o * 4 + t) * 3 + i)] = wv[static_cast<std::size_t>((o * 3 + i) * 4 + t)];
    const Tensor expected = linear(space_to_depth(x, 2), Tensor::from_vector(wl, {5, 12}, DType::f64), b);
    REQUIRE(max_abs_diff(conv2d(x, w, b, {2, 2}, {0, 0}), expected) <= 1e-12);
}

TEST_CASE("depthwise_conv2d forward and backward equal the direct definition", "[gradcheck][conv]") {
    for (const auto& c : kDepthwiseCases) {
        INFO(c.name);
        Tensor x = param(c.x, 1), w = param({c.x[3], 1, c.kh, c.kw}, 2);
        Tensor b = bias_or_none(c.bias, c.x[3], 3);
        const Tensor y = depthwise_conv2d(x, w, b, c.stride, c.padding);
        REQUIRE(max_abs_diff(y, naive_conv(x, w, b, c.stride, c.padding, true)) <= 1e-12);
        const Tensor dy = random_tensor(y.shape(), 4);
        backward(y, dy);
        const auto [dx, dw, db] = naive_conv_grads(x, w, dy, c.stride, c.padding, true);
        REQUIRE(max_abs_diff(x.grad(), dx) <= 1e-12);
        REQUIRE(max_abs_diff(w.grad(), dw) <= 1e-12);
        if (c.bias) REQUIRE(max_abs_diff(b.grad(), db) <= 1e-12);
        // f32 takes other code paths (e.g. 32-channel register blocks in the weight gradient): same results.
        Tensor x32 = x.detach().to(DType::f32), w32 = w.detach().to(DType::f32);
        x32.set_requires_grad(true);
        w32.set_requires_grad(true);
        const Tensor y32 = depthwise_conv2d(x32, w32, b.defined() ? b.detach().to(DType::f32) : Tensor(), c.stride, c.padding);
        REQUIRE(max_abs_diff(y32.to(DType::f64), y.detach()) <= 1e-5);
        backward(y32, dy.to(DType::f32));
        REQUIRE(max_abs_diff(x32.grad().to(DType::f64), dx) <= 1e-4);
        REQUIRE(max_abs_diff(w32.grad().to(DType::f64), dw) <= 1e-4);
    }
}

TEST_CASE("depthwise_conv2d backward on a map large enough to run threaded", "[gradcheck][conv]") {
    // Per-thread partial sums of dw and db are added in thread order; compare with the direct definition.
    const Pair stride{1, 1}, padding{3, 3};
    Tensor x = param({2, 20, 20, 48}, 1), w = param({48, 1, 7, 7}, 2), b = param({48}, 3);
    const Tensor y = depthwise_conv2d(x, w, b, stride, padding);
    REQUIRE(max_abs_diff(y, naive_conv(x, w, b, stride, padding, true)) <= 1e-12);
    const Tensor dy = random_tensor(y.shape(), 4);
    backward(y, dy);
    const auto [dx, dw, db] = naive_conv_grads(x, w, dy, stride, padding, true);
    REQUIRE(max_abs_diff(x.grad(), dx) <= 1e-12);
    REQUIRE(max_abs_diff(w.grad(), dw) <= 1e-11);
    REQUIRE(max_abs_diff(b.grad(), db) <= 1e-11);
}

TEST_CASE("gradcheck: depthwise_conv2d (ConvNeXt 7x7, strided, kernel bigger than the map)", "[gradcheck][conv]") {
    for (const auto& c : kDepthwiseCases) {
        INFO(c.name);
        check_gradients([&](const auto& in) { return depthwise_conv2d(in[0], in[1], in[2], c.stride, c.padding); },
                        {param(c.x, 1), param({c.x[3], 1, c.kh, c.kw}, 2), bias_or_none(c.bias, c.x[3], 3)}, kAffine);
    }
}

TEST_CASE("space_to_depth puts block pixel (dy, dx) at channels (dy·s + dx)·C, and depth_to_space inverts it",
          "[gradcheck][conv]") {
    for (std::int64_t s : {1, 2, 3}) {
        INFO("block size " << s);
        const std::int64_t B = 2, H = 2 * s, W = 3 * s, C = 3;
        const Tensor x = random_tensor({B, H, W, C}, 1);
        const Tensor y = space_to_depth(x, s);
        REQUIRE(y.shape() == Shape{B, H / s, W / s, s * s * C});
        const auto xv = x.to_vector(), yv = y.to_vector();
        for (std::int64_t b = 0; b < B; ++b)
            for (std::int64_t i = 0; i < H / s; ++i)
                for (std::int64_t j = 0; j < W / s; ++j)
                    for (std::int64_t dy = 0; dy < s; ++dy)
                        for (std::int64_t dx = 0; dx < s; ++dx)
                            for (std::int64_t c = 0; c < C; ++c)
                                REQUIRE(yv[static_cast<std::size_t>((((b * H / s + i) * W / s + j) * s * s + dy * s + dx) * C + c)] ==
                                        xv[static_cast<std::size_t>(((b * H + i * s + dy) * W + j * s + dx) * C + c)]);
        REQUIRE(max_abs_diff(depth_to_space(y, s), x) == 0.0);
    }
    const Tensor labels = Tensor::from_indices({0, 1, 2, 3, 4, 5, 6, 7}, {1, 2, 2, 2});
    REQUIRE(space_to_depth(labels, 2).to_vector() == std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7});
}

TEST_CASE("gradcheck: space_to_depth and depth_to_space (s = 2)", "[gradcheck][conv]") {
    check_gradients([](const auto& in) { return space_to_depth(in[0], 2); }, {param({2, 4, 6, 3}, 1)});
    check_gradients([](const auto& in) { return depth_to_space(in[0], 2); }, {param({2, 2, 3, 8}, 2)});
}

TEST_CASE("conv ops reject bad shapes with messages that name the op, the shapes and what was expected",
          "[gradcheck][conv]") {
    const Tensor x = random_tensor({2, 8, 8, 3}, 1);
    REQUIRE_THROWS_WITH(conv2d(x, random_tensor({16, 4, 3, 3}, 2), Tensor()),
                        Catch::Contains("conv2d: input (2, 8, 8, 3) has 3 channels, weight (16, 4, 3, 3) expects 4"));
    REQUIRE_THROWS_WITH(conv2d(random_tensor({8, 8, 3}, 1), random_tensor({16, 3, 3, 3}, 2), Tensor()),
                        Catch::Contains("conv2d: input of shape (8, 8, 3) has 3 dims (expected 4: (B, H, W, C)"));
    REQUIRE_THROWS_WITH(conv2d(x, random_tensor({16, 3, 9}, 2), Tensor()),
                        Catch::Contains("conv2d: weight of shape (16, 3, 9) (expected (O, I, kh, kw))"));
    REQUIRE_THROWS_WITH(conv2d(x, random_tensor({16, 3, 3, 3}, 2), random_tensor({8}, 3)),
                        Catch::Contains("conv2d: bias of shape (8,) for weight (16, 3, 3, 3) (expected (16,))"));
    REQUIRE_THROWS_WITH(conv2d(x, random_tensor({16, 3, 9, 9}, 2), Tensor()),
                        Catch::Contains("conv2d: kernel 9x9 is larger than the padded input 8x8 (input (2, 8, 8, 3)"));
    REQUIRE_THROWS_WITH(conv2d(x, random_tensor({16, 3, 3, 3}, 2), Tensor(), {0, 1}),
                        Catch::Contains("conv2d: stride (0, 1) (expected at least 1)"));
    REQUIRE_THROWS_WITH(conv2d(x, random_tensor({16, 3, 3, 3}, 2), Tensor(), {1, 1}, {1, -1}),
                        Catch::Contains("conv2d: padding (1, -1) (expected at least 0)"));
    REQUIRE_THROWS_WITH(conv2d(x, random_tensor({16, 3, 3, 3}, 2, DType::f32), Tensor()),
                        Catch::Contains("conv2d: operands hold F64 and F32"));
    REQUIRE_THROWS_WITH(depthwise_conv2d(x, random_tensor({4, 1, 7, 7}, 2), Tensor(), {1, 1}, {3, 3}),
                        Catch::Contains("depthwise_conv2d: input (2, 8, 8, 3) has 3 channels, weight (4, 1, 7, 7) "
                                        "(expected (3, 1, kh, kw))"));
    REQUIRE_THROWS_WITH(depthwise_conv2d(x, random_tensor({3, 1, 7, 7}, 2), random_tensor({4}, 3)),
                        Catch::Contains("depthwise_conv2d: bias of shape (4,) for input (2, 8, 8, 3) (expected (3,))"));
    REQUIRE_THROWS_WITH(depthwise_conv2d(x, random_tensor({3, 1, 11, 3}, 2), Tensor(), {1, 1}, {1, 1}),
                        Catch::Contains("depthwise_conv2d: kernel 11x3 is larger than the padded input 10x10"));
    REQUIRE_THROWS_WITH(space_to_depth(random_tensor({2, 7, 8, 3}, 1), 2),
                        Catch::Contains("space_to_depth: input (2, 7, 8, 3) has height 7 and width 8 (expected both "
                                        "divisible by the block size 2)"));
    REQUIRE_THROWS_WITH(space_to_depth(x, 0), Catch::Contains("space_to_depth: block size 0 (expected at least 1)"));
    REQUIRE_THROWS_WITH(depth_to_space(x, 2),
                        Catch::Contains("depth_to_space: input (2, 8, 8, 3) has 3 channels (expected a multiple of 4"));
}
