// tests/test_mix.cpp — Mixup and CutMix (core/data/mix.h): the mixed pixels and λ against draws replayed on a
// copy of the generator, the mixed loss against the soft-target cross-entropy and its gradient, and the Beta
// and Gamma samplers' moments.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/autograd.h"
#include "core/data/mix.h"
#include "core/ops.h"
#include "core/train/backprop.h"
#include "tests/test_helpers.h"

using namespace bplab;
using bplab::test::random_tensor;

namespace {

Batch image_batch(std::int64_t b, std::int64_t h, std::int64_t w, std::int64_t c) {
    std::vector<std::int64_t> labels;
    for (std::int64_t i = 0; i < b; ++i) labels.push_back((3 * i + 1) % 5);
    return {random_tensor({b, h, w, c}, 9, DType::f64), Tensor::from_indices(labels, {b})};
}

/// Pixel (n, i, j, ch) of (B, H, W, C) values.
double at(const std::vector<double>& v, const Shape& s, std::int64_t n, std::int64_t i, std::int64_t j, std::int64_t ch) {
    return v[static_cast<std::size_t>(((n * s[1] + i) * s[2] + j) * s[3] + ch)];
}

void check_moments(const std::function<double(Rng&)>& draw, double mean, double var) {
    Rng rng(17);
    const int n = 40000;
    double s = 0.0, s2 = 0.0;
    for (int i = 0; i < n; ++i) {
        const double x = draw(rng);
        s += x;
        s2 += x * x;
    }
    const double m = s / n, v = s2 / n - m * m;
    CHECK(m == Approx(mean).margin(4.5 * std::sqrt(var / n)));
    CHECK(v == Approx(var).epsilon(0.05));
}

}  // namespace

TEST_CASE("rng: Gamma and Beta samples have the distributions' means and variances", "[data]") {
    check_moments([](Rng& r) { return r.gamma(0.5); }, 0.5, 0.5);
    check_moments([](Rng& r) { return r.gamma(3.0); }, 3.0, 3.0);
    check_moments([](Rng& r) { return r.beta(0.8, 0.8); }, 0.5, 0.8 * 0.8 / (1.6 * 1.6 * 2.6));
    check_moments([](Rng& r) { return r.beta(2.0, 5.0); }, 2.0 / 7.0, 10.0 / (49.0 * 8.0));
    // A tiny alpha: Gamma(0.001) = Gamma(1.001) · U^1000 is 0 in doubles once U < e^-0.744, so G_a / (G_a + G_b)
    // was 0 / 0 for about a fifth of the draws; the Beta draw must stay in [0, 1] (near 0 or 1).
    Rng rng(3);
    for (int i = 0; i < 2000; ++i) {
        const double x = rng.beta(0.001, 0.001);
        REQUIRE(x >= 0.0);
        REQUIRE(x <= 1.0);
    }
    check_moments([](Rng& r) { return r.beta(0.01, 0.01); }, 0.5, 0.01 * 0.01 / (0.02 * 0.02 * 1.02));
    CHECK_THROWS_WITH(rng.gamma(0.0), Catch::Contains("Gamma shape 0.000000 (expected > 0)"));
}

TEST_CASE("mix: Mixup blends each image with its mirror by lambda ~ Beta(a, a), labels too", "[data]") {
    Batch b = image_batch(5, 3, 4, 2);
    const auto x = b.x.to_vector();
    const Shape s = b.x.shape();
    Rng rng(5), replay(5);
    mix_batch(b, {.mixup_alpha = 0.8, .cutmix_alpha = 0.0, .switch_prob = 0.5}, rng);
    const double lambda = replay.beta(0.8, 0.8);
    CHECK(b.mix_weight == lambda);
    CHECK(rng.next_u64() == replay.next_u64());  // no other draw
    CHECK(b.mix_y.to_vector() == std::vector<double>{3, 0, 2, 4, 1});  // y = 1, 4, 2, 0, 3 reversed
    const auto mixed = b.x.to_vector();
    for (std::int64_t n = 0; n < 5; ++n)
        for (std::int64_t i = 0; i < 3; ++i)
            for (std::int64_t j = 0; j < 4; ++j)
                for (std::int64_t c = 0; c < 2; ++c)
                    CHECK(at(mixed, s, n, i, j, c) == Approx(lambda * at(x, s, n, i, j, c) + (1 - lambda) * at(x, s, 4 - n, i, j, c)).margin(1e-14).epsilon(0));
}

TEST_CASE("mix: CutMix pastes the mirror's box, and lambda is the share of pixels left", "[data]") {
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
        Batch b = image_batch(4, 9, 12, 3);
        const auto x = b.x.to_vector();
        const Shape s = b.x.shape();
        Rng rng(seed), replay(seed);
        mix_batch(b, {.mixup_alpha = 0.0, .cutmix_alpha = 1.0, .switch_prob = 0.5}, rng);
        const MixBox box = cutmix_box(9, 12, replay.beta(1.0, 1.0), replay);
        const std::int64_t area = (box.bottom - box.top) * (box.right - box.left);
        CHECK(b.mix_weight == 1.0 - static_cast<double>(area) / 108.0);
        const auto mixed = b.x.to_vector();
        for (std::int64_t n = 0; n < 4; ++n)
            for (std::int64_t i = 0; i < 9; ++i)
                for (std::int64_t j = 0; j < 12; ++j) {
                    const bool inside = i >= box.top && i < box.bottom && j >= box.left && j < box.right;
                    for (std::int64_t c = 0; c < 3; ++c) CHECK(at(mixed, s, n, i, j, c) == at(x, s, inside ? 3 - n : n, i, j, c));
                }
    }
}

