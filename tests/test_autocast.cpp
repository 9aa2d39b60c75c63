// tests/test_autocast.cpp — bf16 autocast (core/autocast.h): the linear ops' products and gradients against an f64
// computation on the rounded operands; GELU, the convolutions and attention against their f32 selves on rounded
// operands; the fused ops against the plain ones; the bytes kept; the guard's scope.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <thread>

#include "core/allocator.h"
#include "core/autocast.h"
#include "core/autograd.h"
#include "core/bfloat16.h"
#include "core/ops.h"
#include "tests/test_helpers.h"

using namespace bplab;
using bplab::test::max_abs_diff;
using bplab::test::random_tensor;
using bplab::test::worst_relative;

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

Tensor param(const Shape& shape, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
    Tensor t = random_tensor(shape, seed, DType::f32, lo, hi);
    t.set_requires_grad(true);
    return t;
}

/// γ ⊙rows W (O, I), with a gradient for both (scale_rows has none for γ): through transposes, as mul
/// broadcasts over trailing dims.
Tensor fold(const Tensor& w, const Tensor& gamma) { return transpose(mul(transpose(w), gamma)); }

/// The values of t, each rounded to bf16 (t f32).
std::vector<double> rounded(const Tensor& t) { return t.to(DType::bf16).to_vector(); }

/// output_and_grads with fn's forward under a bf16 autocast guard when `autocast`.
std::vector<Tensor> output_and_grads(const Fn& fn, const std::vector<Tensor>& inputs, bool autocast) {
    return bplab::test::output_and_grads(
        [&](const std::vector<Tensor>& in) {
            const AutocastGuard guard(autocast ? std::optional<DType>(DType::bf16) : std::nullopt);
            return fn(in);
        },
        inputs);
}

/// C (m, n) = A (m, k) · B (k, n) in f64 over row-major values, and Σ |a||b| per element (the error's scale).
struct Product {
    std::vector<double> value, magnitude;
};
Product product(const std::vector<double>& a, const std::vector<double>& b, std::int64_t m, std::int64_t k,
                std::int64_t n, bool trans_a, bool trans_b) {
    Product p{std::vector<double>(static_cast<std::size_t>(m * n)), std::vector<double>(static_cast<std::size_t>(m * n))};
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j)
            for (std::int64_t q = 0; q < k; ++q) {
                const double x = a[static_cast<std::size_t>(trans_a ? q * m + i : i * k + q)];
                const double y = b[static_cast<std::size_t>(trans_b ? j * k + q : q * n + j)];
                p.value[static_cast<std::size_t>(i * n + j)] += x * y;
                p.magnitude[static_cast<std::size_t>(i * n + j)] += std::abs(x * y);
            }
    return p;
}

/// |got − exact| ≤ 2⁻¹⁸ Σ|a||b| + 2⁻²³ |exact| per element: f32 sums of exactly representable products.
void require_f32_sum_of(const Tensor& got, const Product& exact, const std::vector<double>& plus = {}) {
    const std::vector<double> g = got.to_vector();
    REQUIRE(g.size() == exact.value.size());
    for (std::size_t i = 0; i < g.size(); ++i) {
        const double e = exact.value[i] + (plus.empty() ? 0.0 : plus[i]);
        INFO("element " << i << ": " << g[i] << " vs " << e);
        REQUIRE(std::abs(g[i] - e) <= std::ldexp(exact.magnitude[i], -18) + std::ldexp(std::abs(e), -23));
    }
}

/// linear(x, w, b) under a bf16 autocast guard.
Tensor linear_bf16(const Tensor& x, const Tensor& w, const Tensor& b) {
    const AutocastGuard guard(DType::bf16);
    return linear(x, w, b);
}

