// tests/test_sbp_memory.cpp — Section 4's Eq. 13: the bytes attention saves for backward under SBP's
// query-only and QKV dropping, counted by the allocator and compared with the formula term by term.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>

#include "core/allocator.h"
#include "core/autograd.h"
#include "core/ops.h"
#include "layers/sbp/split.h"
#include "tests/test_helpers.h"

using namespace bplab;
using bplab::test::random_tensor;

namespace {

using AttentionCore = std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)>;  // (B, h, n, d) each

/// The textbook attention from primitive ops: it caches the probability map S (shared by the softmax
/// and the second matmul), i.e. one n_q × n_k map per head.
Tensor map_caching_attention(const Tensor& q, const Tensor& k, const Tensor& v) {
    const double s = 1.0 / std::sqrt(static_cast<double>(q.size(3)));
    return matmul(softmax(scale(matmul(q, k, false, true), s)), v);
}

/// bplab's attention op: caches no map, one log-sum-exp per query instead.
Tensor fused_attention(const Tensor& q, const Tensor& k, const Tensor& v) {
    return attention(q, k, v, 1.0 / std::sqrt(static_cast<double>(q.size(3))));
}

enum class Drop { none, query, qkv };

/// One attention layer's forward under a dropping mode; q, k, v stand for the qkv projection's fresh output.
Tensor attention_under(Drop mode, const AttentionCore& core, const Tensor& q0, const Tensor& k0, const Tensor& v0,
                       const sbp::RowSplit& rows) {
    const Tensor q = scale(q0, 1.0), k = scale(k0, 1.0), v = scale(v0, 1.0);  // new storage, nothing saved
    if (mode == Drop::none) return core(q, k, v);
    const auto rows_of = [&](const Tensor& t, const Tensor& idx) { return gather_rows(t, idx, 2); };
    const Tensor kept = mode == Drop::query ? core(rows_of(q, rows.keep), k, v)
                                            : core(rows_of(q, rows.keep), rows_of(k, rows.keep), rows_of(v, rows.keep));
    Tensor dropped;
    {
        NoGradGuard no_grad;
        dropped = mode == Drop::query ? core(rows_of(q, rows.drop), k, v)
                                      : core(rows_of(q, rows.drop), rows_of(k, rows.drop), rows_of(v, rows.drop));
    }
    return sbp::merge_rows(kept, dropped, rows, 2);
}

/// Bytes the allocator still holds after the forward, beyond the inputs and the output: what backward will use.
std::int64_t saved_bytes(Drop mode, const AttentionCore& core, const Tensor& q, const Tensor& k, const Tensor& v,
                         const sbp::RowSplit& rows) {
    const std::int64_t before = memory_stats().current_bytes;
    const Tensor out = attention_under(mode, core, q, k, v, rows);
    return memory_stats().current_bytes - before - static_cast<std::int64_t>(out.nbytes());
}

/// Eq. 13's numerators and denominator, in elements per sample, with `maps` cached n×n maps per head
/// (the paper counts 2: before and after the softmax). nr = kept query rows.
double eq13_elements(Drop mode, double h, double n, double d, double nr, double maps) {
    switch (mode) {
        case Drop::none: return 3 * h * d * n + maps * h * n * n;
        case Drop::query: return 2 * h * d * n + h * d * nr + maps * h * nr * n;
        case Drop::qkv: return 3 * h * d * nr + maps * h * nr * nr;
    }
    return 0;
}

sbp::RowSplit alternate_rows(std::int64_t n, std::int64_t kept) {
    std::vector<std::int64_t> keep, drop;
    for (std::int64_t i = 0; i < n; ++i) (i % (n / kept) == 0 && static_cast<std::int64_t>(keep.size()) < kept ? keep : drop).push_back(i);
    return {Tensor::from_indices(keep, {static_cast<std::int64_t>(keep.size())}),
            Tensor::from_indices(drop, {static_cast<std::int64_t>(drop.size())})};
}

}  // namespace

