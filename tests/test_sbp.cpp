// tests/test_sbp.cpp — the SBP paper's equations as property tests, each exact in f64 against an
// independent computation (plain loops or the full graph with dropped rows detached), not the same code path.
#include <catch2/catch.hpp>
#include <cmath>

#include "core/allocator.h"
#include "core/autocast.h"
#include "core/ops.h"
#include "layers/blocks.h"
#include "layers/sbp/blocks.h"
#include "layers/sbp/split.h"
#include "models/registry.h"
#include "tests/test_helpers.h"

using namespace bplab;
using bplab::test::max_abs_diff;
using bplab::test::nan_max;
using bplab::test::random_tensor;

namespace {

Tensor param(const Shape& shape, std::uint64_t seed) {
    Tensor t = random_tensor(shape, seed, DType::f64);
    t.set_requires_grad(true);
    return t;
}

/// A grid mask over h×w positions with the given phase (no class token).
sbp::RowSplit grid_rows(std::int64_t h, std::int64_t w, double r, std::uint64_t seed) {
    Rng rng(seed);
    return sbp::token_split(sbp::sample_mask(sbp::MaskKind::grid, h, w, r, rng), false);
}

std::vector<std::int64_t> ids(const Tensor& t) {
    std::vector<std::int64_t> v;
    for (double x : t.to_vector()) v.push_back(static_cast<std::int64_t>(x));
    return v;
}

bool contains(const std::vector<std::int64_t>& v, std::int64_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

/// The rows n (of axis 1) of a (B, N, C) tensor's gradient, as values.
double row_abs_max(const Tensor& g, std::int64_t n) {
    const auto v = g.to_vector();
    const std::int64_t b = g.size(0), rows = g.size(1), c = g.size(2);
    double m = 0;
    for (std::int64_t i = 0; i < b; ++i)
        for (std::int64_t j = 0; j < c; ++j) m = nan_max(m, std::abs(v[static_cast<std::size_t>((i * rows + n) * c + j)]));
    return m;
}

}  // namespace

TEST_CASE("Eq5: linear weight gradient uses kept rows only, dropped inputs get none", "[sbp][property]") {
    // X (B, N, Cin), W (Cout, Cin); rows: a checkerboard over a 2×3 grid. dW = Σ_keep dYᵀ X, dX_drop = 0.
    const std::int64_t B = 2, N = 6, I = 3, O = 4;
    Tensor x = param({B, N, I}, 1), w = param({O, I}, 2), b = param({O}, 3);
    const Tensor g = random_tensor({B, N, O}, 4, DType::f64);
    const auto rows = grid_rows(2, 3, 0.5, 5);
    backward(sum(mul(sbp::linear(x, w, b, rows, 1), g)));
    const auto keep = ids(rows.keep);
    const auto xv = x.to_vector(), gv = g.to_vector(), wv = w.to_vector();
    std::vector<double> dw(static_cast<std::size_t>(O * I), 0.0), db(static_cast<std::size_t>(O), 0.0);
    for (std::int64_t bi = 0; bi < B; ++bi)
        for (std::int64_t n : keep)
            for (std::int64_t o = 0; o < O; ++o) {
                const double gy = gv[static_cast<std::size_t>((bi * N + n) * O + o)];
                db[static_cast<std::size_t>(o)] += gy;
                for (std::int64_t i = 0; i < I; ++i) dw[static_cast<std::size_t>(o * I + i)] += gy * xv[static_cast<std::size_t>((bi * N + n) * I + i)];
            }
    CHECK(max_abs_diff(w.grad(), Tensor::from_vector(dw, {O, I}, DType::f64)) <= 1e-12);
    CHECK(max_abs_diff(b.grad(), Tensor::from_vector(db, {O}, DType::f64)) <= 1e-12);
    for (std::int64_t n = 0; n < N; ++n) {
        INFO("row " << n);
        if (contains(keep, n)) {
            // dX_keep = dY_keep W, exact
            double err = 0;
            for (std::int64_t bi = 0; bi < B; ++bi)
                for (std::int64_t i = 0; i < I; ++i) {
                    double e = 0;
                    for (std::int64_t o = 0; o < O; ++o) e += gv[static_cast<std::size_t>((bi * N + n) * O + o)] * wv[static_cast<std::size_t>(o * I + i)];
                    err = nan_max(err, std::abs(e - x.grad().to_vector()[static_cast<std::size_t>((bi * N + n) * I + i)]));
                }
            CHECK(err <= 1e-12);
        } else {
            CHECK(row_abs_max(x.grad(), n) == 0.0);
        }
    }
}

TEST_CASE("Eq9-11: two point-wise layers: one mask keeps the drop set, two masks keep only the intersection", "[sbp][property]") {
    const std::int64_t B = 2, N = 16, C = 3;
    Tensor x = param({B, N, C}, 6), w1 = param({C, C}, 7), w2 = param({C, C}, 8);
    const Tensor g = random_tensor({B, N, C}, 9, DType::f64);
    const auto a = grid_rows(4, 4, 0.5, 10), same = a;
    Rng other(11);
    auto mb = sbp::sample_mask(sbp::MaskKind::random, 4, 4, 0.5, other);
    const auto bsplit = sbp::token_split(mb, false);
    for (int variant = 0; variant < 2; ++variant) {
        const auto& second = variant == 0 ? same : bsplit;
        x.zero_grad(), w1.zero_grad(), w2.zero_grad();
        backward(sum(mul(sbp::linear(sbp::linear(x, w1, Tensor(), a, 1), w2, Tensor(), second, 1), g)));
        const auto ka = ids(a.keep), kb = ids(second.keep);
        // Independent: dH_r = dY_r W2 for r in keep(2nd); dW1 = Σ_{r in keep(1st) ∩ keep(2nd)} dH_rᵀ X_r.
        const auto xv = x.to_vector(), gv = g.to_vector(), w2v = w2.to_vector();
        std::vector<double> dw1(static_cast<std::size_t>(C * C), 0.0);
        for (std::int64_t bi = 0; bi < B; ++bi)
            for (std::int64_t n = 0; n < N; ++n) {
                if (!contains(ka, n) || !contains(kb, n)) continue;
                for (std::int64_t o = 0; o < C; ++o) {
                    double dh = 0;
                    for (std::int64_t p = 0; p < C; ++p) dh += gv[static_cast<std::size_t>((bi * N + n) * C + p)] * w2v[static_cast<std::size_t>(p * C + o)];
                    for (std::int64_t i = 0; i < C; ++i) dw1[static_cast<std::size_t>(o * C + i)] += dh * xv[static_cast<std::size_t>((bi * N + n) * C + i)];
                }
            }
        INFO((variant == 0 ? "same mask" : "different masks"));
        CHECK(max_abs_diff(w1.grad(), Tensor::from_vector(dw1, {C, C}, DType::f64)) <= 1e-12);
        for (std::int64_t n = 0; n < N; ++n)
            if (!(contains(ka, n) && contains(kb, n))) CHECK(row_abs_max(x.grad(), n) == 0.0);
    }
}

TEST_CASE("Sec8.5: consecutive point-wise layers with disjoint masks give zero gradient below them", "[sbp][property]") {
    Tensor x = param({1, 16, 3}, 12), w1 = param({3, 3}, 13), w2 = param({3, 3}, 14);
    Rng rng(1);
    const auto m = sbp::sample_mask(sbp::MaskKind::grid, 4, 4, 0.5, rng);
    const sbp::RowSplit first = sbp::token_split(m, false), second{first.drop, first.keep};  // the other phase
    backward(sum(sbp::linear(sbp::linear(x, w1, Tensor(), first, 1), w2, Tensor(), second, 1)));
    for (double v : w1.grad().to_vector()) CHECK(v == 0.0);
    for (double v : x.grad().to_vector()) CHECK(v == 0.0);
    bool w2_moves = false;
    for (double v : w2.grad().to_vector()) {
        REQUIRE(std::isfinite(v));
        w2_moves = w2_moves || v != 0.0;
    }
    CHECK(w2_moves);
}

TEST_CASE("Eq6/12: a k×k conv gives dropped positions non-zero, non-exact gradient, stride >= kernel decouples patches", "[sbp][property]") {
    Tensor x = param({1, 6, 6, 2}, 15), w = param({3, 2, 3, 3}, 16);
    const Tensor g = random_tensor({1, 6, 6, 3}, 17, DType::f64);
    const auto rows = grid_rows(6, 6, 0.5, 18);
    backward(sum(mul(sbp::conv2d(x, w, Tensor(), {1, 1}, {1, 1}, rows), g)));
    const Tensor sbp_dx = x.grad().clone();
    x.zero_grad();
    backward(sum(mul(conv2d(x, w, Tensor(), {1, 1}, {1, 1}), g)));
    const Tensor exact_dx = x.grad().clone();
    const Tensor dx3 = sbp_dx.reshape({1, 36, 2}), ex3 = exact_dx.reshape({1, 36, 2});
    const auto drop = ids(rows.drop);
    double dropped_max = 0;
    for (std::int64_t n : drop) dropped_max = nan_max(dropped_max, row_abs_max(dx3, n));
    CHECK(dropped_max > 1e-3);                      // (a) neighbours reach dropped positions
    CHECK(max_abs_diff(sbp_dx, exact_dx) > 1e-3);   // (b) and the gradient is not exact

    // Stride 2 = kernel 2 (patchify): each input pixel belongs to one output patch.
    Tensor xp = param({1, 6, 6, 2}, 19), wp = param({3, 2, 2, 2}, 20);
    const Tensor gp = random_tensor({1, 3, 3, 3}, 21, DType::f64);
    const auto prow = grid_rows(3, 3, 0.5, 22);
    backward(sum(mul(sbp::conv2d(xp, wp, Tensor(), {2, 2}, {0, 0}, prow), gp)));
    const Tensor sbp_p = xp.grad().clone();
    xp.zero_grad();
    backward(sum(mul(conv2d(xp, wp, Tensor(), {2, 2}, {0, 0}), gp)));
    const auto keep = ids(prow.keep);
    const auto sv = sbp_p.to_vector(), ev = xp.grad().to_vector();
    for (std::int64_t i = 0; i < 6; ++i)
        for (std::int64_t j = 0; j < 6; ++j)
            for (std::int64_t c = 0; c < 2; ++c) {
                const std::size_t at = static_cast<std::size_t>((i * 6 + j) * 2 + c);
                if (contains(keep, (i / 2) * 3 + j / 2)) CHECK(std::abs(sv[at] - ev[at]) <= 1e-12);
                else CHECK(sv[at] == 0.0);
            }
}

TEST_CASE("Eq16-23: query-only attention: dQ_drop = 0, dQ_keep and dV exact, dK = Q_keepᵀ dM_keep / √d", "[sbp][property]") {
    const std::int64_t B = 1, H = 2, N = 6, D = 3;
    const double scale = 1.0 / std::sqrt(static_cast<double>(D));
    Tensor q = param({B, H, N, D}, 23), k = param({B, H, N, D}, 24), v = param({B, H, N, D}, 25);
    const Tensor g = random_tensor({B, H, N, D}, 26, DType::f64);
    const auto rows = grid_rows(2, 3, 0.5, 27);
    const Tensor o_keep = attention(gather_rows(q, rows.keep, 2), k, v, scale);
    const Tensor o_drop = attention(gather_rows(q.detach(), rows.drop, 2), k.detach(), v, scale);
    backward(sum(mul(sbp::merge_rows(o_keep, o_drop, rows, 2), g)));
    const Tensor dq = q.grad().clone(), dk = k.grad().clone(), dv = v.grad().clone();
    q.zero_grad(), k.zero_grad(), v.zero_grad();
    backward(sum(mul(attention(q, k, v, scale), g)));
    const auto keep = ids(rows.keep);
    const auto dqv = dq.to_vector(), eqv = q.grad().to_vector();
    for (std::int64_t h = 0; h < H; ++h)
        for (std::int64_t n = 0; n < N; ++n)
            for (std::int64_t d = 0; d < D; ++d) {
                const std::size_t at = static_cast<std::size_t>((h * N + n) * D + d);
                if (contains(keep, n)) CHECK(std::abs(dqv[at] - eqv[at]) <= 1e-12);  // Eq. 20, kept
                else CHECK(dqv[at] == 0.0);                                         // Eq. 20, dropped
            }
    CHECK(max_abs_diff(dv, v.grad()) <= 1e-12);  // dV = Sᵀ dA, untouched
    // Eq. 21 by plain loops: dM_keep = S ⊙ (dS − Σ S ⊙ dS) on kept rows, dS = dA Vᵀ; dK = scale · dM_keepᵀ Q_keep.
    const auto qv = q.to_vector(), kv = k.to_vector(), vv = v.to_vector(), gv = g.to_vector();
    std::vector<double> ref(static_cast<std::size_t>(H * N * D), 0.0);
    for (std::int64_t h = 0; h < H; ++h)
        for (std::int64_t n : keep) {
            std::vector<double> s(static_cast<std::size_t>(N)), ds(static_cast<std::size_t>(N));
            double mx = -1e300, den = 0, dot = 0;
            for (std::int64_t m = 0; m < N; ++m) {
                double t = 0;
                for (std::int64_t d = 0; d < D; ++d) t += qv[static_cast<std::size_t>((h * N + n) * D + d)] * kv[static_cast<std::size_t>((h * N + m) * D + d)];
                s[static_cast<std::size_t>(m)] = t * scale;
                mx = std::max(mx, t * scale);
            }
            for (auto& t : s) den += (t = std::exp(t - mx));
            for (std::int64_t m = 0; m < N; ++m) {
                s[static_cast<std::size_t>(m)] /= den;
                double t = 0;
                for (std::int64_t d = 0; d < D; ++d) t += gv[static_cast<std::size_t>((h * N + n) * D + d)] * vv[static_cast<std::size_t>((h * N + m) * D + d)];
                ds[static_cast<std::size_t>(m)] = t;
                dot += t * s[static_cast<std::size_t>(m)];
            }
            for (std::int64_t m = 0; m < N; ++m) {
                const double dm = s[static_cast<std::size_t>(m)] * (ds[static_cast<std::size_t>(m)] - dot);
                for (std::int64_t d = 0; d < D; ++d) ref[static_cast<std::size_t>((h * N + m) * D + d)] += scale * dm * qv[static_cast<std::size_t>((h * N + n) * D + d)];
            }
        }
    CHECK(max_abs_diff(dk, Tensor::from_vector(ref, {B, H, N, D}, DType::f64)) <= 1e-12);
    CHECK(max_abs_diff(dk, k.grad()) > 1e-6);  // and it is not the exact dK
}

TEST_CASE("SBP ViT block (qkv mode) has the published code's gradients: qkv on all tokens, dropped rows detached", "[sbp][property]") {
    Rng init(28), noise(29);
    const VitBlock block(8, 2, {.drop_path = 0.0, .layer_scale = 0.7, .mlp_ratio = 2.0}, init, noise, DType::f64);
    Tensor x = param({2, 7, 8}, 30);  // class token + 2×3 patches
    const Tensor g = random_tensor({2, 7, 8}, 31, DType::f64);
    Rng rng(32);
    sbp::BlockPlan plan;
    plan.mask = sbp::sample_mask(sbp::MaskKind::grid, 2, 3, 0.5, rng);
    plan.rows = sbp::token_split(plan.mask, true);
    sbp::SbpConfig config;
    config.keep = 0.5;
    backward(sum(mul(sbp::vit_block(block, x, plan, config), g)));
    std::vector<Tensor> ours{x.grad().clone()};
    for (const Tensor& p : block.parameters()) ours.push_back(p.grad().clone()), Tensor(p).zero_grad();
    x.zero_grad();

    // The published computation: norm1 and qkv on every token with graph; attention split into kept
    // (graph) and dropped (detached) token groups; the MLP sub-block likewise.
    const auto qkv = block.attn().qkv(block.norm1().forward(x));
    auto take = [&](const Tensor& t, const Tensor& idx) { return gather_rows(t, idx, 2); };
    const Tensor o_keep = attention(take(qkv[0], plan.rows.keep), take(qkv[1], plan.rows.keep), take(qkv[2], plan.rows.keep), block.attn().scale());
    const Tensor o_drop = attention(take(qkv[0], plan.rows.drop), take(qkv[1], plan.rows.drop), take(qkv[2], plan.rows.drop), block.attn().scale()).detach();
    const Tensor h = add(x, block.branch(block.attn().project(sbp::merge_rows(o_keep, o_drop, plan.rows, 2)), 1));
    const Tensor y_full = block.mlp().forward(block.norm2().forward(h));
    const Tensor y = sbp::merge_rows(gather_rows(y_full, plan.rows.keep, 1), gather_rows(y_full, plan.rows.drop, 1).detach(), plan.rows, 1);
    backward(sum(mul(add(h, block.branch(y, 2)), g)));
    CHECK(max_abs_diff(ours[0], x.grad()) <= 1e-12);
    const auto params = block.named_parameters();
    for (std::size_t i = 0; i < params.size(); ++i) {
        INFO(params[i].first);
        CHECK(max_abs_diff(ours[i + 1], params[i].second.grad()) <= 1e-12);
    }
}

TEST_CASE("SBP ViT (qkv, shared mask, class-token loss): dropped rows carry no gradient, so splitting the projection is free",
          "[sbp][property]") {
    // Two SBP blocks with one mask and a loss that reads only the class token (row 0), as in the ViT.
    Rng init(40), noise(41);
    const VitBlock b1(8, 2, {.drop_path = 0.0, .layer_scale = 0.7, .mlp_ratio = 2.0}, init, noise, DType::f64);
    const VitBlock b2(8, 2, {.drop_path = 0.0, .layer_scale = 0.7, .mlp_ratio = 2.0}, init, noise, DType::f64);
    const Tensor x0 = random_tensor({2, 7, 8}, 42, DType::f64), g = random_tensor({2, 1, 8}, 43, DType::f64);
    Rng rng(44);
    sbp::BlockPlan plan;
    plan.mask = sbp::sample_mask(sbp::MaskKind::grid, 2, 3, 0.5, rng);
    plan.rows = sbp::token_split(plan.mask, true);
    std::vector<std::vector<Tensor>> grads;
    for (bool split_proj : {false, true}) {
        sbp::SbpConfig config;
        config.keep = 0.5;
        config.split_proj = split_proj;
        Tensor x = x0.clone();
        x.set_requires_grad(true);
        const Tensor y = sbp::vit_block(b2, sbp::vit_block(b1, x, plan, config), plan, config);
        backward(sum(mul(gather_rows(y, Tensor::from_indices({0}, {1}), 1), g)));
        // The input gradient is exactly zero at the dropped rows.
        const Tensor dropped = gather_rows(x.grad(), plan.rows.drop, 1);
        CHECK(max_abs_diff(dropped, Tensor::zeros_like(dropped)) == 0.0);
        CHECK(max_abs_diff(gather_rows(x.grad(), plan.rows.keep, 1), Tensor::zeros({2, plan.rows.keep.numel(), 8}, DType::f64)) > 1e-3);
        std::vector<Tensor> gs;
        for (const VitBlock* b : {&b1, &b2})
            for (const Tensor& p : b->parameters()) gs.push_back(p.grad().clone()), Tensor(p).zero_grad();
        grads.push_back(gs);
    }
    for (std::size_t i = 0; i < grads[0].size(); ++i) CHECK(max_abs_diff(grads[0][i], grads[1][i]) <= 1e-13);
}

TEST_CASE("SBP: keep ratio 1 is plain backprop, evaluation runs the exact model", "[sbp][property]") {
    auto plain = make_model("vit-mini", {.classes = 10, .in_channels = 1, .seed = 5, .dtype = DType::f64});
    auto full = make_model("vit-mini", {.classes = 10, .in_channels = 1, .seed = 5, .dtype = DType::f64});
    full->set_sbp(sbp::make_config(1.0, "grid", "all", "uniform", false, "qkv", false));
    full->begin_step();
    const Tensor x = random_tensor({2, 28, 28, 1}, 33, DType::f64);
    backward(sum(plain->forward(x)));
    backward(sum(full->forward(x)));
    for (std::size_t i = 0; i < plain->parameters().size(); ++i) CHECK(max_abs_diff(plain->parameters()[i].grad(), full->parameters()[i].grad()) == 0.0);

    auto half = make_model("vit-mini", {.classes = 10, .in_channels = 1, .seed = 5, .dtype = DType::f64});
    half->set_sbp(sbp::make_config(0.5, "grid", "all", "uniform", false, "qkv", false));
    half->begin_step();
    CHECK(max_abs_diff(half->forward(x), plain->forward(x)) > 1e-6);  // qkv mode changes the training forward
    half->eval();
    plain->eval();
    CHECK(max_abs_diff(half->forward(x), plain->forward(x)) == 0.0);  // evaluation is exact
    CHECK_THROWS_WITH(sbp::make_config(1.5, "grid", "", "uniform", false, "qkv", false), Catch::Contains("1.5"));
}

TEST_CASE("SBP: the MLP sub-block saves bytes in proportion to the kept rows", "[sbp][property]") {
    // Per kept row, f32: gathered input C + norm stats 2 + normed C + fc1 out 4C + GELU out 4C; with
    // recompute, the gathered input C + fc1 out 4C.
    Rng init(34), noise(35);
    const std::int64_t C = 16;
    const MlpBlock mlp(C, 4 * C, init);
    const LayerNorm norm(C);
    const Tensor x = random_tensor({4, 64, C}, 36, DType::f32);
    Tensor xg = x.clone();
    xg.set_requires_grad(true);
    for (double r : {0.5, 0.25}) {
        const auto rows = grid_rows(8, 8, r, 37);
        const std::int64_t kept_rows = 4 * rows.keep.numel();
        INFO("r = " << r);
        for (const bool recompute : {false, true}) {
            const std::int64_t base = memory_stats().current_bytes;
            const Tensor y = sbp::split_apply(xg, rows, 1, [&](const Tensor& t) { return mlp.forward_normed(norm, t, Tensor(), recompute); });
            const std::int64_t saved = memory_stats().current_bytes - base - static_cast<std::int64_t>(y.nbytes());
            CHECK(saved == kept_rows * (recompute ? C + 4 * C : C + 2 + C + 4 * C + 4 * C) * 4);
        }
    }
}

TEST_CASE("SBP ConvNeXt: the downsampling by space-to-depth + Linear equals the 2x2 conv when nothing is dropped", "[sbp][property]") {
    Rng init(38);
    const LayerNorm norm(3, 1e-6, DType::f64);
    const Conv2d conv(3, 5, 2, 2, 0, init, DType::f64);
    const Tensor x = random_tensor({2, 4, 6, 3}, 39, DType::f64);
    sbp::BlockPlan all;
    Rng rng(1);
    all.mask = sbp::sample_mask(sbp::MaskKind::grid, 2, 3, 1.0, rng);
    all.rows = sbp::token_split(all.mask, false);
    const auto p = conv.parameters();
    CHECK(max_abs_diff(sbp::downsample(norm, p[0], p[1], x, all), conv.forward(norm.forward(x))) <= 1e-12);
    // Under bf16 autocast too: the conv and the Linear that stands for it read the same values rounded to bf16
    // (f32 sums of a different order: 1e-6, where one bf16 rounding more or less would be about 1e-3).
    const Tensor x32 = x.to(DType::f32), w32 = p[0].to(DType::f32), b32 = p[1].to(DType::f32);
    const LayerNorm norm32(3, 1e-6, DType::f32);
    const Tensor f32_conv = conv2d(norm32.forward(x32), w32, b32, {2, 2}, {0, 0});
    const AutocastGuard autocast(DType::bf16);
    const Tensor conv_bf16 = conv2d(norm32.forward(x32), w32, b32, {2, 2}, {0, 0});
    CHECK(max_abs_diff(sbp::downsample(norm32, w32, b32, x32, all), conv_bf16) <= 1e-6);
    CHECK(max_abs_diff(conv_bf16, f32_conv) > 1e-4);  // and both did round
}