/// Under autocast, a convolution conv(x, w, b) equals the f32 one of x and w rounded to bf16, bit for bit; dx and dw
/// are the f32 one's for dy rounded too, db sums dy itself (as linear's does), all in f32; f64 is left exact.
/// Returns the bytes it keeps for backward under autocast when x is computed (a leaf's storage would cost nothing).
std::int64_t require_conv_of_rounded(const Fn& conv, const Tensor& x, const Tensor& w, const Tensor& b) {
    const auto rounded_leaf = [](const Tensor& t) { return t.to(DType::bf16).to(DType::f32).set_requires_grad(true); };
    const Tensor rx = rounded_leaf(x), rw = rounded_leaf(w), rb = b.detach().set_requires_grad(true);
    const Tensor want = conv({rx, rw, rb});  // no guard: the f32 op
    const Tensor dy = random_tensor(want.shape(), 70, DType::f32, -2, 2);
    backward(sum(mul(want, dy.to(DType::bf16).to(DType::f32))));
    const Tensor want_dx = rx.grad().clone(), want_dw = rw.grad().clone(), db_of_rounded_dy = rb.grad().clone();
    Tensor(rb).zero_grad();
    backward(sum(mul(conv({rx.detach(), rw.detach(), rb}), dy)));  // db from dy itself
    for (const Tensor& t : {x, w, b}) Tensor(t).zero_grad();
    Tensor y;
    std::int64_t kept = 0;
    {
        const AutocastGuard guard(DType::bf16);
        y = conv({x, w, b});
        const std::int64_t before = memory_stats().current_bytes;
        const Tensor computed = conv({mul(x, x), w, b});
        kept = memory_stats().current_bytes - before - static_cast<std::int64_t>(computed.nbytes());
        const std::vector<Tensor> f64{x.to(DType::f64), w.to(DType::f64), b.to(DType::f64)};
        const Tensor f64_under_guard = conv(f64);
        const AutocastGuard off(std::nullopt);
        CHECK(max_abs_diff(f64_under_guard, conv(f64)) == 0.0);  // f64 is never rounded
    }
    CHECK(max_abs_diff(y, want) == 0.0);
    CHECK(max_abs_diff(y, conv({x, w, b})) > 1e-4);  // and rounding did happen
    backward(sum(mul(y, dy)));
    for (const Tensor& t : {x, w, b}) CHECK(t.grad().dtype() == DType::f32);
    CHECK(max_abs_diff(x.grad(), want_dx) == 0.0);
    CHECK(max_abs_diff(w.grad(), want_dw) == 0.0);
    CHECK(max_abs_diff(b.grad(), rb.grad()) <= 1e-4);          // sums of the same dy, perhaps in another order
    CHECK(max_abs_diff(b.grad(), db_of_rounded_dy) > 1e-3);  // not of the rounded dy
    return kept;
}

/// Under autocast, a convolution with no bias, or one that needs no gradient, gives the dx and dw of one with a bias.
void require_conv_without_bias(const Fn& conv, const Tensor& x, const Tensor& w, const Tensor& b) {
    const AutocastGuard guard(DType::bf16);
    const auto grads = [&](const Tensor& bias) {
        for (const Tensor& t : {x, w}) Tensor(t).zero_grad();
        backward(sum(conv({x, w, bias})));
        return std::vector<Tensor>{x.grad().clone(), w.grad().clone()};
    };
    const auto with_bias = grads(b), without = grads(Tensor()), frozen = grads(b.detach());
    for (std::size_t i = 0; i < 2; ++i) {
        CHECK(max_abs_diff(without[i], with_bias[i]) == 0.0);
        CHECK(max_abs_diff(frozen[i], with_bias[i]) == 0.0);
    }
}

/// Attention in f64 on values already rounded to bf16: q (G, Nq, D), k and v (G, Nk, D), dout (G, Nq, D).
struct AttentionCase {
    std::vector<double> q, k, v, dout;
    std::int64_t groups, nq, nk, d;
    double scale;
};
/// out, dq, dk, dv, and for each element how far the f32 kernels may land from it: 2⁻¹⁶ of Σ |terms| (f32 sums
/// and softmax; |dS| counts as P (Σ |dO| |v| + Σ P Σ |dO| |v|)), plus one bf16 step of each map value whose f32
/// error bound straddles a bf16 rounding boundary (the kernels may round it to the neighbour).
struct AttentionResult {
    std::vector<std::vector<double>> values, bounds;
};