TEST_CASE("mix: cutmix_box follows timm's rand_bbox, with both methods on, batches use each", "[data]") {
    for (std::uint64_t seed = 0; seed < 200; ++seed) {
        Rng rng(seed), replay(seed);
        const MixBox box = cutmix_box(32, 20, 0.75, rng);  // sides 16 x 10 around the centre, clipped
        const auto cy = static_cast<std::int64_t>(replay.below(32)), cx = static_cast<std::int64_t>(replay.below(20));
        CHECK(box.top == std::max<std::int64_t>(cy - 8, 0));
        CHECK(box.bottom == std::min<std::int64_t>(cy + 8, 32));
        CHECK(box.left == std::max<std::int64_t>(cx - 5, 0));
        CHECK(box.right == std::min<std::int64_t>(cx + 5, 20));
    }
    Rng rng(4);
    const MixBox none = cutmix_box(7, 8, 1.0, rng), all = cutmix_box(7, 8, 0.0, rng);
    CHECK(none.bottom - none.top == 0);
    CHECK(none.right - none.left == 0);
    CHECK(all.bottom - all.top <= 6);  // sides 7 x 8 from a centre, halves rounded down: at most 6 rows, 8 columns
    CHECK(all.right - all.left <= 8);
    CHECK_THROWS_WITH(cutmix_box(7, 8, std::nan(""), rng), Catch::Contains("expected lambda in [0, 1]"));
    CHECK_THROWS_WITH(cutmix_box(7, 8, 1.5, rng), Catch::Contains("lambda 1.5"));
    int cutmix = 0;
    for (std::uint64_t seed = 0; seed < 100; ++seed) {
        Batch b = image_batch(2, 4, 4, 1);
        const auto x = b.x.to_vector();
        Rng rng(seed), replay(seed);
        mix_batch(b, {.mixup_alpha = 0.8, .cutmix_alpha = 1.0, .switch_prob = 0.5}, rng);
        const bool used_cutmix = replay.uniform() < 0.5;
        cutmix += used_cutmix;
        // CutMix copies pixels; Mixup (lambda strictly between 0 and 1) changes every one.
        const auto m = b.x.to_vector();
        std::size_t copied = 0;
        for (std::size_t p = 0; p < m.size(); ++p) {
            REQUIRE(std::isfinite(m[p]));  // a NaN is neither copied nor a mix
            copied += m[p] == x[p] || m[p] == x[(p + m.size() / 2) % m.size()];
        }
        CHECK(copied == (used_cutmix ? m.size() : 0));
    }
    CHECK(cutmix > 30);
    CHECK(cutmix < 70);
    Batch flat{random_tensor({2, 6}, 1), Tensor::from_indices({0, 1}, {2})};
    CHECK_THROWS_WITH(mix_batch(flat, {.mixup_alpha = 1.0}, rng), Catch::Contains("expected (B, H, W, C)"));
}

TEST_CASE("mix: the mixed loss is the cross-entropy against mixed smoothed targets, so is its gradient", "[data]") {
    const std::int64_t b = 6, k = 5;
    const double eps = 0.1, lambda = 0.37;
    Tensor logits = random_tensor({b, k}, 3, DType::f64, -2.0, 2.0).set_requires_grad();
    Batch batch{Tensor(), Tensor::from_indices({0, 4, 2, 2, 1, 3}, {b}), eps};
    batch.mix_y = Tensor::from_indices({3, 1, 2, 0, 4, 0}, {b});
    batch.mix_weight = lambda;
    const Tensor loss = batch_loss(logits, batch);
    backward(loss);
    // Independently: t = λ·smooth(onehot(y)) + (1 − λ)·smooth(onehot(mix_y)); loss = mean over rows of −Σ t log p,
    // and d loss / d logits = (p − t) / B.
    const auto z = logits.to_vector(), y = batch.y.to_vector(), y2 = batch.mix_y.to_vector(), g = logits.grad().to_vector();
    double expected = 0.0;
    for (std::int64_t r = 0; r < b; ++r) {
        double mx = -1e300, norm = 0.0;
        for (std::int64_t c = 0; c < k; ++c) mx = std::max(mx, z[static_cast<std::size_t>(r * k + c)]);
        for (std::int64_t c = 0; c < k; ++c) norm += std::exp(z[static_cast<std::size_t>(r * k + c)] - mx);
        for (std::int64_t c = 0; c < k; ++c) {
            const auto i = static_cast<std::size_t>(r * k + c);
            const double smooth = eps / static_cast<double>(k);
            const double t = lambda * ((y[static_cast<std::size_t>(r)] == c ? 1 - eps : 0) + smooth) +
                             (1 - lambda) * ((y2[static_cast<std::size_t>(r)] == c ? 1 - eps : 0) + smooth);
            const double logp = z[i] - mx - std::log(norm);
            expected -= t * logp / static_cast<double>(b);
            CHECK(g[i] == Approx((std::exp(logp) - t) / static_cast<double>(b)).margin(1e-14).epsilon(0));
        }
    }
    CHECK(loss.item() == Approx(expected).margin(1e-13).epsilon(0));
}