TEST_CASE("Eq13: attention's saved bytes under query-only and QKV dropping follow the formula", "[sbp][property][memory]") {
    const std::int64_t B = 2, h = 3, n = 24, d = 8;
    Tensor q = random_tensor({B, h, n, d}, 51, DType::f32), k = random_tensor({B, h, n, d}, 52, DType::f32),
           v = random_tensor({B, h, n, d}, 53, DType::f32);
    for (Tensor* t : {&q, &k, &v}) t->set_requires_grad(true);
    for (std::int64_t kept : {12, 6}) {  // r = 0.5, 0.25
        const auto rows = alternate_rows(n, kept);
        for (Drop mode : {Drop::none, Drop::query, Drop::qkv}) {
            INFO("kept " << kept << " of " << n << ", mode " << static_cast<int>(mode));
            const double nr = static_cast<double>(kept);
            // The map-caching attention: Eq. 13's terms with one cached map per head.
            CHECK(saved_bytes(mode, map_caching_attention, q, k, v, rows) ==
                  static_cast<std::int64_t>(4 * B * eq13_elements(mode, h, n, d, nr, 1)));
            // bplab's attention: the q, k, v terms only, plus one log-sum-exp per cached query row.
            const double lse = h * (mode == Drop::none ? static_cast<double>(n) : nr);
            CHECK(saved_bytes(mode, fused_attention, q, k, v, rows) ==
                  static_cast<std::int64_t>(4 * B * (eq13_elements(mode, h, n, d, nr, 0) + lse)));
        }
    }
}

TEST_CASE("Eq13: the closed forms against the sums (the printed QKV form swaps d/n and n/d)", "[sbp][property][memory]") {
    // Per-sample ratios with the paper's 2 maps; a = d/n. The paper's printed closed forms:
    //   query: (r(a + 2) + 2a) / ((a + 2) + 2a)        qkv: r (3 + 2 r a) / (3 + 2 a)
    // The QKV sum divided by h n n is r (3a + 2r) / (3a + 2): the printed one has a where 1/a belongs.
    const double h = 3, n = 196;
    for (double d : {16.0, 64.0, 128.0}) {
        for (double r : {0.25, 0.5, 0.75}) {
            const double a = d / n, nr = r * n, full = eq13_elements(Drop::none, h, n, d, n, 2);
            const double query = eq13_elements(Drop::query, h, n, d, nr, 2) / full;
            const double qkv = eq13_elements(Drop::qkv, h, n, d, nr, 2) / full;
            INFO("d/n " << a << ", r " << r);
            CHECK(std::abs(query - (r * (a + 2) + 2 * a) / ((a + 2) + 2 * a)) <= 1e-12);
            CHECK(std::abs(qkv - r * (3 * a + 2 * r) / (3 * a + 2)) <= 1e-12);
            CHECK(std::abs(qkv - r * (3 + 2 * r * a) / (3 + 2 * a)) > 1e-3);
        }
    }
    // ViT at 224 (n = 196, d = 64): the sums give 0.610x / 0.414x for query-only (the text: 0.61x / 0.42x)
    // and 0.332x / 0.124x for QKV, where the text, from the printed form, says 0.46x / 0.22x.
    const double full = eq13_elements(Drop::none, 1, 196, 64, 196, 2);
    CHECK(std::abs(eq13_elements(Drop::query, 1, 196, 64, 98, 2) / full - 0.610) <= 5e-4);
    CHECK(std::abs(eq13_elements(Drop::query, 1, 196, 64, 49, 2) / full - 0.414) <= 5e-4);
    CHECK(std::abs(eq13_elements(Drop::qkv, 1, 196, 64, 98, 2) / full - 0.332) <= 5e-4);
    CHECK(std::abs(eq13_elements(Drop::qkv, 1, 196, 64, 49, 2) / full - 0.124) <= 5e-4);
}