/// A map value x (P or dS) as a product's operand: rounded through f32 to bf16 when `round_maps`, with the bf16
/// step the kernels may differ by, given that their f32 value lies within `error` of x.
std::pair<double, double> map_operand(double x, double error, bool round_maps) {
    if (!round_maps) return {x, 0.0};
    const auto round = [](double v) { return double(round_to_bf16(static_cast<float>(v))); };
    const double r = round(x);
    return {r, round(x - error) != round(x + error) ? std::ldexp(std::abs(x) + error, -7) : 0.0};
}

/// The products of autocast's attention with f64 sums: O = bf16(P) V, dV = bf16(P)ᵀ dO, dQ = scale bf16(dS) K,
/// dK = scale bf16(dS)ᵀ Q, P and dS rounded through f32 as the kernels round them; `round_maps` false leaves P and dS
/// unrounded (what the test must tell apart).
AttentionResult attention_f64(const AttentionCase& c, bool round_maps) {
    const auto at = [](std::int64_t i) { return static_cast<std::size_t>(i); };
    AttentionResult r;
    for (const std::int64_t n : {c.nq, c.nq, c.nk, c.nk}) {
        r.values.emplace_back(at(c.groups * n * c.d));
        r.bounds.emplace_back(at(c.groups * n * c.d));
    }
    auto &out = r.values[0], &dq = r.values[1], &dk = r.values[2], &dv = r.values[3];
    auto &out_b = r.bounds[0], &dq_b = r.bounds[1], &dk_b = r.bounds[2], &dv_b = r.bounds[3];
    for (std::int64_t g = 0; g < c.groups; ++g) {
        const std::int64_t qo = g * c.nq * c.d, ko = g * c.nk * c.d;
        for (std::int64_t i = 0; i < c.nq; ++i) {
            std::vector<double> p(at(c.nk)), dp(at(c.nk)), dp_m(at(c.nk));
            double mx = -1e300, sum = 0, dot = 0, dot_m = 0;
            for (std::int64_t j = 0; j < c.nk; ++j) {
                double s = 0, t = 0, t_m = 0;
                for (std::int64_t e = 0; e < c.d; ++e) {
                    s += c.q[at(qo + i * c.d + e)] * c.k[at(ko + j * c.d + e)];
                    t += c.dout[at(qo + i * c.d + e)] * c.v[at(ko + j * c.d + e)];
                    t_m += std::abs(c.dout[at(qo + i * c.d + e)] * c.v[at(ko + j * c.d + e)]);
                }
                p[at(j)] = s * c.scale;
                dp[at(j)] = t;
                dp_m[at(j)] = t_m;
                mx = std::max(mx, p[at(j)]);
            }
            for (double& x : p) sum += (x = std::exp(x - mx));
            for (std::int64_t j = 0; j < c.nk; ++j) {
                dot += (p[at(j)] /= sum) * dp[at(j)];
                dot_m += p[at(j)] * dp_m[at(j)];
            }
            for (std::int64_t j = 0; j < c.nk; ++j) {
                const double ds_m = p[at(j)] * (dp_m[at(j)] + dot_m);
                // f32 errors: a score's is at most d·2⁻²⁴·|scale|·Σ|q||k| ≤ 2⁻¹⁷·⁵ here (d 8, |q|, |k| ≤ 2), and
                // P's relative error about that; dS's is below 2⁻¹⁷ ds_m.
                const auto [pr, p_step] = map_operand(p[at(j)], std::ldexp(p[at(j)], -17), round_maps);
                const auto [ds, ds_step] = map_operand(p[at(j)] * (dp[at(j)] - dot), std::ldexp(ds_m, -17), round_maps);
                for (std::int64_t e = 0; e < c.d; ++e) {
                    const std::size_t qi = at(qo + i * c.d + e), kj = at(ko + j * c.d + e);
                    out[qi] += pr * c.v[kj];
                    out_b[qi] += std::ldexp(std::abs(pr * c.v[kj]), -16) + p_step * std::abs(c.v[kj]);
                    dv[kj] += pr * c.dout[qi];
                    dv_b[kj] += std::ldexp(std::abs(pr * c.dout[qi]), -16) + p_step * std::abs(c.dout[qi]);
                    dq[qi] += c.scale * ds * c.k[kj];
                    dq_b[qi] += c.scale * (std::ldexp(ds_m, -16) + ds_step) * std::abs(c.k[kj]);
                    dk[kj] += c.scale * ds * c.q[qi];
                    dk_b[kj] += c.scale * (std::ldexp(ds_m, -16) + ds_step) * std::abs(c.q[qi]);
                }
            }
        }
    }
    return r;
}

/// The fraction of elements with |got − want| > bound, a NaN counted as beyond.
double fraction_beyond(const std::vector<double>& got, const std::vector<double>& want, const std::vector<double>& bound) {
    REQUIRE(got.size() == want.size());
    std::size_t beyond = 0;
    for (std::size_t i = 0; i < got.size(); ++i) beyond += !(std::abs(got[i] - want[i]) <= bound[i]);
    return static_cast<double>(beyond) / static_cast<double>(got.size());
}

}  // namespace

// 8000 rows of 67: more than one block of rows for the CPU twin, which widens 2¹⁹ / 67 = 7825 rows at a time.
TEST_CASE("autocast: linear's output is the f32 sum of the bf16-rounded x and w products, plus b", "[autocast]") {
    const std::int64_t rows = 8000, in = 67, out = 11;
    const Tensor x = param({rows, in}, 1, -3, 3), w = param({out, in}, 2), b = param({out}, 3);
    const Tensor y = linear_bf16(x, w, b);
    REQUIRE(y.dtype() == DType::f32);
    const Product exact = product(rounded(x), rounded(w), rows, in, out, false, true);
    std::vector<double> bias(static_cast<std::size_t>(rows * out));
    const std::vector<double> bv = b.to_vector();
    for (std::size_t i = 0; i < bias.size(); ++i) bias[i] = bv[i % static_cast<std::size_t>(out)];
    require_f32_sum_of(y, exact, bias);
    // and visibly not the f32 product: bf16 rounding moves some outputs by far more than f32's error
    CHECK(max_abs_diff(y, linear(x, w, b)) > 1e-3);
}

TEST_CASE("autocast: linear's gradients: dx = bf16(dy) bf16(w), dw = bf16(dy)ᵀ bf16(x), db = Σ dy, all f32", "[autocast]") {
    const std::int64_t rows = 8000, in = 67, out = 11;
    const Tensor x = param({rows, in}, 4, -2, 2), w = param({out, in}, 5), b = param({out}, 6);
    const Tensor y = linear_bf16(x, w, b);
    const Tensor dy = random_tensor({rows, out}, 7, DType::f32, -2, 2);
    backward(sum(mul(y, dy)));
    REQUIRE(x.grad().dtype() == DType::f32);
    REQUIRE(w.grad().dtype() == DType::f32);
    const std::vector<double> rdy = rounded(dy), rx = rounded(x), rw = rounded(w);
    require_f32_sum_of(x.grad(), product(rdy, rw, rows, out, in, false, false));
    require_f32_sum_of(w.grad(), product(rdy, rx, out, rows, in, true, false));
    const Product db = product(std::vector<double>(static_cast<std::size_t>(rows), 1.0), dy.to_vector(), 1, rows, out,
                               false, false);  // Σ_rows dy, from dy itself
    require_f32_sum_of(b.grad(), db);
    CHECK(max_abs_diff(x.grad(), matmul(dy, w)) > 1e-3);  // dy and w were rounded
}

TEST_CASE("autocast: the fused linear ops round as linear does (layer_norm_linear, gelu_linear, scaled_linear, with γ)",
          "[autocast]") {
    const Tensor x = param({3, 7, 40}, 10, -2, 2), nw = param({40}, 11), nb = param({40}, 12), w = param({24, 40}, 13),
                 b = param({24}, 14), gamma = param({24}, 15), a = param({3, 7, 40}, 16, -3, 3);
    struct Case {
        const char* name;
        Fn fused, plain;
        std::vector<Tensor> inputs;
    };
    const std::vector<Case> cases = {
        {"layer_norm_linear", [](const auto& in) { return layer_norm_linear(in[0], in[1], in[2], 1e-6, in[3], in[4]); },
         [](const auto& in) { return linear(layer_norm(in[0], in[1], in[2], 1e-6), in[3], in[4]); }, {x, nw, nb, w, b}},
        {"gelu_linear", [](const auto& in) { return gelu_linear(in[0], in[1], in[2]); },
         [](const auto& in) { return linear(gelu(in[0]), in[1], in[2]); }, {a, w, b}},
        // γ is folded into the weight before rounding, so the plain side folds it too: γ ⊙rows W, γ ⊙ b
        {"gelu_linear with γ", [](const auto& in) { return gelu_linear(in[0], in[1], in[2], in[3]); },
         [](const auto& in) { return linear(gelu(in[0]), fold(in[1], in[3]), mul(in[2], in[3])); }, {a, w, b, gamma}},
        {"scaled_linear with γ", [](const auto& in) { return scaled_linear(in[0], in[1], in[2], in[3]); },
         [](const auto& in) { return linear(in[0], fold(in[1], in[3]), mul(in[2], in[3])); }, {a, w, b, gamma}},
        {"scaled_linear", [](const auto& in) { return scaled_linear(in[0], in[1], in[2], Tensor()); },
         [](const auto& in) { return linear(in[0], in[1], in[2]); }, {a, w, b}},
    };
    for (const Case& c : cases) {
        INFO(c.name);
        const auto fused = output_and_grads(c.fused, c.inputs, true), plain = output_and_grads(c.plain, c.inputs, true);
        const auto exact = output_and_grads(c.plain, c.inputs, false);
        CHECK(worst_relative(plain, fused) <= 1e-5);
        CHECK(worst_relative(exact, fused) > 1e-4);  // and the rounding did happen
        CHECK(worst_relative(exact, fused) < 5e-2);
    }
}

TEST_CASE("autocast: a linear with no outputs gives a zero dx, one with no inputs the bias and its sum", "[autocast]") {
    const AutocastGuard guard(DType::bf16);
    const Tensor x = param({6, 5}, 40), w0 = param({0, 5}, 41), b0 = param({0}, 42);
    backward(sum(linear(x, w0, b0)));
    CHECK(x.grad().to_vector() == std::vector<double>(30, 0.0));
    const Tensor e = param({6, 0}, 43), w = param({4, 0}, 44), b = param({4}, 45);
    const Tensor y = linear(e, w, b);
    CHECK(max_abs_diff(y, add(Tensor::zeros({6, 4}), b)) == 0.0);
    backward(sum(y));
    CHECK(b.grad().to_vector() == std::vector<double>(4, 6.0));
}

TEST_CASE("autocast: a linear keeps its input in bf16, half the bytes of f32", "[autocast]") {
    const Tensor x = param({64, 96}, 20), w = param({48, 96}, 21), b = param({48}, 22);
    const auto kept = [&](bool autocast) {
        AutocastGuard guard(autocast ? std::optional<DType>(DType::bf16) : std::nullopt);
        const std::int64_t before = memory_stats().current_bytes;
        const Tensor y = linear(mul(x, x), w, b);  // mul keeps x (a leaf: no bytes); linear keeps mul's output
        return memory_stats().current_bytes - before - static_cast<std::int64_t>(y.nbytes());
    };
    CHECK(kept(false) == 64 * 96 * 4);
    CHECK(kept(true) == 64 * 96 * 2);
}

TEST_CASE("autocast: GELU is GELU of its input rounded to bf16, its gradient that function's, and it keeps bf16",
          "[autocast]") {
    const Tensor x = param({37, 53}, 50, -4, 4), dy = random_tensor({37, 53}, 51, DType::f32, -2, 2);
    const Tensor rounded_x = x.to(DType::bf16).to(DType::f32).set_requires_grad(true);
    const Tensor want = gelu(rounded_x);  // no guard: the plain f32 GELU of the rounded values
    backward(sum(mul(want, dy)));
    Tensor y;
    std::int64_t kept = 0;
    {
        const AutocastGuard guard(DType::bf16);
        const Tensor h = mul(x, x);  // a computed input, whose f32 bytes GELU would otherwise keep
        const std::int64_t before = memory_stats().current_bytes;
        y = gelu(h);
        kept = memory_stats().current_bytes - before - static_cast<std::int64_t>(y.nbytes());
        y = gelu(x);
    }
    CHECK(kept == 37 * 53 * 2);
    CHECK(max_abs_diff(y, want) == 0.0);
    CHECK(max_abs_diff(y, gelu(x)) > 1e-4);  // and rounding did happen
    backward(sum(mul(y, dy)));
    CHECK(max_abs_diff(x.grad(), rounded_x.grad()) == 0.0);
}

TEST_CASE("autocast: --recompute's gelu_linear equals scaled_linear(gelu(a)) bit for bit, keeping a in bf16",
          "[autocast]") {
    const Tensor a = param({3, 11, 40}, 60, -3, 3), w = param({24, 40}, 61), b = param({24}, 62), g = param({24}, 63);
    for (const bool with_gamma : {false, true}) {
        INFO("with γ: " << with_gamma);
        const Tensor gamma = with_gamma ? g : Tensor();
        const std::vector<Tensor> inputs = with_gamma ? std::vector<Tensor>{a, w, b, g} : std::vector<Tensor>{a, w, b};
        const auto fused = output_and_grads([&](const auto& in) { return gelu_linear(in[0], in[1], in[2], gamma); },
                                            inputs, true);
        const auto plain = output_and_grads(
            [&](const auto& in) { return scaled_linear(gelu(in[0]), in[1], in[2], gamma); }, inputs, true);
        for (std::size_t i = 0; i < fused.size(); ++i) CHECK(max_abs_diff(fused[i], plain[i]) == 0.0);
    }
    const AutocastGuard guard(DType::bf16);
    const Tensor h = mul(a, a);  // computed, so that only what gelu_linear keeps of it counts
    const std::int64_t before = memory_stats().current_bytes;
    const Tensor y = gelu_linear(h, w, b);
    CHECK(memory_stats().current_bytes - before - static_cast<std::int64_t>(y.nbytes()) == 3 * 11 * 40 * 2);
}

TEST_CASE("autocast: conv2d is the f32 conv of bf16-rounded x and w, dy rounded for dx and dw, db of dy, x kept in bf16",
          "[autocast]") {
    const Tensor x = param({2, 9, 7, 3}, 80), w = param({5, 3, 3, 2}, 81), b = param({5}, 82);
    const auto conv = [](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], {2, 1}, {1, 0}); };
    CHECK(require_conv_of_rounded(conv, x, w, b) == 2 * 9 * 7 * 3 * 2);
    require_conv_without_bias(conv, x, w, b);
}

TEST_CASE("autocast: depthwise_conv2d is the f32 one of bf16-rounded x and w, dy rounded for dx and dw, db of dy, "
          "x kept in bf16",
          "[autocast]") {
    const Tensor x = param({2, 8, 9, 6}, 83), w = param({6, 1, 3, 3}, 84), b = param({6}, 85);
    const auto conv = [](const std::vector<Tensor>& in) { return depthwise_conv2d(in[0], in[1], in[2], {1, 1}, {1, 1}); };
    CHECK(require_conv_of_rounded(conv, x, w, b) == 2 * 8 * 9 * 6 * 2);
    require_conv_without_bias(conv, x, w, b);
}

TEST_CASE("autocast: attention's products take bf16 operands (q, k, v, dout, and P and dS rounded), sums and "
          "softmax in f32, keeping q, k, v in bf16",
          "[autocast]") {
    const std::int64_t groups = 6, nq = 13, nk = 11, d = 8;
    const double scale = 0.35;
    const Tensor q = param({2, 3, nq, d}, 86, -2, 2), k = param({2, 3, nk, d}, 87, -2, 2), v = param({2, 3, nk, d}, 88);
    const Tensor dy = random_tensor({2, 3, nq, d}, 89, DType::f32, -2, 2);
    Tensor out;
    {
        const AutocastGuard guard(DType::bf16);
        out = attention(q, k, v, scale);
        // Bytes kept, from computed inputs (a leaf's own storage would cost nothing): q, k, v in bf16, lse in f32;
        // without v when neither q nor k needs a gradient (SBP's query mode), as dv = Pᵀ dO needs no v.
        const auto kept = [&](bool q_and_k_need_grad) {
            const auto input = [&](const Tensor& t) { return q_and_k_need_grad ? mul(t, t) : mul(t, t).detach(); };
            const std::int64_t before = memory_stats().current_bytes;
            const Tensor o = attention(input(q), input(k), mul(v, v), scale);
            return memory_stats().current_bytes - before - static_cast<std::int64_t>(o.nbytes());
        };
        CHECK(kept(true) == (groups * nq * d + 2 * groups * nk * d) * 2 + groups * nq * 4);
        CHECK(kept(false) == (groups * nq * d + groups * nk * d) * 2 + groups * nq * 4);
        const Tensor q64 = q.to(DType::f64), k64 = k.to(DType::f64), v64 = v.to(DType::f64);
        const Tensor f64_under_guard = attention(q64, k64, v64, scale);
        const AutocastGuard off(std::nullopt);
        CHECK(max_abs_diff(f64_under_guard, attention(q64, k64, v64, scale)) == 0.0);  // f64 is never rounded
    }
    backward(sum(mul(out, dy)));
    for (const Tensor& t : {q, k, v}) CHECK(t.grad().dtype() == DType::f32);
    const AttentionCase c{rounded(q), rounded(k), rounded(v), rounded(dy), groups, nq, nk, d, scale};
    const AttentionResult want = attention_f64(c, true), unrounded_maps = attention_f64(c, false);
    const std::vector<std::pair<std::string, std::vector<double>>> got = {
        {"out", out.to_vector()}, {"dq", q.grad().to_vector()}, {"dk", k.grad().to_vector()}, {"dv", v.grad().to_vector()}};
    // With q and k detached (SBP's query mode), the op keeps no v and dv is the same.
    const Tensor dv = v.grad().clone();
    Tensor(v).zero_grad();
    {
        const AutocastGuard guard(DType::bf16);
        backward(sum(mul(attention(q.detach(), k.detach(), v, scale), dy)));
    }
    CHECK(max_abs_diff(v.grad(), dv) == 0.0);
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO(got[i].first);
        CHECK(fraction_beyond(got[i].second, want.values[i], want.bounds[i]) == 0.0);
        // and P and dS must be rounded for that: most values land beyond those bounds without
        CHECK(fraction_beyond(unrounded_maps.values[i], want.values[i], want.bounds[i]) >= 0.5);
    }
}

TEST_CASE("autocast: the guard nests, turns off with nullopt, leaves f64 exact and other threads alone", "[autocast]") {
    const Tensor x = param({5, 9}, 30);
    CHECK_FALSE(autocast_dtype().has_value());
    {
        AutocastGuard on(DType::bf16);
        CHECK(autocast_dtype() == DType::bf16);
        CHECK(autocast_applies(x));
        CHECK_FALSE(autocast_applies(x.to(DType::f64)));  // gradient checks stay exact
        bool other_thread = true;
        std::thread([&] { other_thread = autocast_dtype().has_value(); }).join();
        CHECK_FALSE(other_thread);
        {
            AutocastGuard off(std::nullopt);
            CHECK_FALSE(autocast_applies(x));
        }
        CHECK(autocast_applies(x));
    }
    CHECK_FALSE(autocast_dtype().has_value());
    CHECK_THROWS_WITH(AutocastGuard(DType::f32), Catch::Contains("F32 (expected BF16, or none"));
    CHECK(parse_autocast_dtype("--amp", "bf16") == DType::bf16);
    CHECK_THROWS_WITH(parse_autocast_dtype("--amp", "fp16"), "--amp 'fp16': expected bf16 (fp16 needs loss scaling, "
                                                             "which bplab does not have)");
    CHECK_THROWS_WITH(parse_autocast_dtype("--amp", "yes"), "--amp 'yes': expected bf16");
}
