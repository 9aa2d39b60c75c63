// tests/test_sbp_mask.cpp — SBP keep masks: the published grid rule cell by cell, the start's uniformity,
// fixed and random masks, the keep/drop invariants, upsampling, the ViT token split and intersections.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>

#include "layers/sbp/mask.h"
#include "layers/sbp/plan.h"

using namespace bplab;
using namespace bplab::sbp;
using Catch::Matchers::Contains;

namespace {

/// keep and drop strictly ascending, disjoint, and together exactly 0..h*w-1.
void require_partition(const KeepMask& m) {
    const auto ascending = [](const std::vector<std::int64_t>& v) {
        return std::adjacent_find(v.begin(), v.end(), [](std::int64_t a, std::int64_t b) { return a >= b; }) == v.end();
    };
    REQUIRE(ascending(m.keep));
    REQUIRE(ascending(m.drop));
    std::vector<std::int64_t> all(m.keep);
    all.insert(all.end(), m.drop.begin(), m.drop.end());
    std::sort(all.begin(), all.end());
    std::vector<std::int64_t> expected(static_cast<std::size_t>(m.h * m.w));
    std::iota(expected.begin(), expected.end(), 0);
    REQUIRE(all == expected);  // complete, and (same length) disjoint
}

/// Number of cells (i, j) of an h×w grid with (i + j) mod s == t, summed over anti-diagonals d = i + j
/// (diagonal d has min(d, h − 1, w − 1, h + w − 2 − d) + 1 cells): independent of the sampler's cell loop.
std::int64_t diagonal_count(std::int64_t h, std::int64_t w, std::int64_t s, std::int64_t t) {
    std::int64_t n = 0;
    for (std::int64_t d = t; d <= h + w - 2; d += s) n += std::min({d, h - 1, w - 1, h + w - 2 - d}) + 1;
    return n;
}

/// The grid phase t of a mask with stride s: sparse (r <= 0.5) keeps diagonals ≡ t, dense drops them.
std::int64_t phase_of(const KeepMask& m, std::int64_t s, bool sparse) {
    const std::int64_t p = sparse ? m.keep.at(0) : m.drop.at(0);
    return (p / m.w + p % m.w) % s;
}

/// The expected grid keep set, written from the rule directly.
std::vector<std::int64_t> grid_keep(std::int64_t h, std::int64_t w, std::int64_t s, std::int64_t t, bool sparse) {
    std::vector<std::int64_t> keep;
    for (std::int64_t p = 0; p < h * w; ++p)
        if ((((p / w) + (p % w)) % s == t) == sparse) keep.push_back(p);
    return keep;
}

bool same(const KeepMask& a, const KeepMask& b) { return a.h == b.h && a.w == b.w && a.keep == b.keep && a.drop == b.drop; }

std::vector<std::int64_t> ints(const Tensor& t) {
    std::vector<std::int64_t> out;
    for (const double v : t.to_vector()) out.push_back(static_cast<std::int64_t>(v));
    return out;
}

struct GridCase {
    double r;
    std::int64_t s;  // the stride the published rule gives (written out here, not computed)
    bool sparse;     // keep ≡ t (r <= 0.5) or keep ≢ t
};

}  // namespace

TEST_CASE("grid: every draw is the published (i + j) mod s rule with the stated stride", "[sbp][property]") {
    // r = 0.3 keeps 1/3 (s = round(3.33) = 3); r = 0.4 and 0.6 give s = round(2.5) = 2 (numpy rounds half to even).
    const std::vector<GridCase> cases = {{0.5, 2, true},   {0.25, 4, true},  {0.2, 5, true}, {0.3, 3, true},
                                         {0.4, 2, true},   {0.75, 4, false}, {0.9, 10, false},
                                         {0.6, 2, false},  {2.0 / 3.0, 3, false}};
    Rng rng(11);
    for (const auto& [h, w] : std::vector<std::pair<std::int64_t, std::int64_t>>{{14, 14}, {7, 7}, {5, 9}}) {
        for (const GridCase& c : cases) {
            for (int draw = 0; draw < 40; ++draw) {
                const KeepMask m = sample_mask(MaskKind::grid, h, w, c.r, rng);
                INFO("h=" << h << " w=" << w << " r=" << c.r << " draw " << draw << "\n" << to_string(m));
                REQUIRE(m.h == h);
                REQUIRE(m.w == w);
                require_partition(m);
                const std::int64_t t = phase_of(m, c.s, c.sparse);
                REQUIRE(m.keep == grid_keep(h, w, c.s, t, c.sparse));
                const std::int64_t stripe = diagonal_count(h, w, c.s, t);
                REQUIRE(static_cast<std::int64_t>(m.keep.size()) == (c.sparse ? stripe : h * w - stripe));
            }
        }
    }
}

TEST_CASE("grid: exact counts on 14x14 and 7x7 for r = 0.5, 0.25, 0.3, 0.75", "[sbp][property]") {
    // Diagonal sums by hand: 14x14 has diagonals of 1..14..1 cells, 7x7 of 1..7..1.
    const auto counts = [](std::int64_t n, double r, std::int64_t s) {
        std::map<std::int64_t, std::int64_t> by_phase;  // t -> keep count
        Rng rng(5);
        for (int draw = 0; draw < 200; ++draw) {
            const KeepMask m = sample_mask(MaskKind::grid, n, n, r, rng);
            by_phase[phase_of(m, s, r <= 0.5)] = static_cast<std::int64_t>(m.keep.size());
        }
        return by_phase;
    };
    using M = std::map<std::int64_t, std::int64_t>;
    CHECK(counts(14, 0.5, 2) == M{{0, 98}, {1, 98}});
    CHECK(counts(7, 0.5, 2) == M{{0, 25}, {1, 24}});
    CHECK(counts(14, 0.25, 4) == M{{0, 49}, {1, 50}, {2, 49}, {3, 48}});
    CHECK(counts(14, 0.3, 3) == M{{0, 65}, {1, 66}, {2, 65}});  // ≈ 1/3 of 196, not 0.3·196 = 58.8
    CHECK(counts(7, 0.3, 3) == M{{0, 17}, {1, 16}, {2, 16}});
    CHECK(counts(14, 0.75, 4) == M{{0, 147}, {1, 146}, {2, 147}, {3, 148}});
}

TEST_CASE("grid: r = 0.5 is a checkerboard and both phases occur", "[sbp][property]") {
    Rng rng(3);
    std::set<std::string> seen;
    for (int draw = 0; draw < 50; ++draw) seen.insert(to_string(sample_mask(MaskKind::grid, 4, 4, 0.5, rng)));
    REQUIRE(seen == std::set<std::string>{"#.#.\n.#.#\n#.#.\n.#.#\n", ".#.#\n#.#.\n.#.#\n#.#.\n"});
}

TEST_CASE("grid: r = 0.25 gives anti-diagonal stripes, r = 0.75 keeps 3 of every 4 diagonals", "[sbp][property]") {
    Rng rng(4);
    std::set<std::string> sparse, dense;
    for (int draw = 0; draw < 100; ++draw) {
        sparse.insert(to_string(sample_mask(MaskKind::grid, 4, 4, 0.25, rng)));
        dense.insert(to_string(sample_mask(MaskKind::grid, 4, 4, 0.75, rng)));
    }
    REQUIRE(sparse == std::set<std::string>{"#...\n...#\n..#.\n.#..\n", ".#..\n#...\n...#\n..#.\n",
                                            "..#.\n.#..\n#...\n...#\n", "...#\n..#.\n.#..\n#...\n"});
    REQUIRE(dense == std::set<std::string>{".###\n###.\n##.#\n#.##\n", "#.##\n.###\n###.\n##.#\n",
                                           "##.#\n#.##\n.###\n###.\n", "###.\n##.#\n#.##\n.###\n"});
}

TEST_CASE("grid: the start t is uniform over draws", "[sbp][property]") {
    for (const GridCase& c : {GridCase{0.25, 4, true}, GridCase{0.2, 5, true}, GridCase{0.75, 4, false}}) {
        Rng rng(2024);
        const int draws = 5000;
        std::vector<int> hits(static_cast<std::size_t>(c.s), 0);
        for (int d = 0; d < draws; ++d) ++hits[static_cast<std::size_t>(phase_of(sample_mask(MaskKind::grid, 14, 14, c.r, rng), c.s, c.sparse))];
        const double expected = static_cast<double>(draws) / static_cast<double>(c.s);
        double chi2 = 0.0;
        for (const int k : hits) {
            REQUIRE(k > 0);
            chi2 += (k - expected) * (k - expected) / expected;
        }
        INFO("r=" << c.r << " chi2=" << chi2);
        REQUIRE(chi2 < 25.0);  // s − 1 ≤ 4 degrees of freedom: p < 1e-4 for a fair start
    }
}

TEST_CASE("fixed: the grid rule with t = 0 every step, drawing nothing", "[sbp][property]") {
    Rng rng(9);
    const auto before = rng.state();
    for (const GridCase& c : {GridCase{0.5, 2, true}, GridCase{0.25, 4, true}, GridCase{0.3, 3, true}, GridCase{0.75, 4, false}}) {
        for (int draw = 0; draw < 20; ++draw) {
            const KeepMask m = sample_mask(MaskKind::fixed, 14, 14, c.r, rng);
            require_partition(m);
            REQUIRE(m.keep == grid_keep(14, 14, c.s, 0, c.sparse));
        }
    }
    REQUIRE(rng.state() == before);
}

TEST_CASE("random: exactly round(r·h·w) distinct positions, different between draws", "[sbp][property]") {
    Rng rng(17);
    struct Case {
        std::int64_t h, w;
        double r;
        std::size_t count;
    };
    for (const Case& c : {Case{14, 14, 0.5, 98}, Case{14, 14, 0.3, 59}, Case{14, 14, 0.25, 49}, Case{7, 7, 0.75, 37},
                          Case{7, 7, 0.001, 1} /* rounds to 0: at least one */, Case{7, 7, 0.5, 24} /* 24.5: half to even */}) {
        INFO("h=" << c.h << " w=" << c.w << " r=" << c.r);
        const KeepMask a = sample_mask(MaskKind::random, c.h, c.w, c.r, rng);
        const KeepMask b = sample_mask(MaskKind::random, c.h, c.w, c.r, rng);
        require_partition(a);
        require_partition(b);
        REQUIRE(a.keep.size() == c.count);
        REQUIRE(b.keep.size() == c.count);
        REQUIRE(a.keep != b.keep);
    }
}

TEST_CASE("grid and random visit every position over steps, fixed never does", "[sbp][property]") {
    // The paper's point about fixed masks: dropped positions never get a gradient.
    for (const MaskKind kind : {MaskKind::grid, MaskKind::random, MaskKind::fixed}) {
        Rng rng(21);
        std::vector<int> visits(196, 0);
        for (int step = 0; step < 200; ++step)
            for (const std::int64_t p : sample_mask(kind, 14, 14, 0.25, rng).keep) ++visits[static_cast<std::size_t>(p)];
        const auto never = std::count(visits.begin(), visits.end(), 0);
        INFO("kind " << to_string(kind));
        if (kind == MaskKind::fixed)
            REQUIRE(never == 196 - 49);
        else
            REQUIRE(never == 0);
    }
}

TEST_CASE("r = 1 keeps everything for every kind", "[sbp][property]") {
    Rng rng(1);
    for (const MaskKind kind : {MaskKind::grid, MaskKind::random, MaskKind::fixed}) {
        const KeepMask m = sample_mask(kind, 5, 3, 1.0, rng);
        require_partition(m);
        REQUIRE(m.keep.size() == 15);
        REQUIRE(m.drop.empty());
        REQUIRE(m.ratio() == 1.0);
    }
}

TEST_CASE("keep ratios outside 0 < r <= 1 are refused with the ratio in the message", "[sbp]") {
    Rng rng(1);
    REQUIRE_THROWS_WITH(check_keep_ratio(1.5, "--sbp-keep"), "sbp: --sbp-keep: keep ratio 1.5 must be in (0, 1]");
    REQUIRE_THROWS_WITH(check_keep_ratio(0.0, ""), "sbp: keep ratio 0 must be in (0, 1]");
    const std::vector<std::pair<double, std::string>> bad = {
        {0.0, "keep ratio 0 "}, {-0.1, "keep ratio -0.1 "}, {1.5, "keep ratio 1.5 "}, {std::nan(""), "nan"}};
    for (const auto& [r, text] : bad) {
        INFO("r=" << r);
        REQUIRE_THROWS_AS(check_keep_ratio(r, "x"), std::invalid_argument);
        REQUIRE_THROWS_WITH(check_keep_ratio(r, "x"), Contains(text) && Contains("must be in (0, 1]"));
        for (const MaskKind kind : {MaskKind::grid, MaskKind::random, MaskKind::fixed})
            REQUIRE_THROWS_WITH(sample_mask(kind, 4, 4, r, rng), Contains(text));
    }
    REQUIRE_THROWS_WITH(check_keep_ratio(1.0000001, "x"), Contains("keep ratio 1.0000001 "));  // not "1"
    REQUIRE_NOTHROW(check_keep_ratio(1.0, "x"));
    REQUIRE_NOTHROW(check_keep_ratio(1e-6, "x"));
    REQUIRE_THROWS_AS(sample_mask(MaskKind::grid, 0, 4, 0.5, rng), std::invalid_argument);
}

TEST_CASE("parse_mask_kind: the three names round trip, others are refused", "[sbp]") {
    for (const MaskKind kind : {MaskKind::grid, MaskKind::random, MaskKind::fixed}) REQUIRE(parse_mask_kind(to_string(kind)) == kind);
    REQUIRE(parse_mask_kind("grid") == MaskKind::grid);
    REQUIRE_THROWS_WITH(parse_mask_kind("Grid"), Contains("'Grid'") && Contains("grid, random or fixed"));
}

TEST_CASE("upsample: blocks of the base cell's state, ratio preserved", "[sbp][property]") {
    Rng rng(6);
    const KeepMask checker = sample_mask(MaskKind::fixed, 2, 2, 0.5, rng);
    REQUIRE(to_string(checker) == "#.\n.#\n");
    const KeepMask up = upsample(checker, 2);
    REQUIRE(up.h == 4);
    REQUIRE(up.w == 4);
    REQUIRE(to_string(up) == "##..\n##..\n..##\n..##\n");
    require_partition(up);

    // The published multi-stage use: one 14x14 base mask, 2x2 blocks at 28x28, 4x4 blocks at 56x56.
    for (const double r : {0.5, 0.25, 0.3, 0.75}) {
        const KeepMask base = sample_mask(MaskKind::grid, 14, 14, r, rng);
        REQUIRE(same(upsample(base, 1), base));
        for (const std::int64_t f : {2, 4}) {
            const KeepMask m = upsample(base, f);
            require_partition(m);
            REQUIRE(m.h == 14 * f);
            REQUIRE(m.keep.size() == base.keep.size() * static_cast<std::size_t>(f * f));
            REQUIRE(m.ratio() == base.ratio());
            for (std::int64_t p = 0; p < m.h * m.w; ++p) {
                const std::int64_t q = (p / m.w / f) * 14 + (p % m.w) / f;
                const bool kept = std::binary_search(m.keep.begin(), m.keep.end(), p);
                REQUIRE(kept == std::binary_search(base.keep.begin(), base.keep.end(), q));
            }
        }
    }
    REQUIRE_THROWS_AS(upsample(checker, 0), std::invalid_argument);
}

TEST_CASE("token_split: the class token is kept and patches shift by one", "[sbp]") {
    Rng rng(8);
    const KeepMask m = sample_mask(MaskKind::grid, 4, 4, 0.25, rng);
    const RowSplit with = token_split(m, true);
    REQUIRE(with.keep.dtype() == DType::i64);
    REQUIRE(with.drop.dtype() == DType::i64);
    REQUIRE(with.keep.shape() == Shape{static_cast<std::int64_t>(m.keep.size()) + 1});
    REQUIRE(with.drop.shape() == Shape{static_cast<std::int64_t>(m.drop.size())});
    std::vector<std::int64_t> keep = {0}, drop;
    for (const std::int64_t p : m.keep) keep.push_back(p + 1);
    for (const std::int64_t p : m.drop) drop.push_back(p + 1);
    REQUIRE(ints(with.keep) == keep);
    REQUIRE(ints(with.drop) == drop);

    const RowSplit without = token_split(m, false);
    REQUIRE(ints(without.keep) == m.keep);
    REQUIRE(ints(without.drop) == m.drop);

    const RowSplit all = token_split(sample_mask(MaskKind::grid, 2, 3, 1.0, rng), true);
    REQUIRE(ints(all.keep) == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6});
    REQUIRE(all.drop.shape() == Shape{0});
}

TEST_CASE("intersect: opposite checkerboards share nothing, a mask with itself is itself", "[sbp][property]") {
    Rng rng(10);
    KeepMask a, b;
    do a = sample_mask(MaskKind::grid, 6, 6, 0.5, rng);
    while (phase_of(a, 2, true) != 0);
    do b = sample_mask(MaskKind::grid, 6, 6, 0.5, rng);
    while (phase_of(b, 2, true) != 1);
    const KeepMask none = intersect(a, b);
    require_partition(none);
    REQUIRE(none.keep.empty());
    REQUIRE(same(intersect(a, a), a));

    // Independent random masks: the intersection is exactly the common positions.
    const KeepMask x = sample_mask(MaskKind::random, 6, 6, 0.5, rng), y = sample_mask(MaskKind::random, 6, 6, 0.5, rng);
    const KeepMask both = intersect(x, y);
    require_partition(both);
    std::vector<std::int64_t> common;
    for (const std::int64_t p : x.keep)
        if (std::find(y.keep.begin(), y.keep.end(), p) != y.keep.end()) common.push_back(p);
    REQUIRE(both.keep == common);
    REQUIRE_THROWS_AS(intersect(a, sample_mask(MaskKind::grid, 6, 5, 0.5, rng)), std::invalid_argument);
}

TEST_CASE("the same seed gives the same masks", "[sbp]") {
    for (const MaskKind kind : {MaskKind::grid, MaskKind::random, MaskKind::fixed}) {
        Rng r1(99), r2(99);
        for (int step = 0; step < 20; ++step) {
            const double r = step % 2 ? 0.25 : 0.75;
            REQUIRE(same(sample_mask(kind, 14, 14, r, r1), sample_mask(kind, 14, 14, r, r2)));
        }
    }
}

TEST_CASE("to_string: one line per row, # kept and . dropped", "[sbp]") {
    Rng rng(0);
    REQUIRE(to_string(sample_mask(MaskKind::fixed, 3, 3, 0.5, rng)) == "#.#\n.#.\n#.#\n");
    REQUIRE(to_string(sample_mask(MaskKind::fixed, 2, 5, 1.0 / 3.0, rng)) == "#..#.\n..#..\n");
}

TEST_CASE("select_blocks: items over all blocks and within stages, bad ranges are refused by name", "[sbp]") {
    const std::vector<std::int64_t> stages = {2, 2, 4};  // 8 blocks
    const auto on = [&](const std::string& spec) {
        std::string bits;
        for (bool b : select_blocks(spec, stages)) bits += b ? '1' : '0';
        return bits;
    };
    CHECK(on("all") == "11111111");
    CHECK(on("none") == "00000000");
    CHECK(on("last:3") == "00000111");
    CHECK(on("first:1,5-6") == "10000110");
    CHECK(on("s1/all,s2/first:1") == "00111000");
    REQUIRE_THROWS_WITH(on("5-2"), Contains("'5-2' runs backwards"));
    REQUIRE_THROWS_WITH(on("2-8"), Contains("'2-8' is out of range (8 blocks there)"));
    REQUIRE_THROWS_WITH(on("s2/3-4"), Contains("out of range (4 blocks there)"));
    REQUIRE_THROWS_WITH(on("0-9223372036854775807"), Contains("expected a non-negative integer"));  // no overflow
    REQUIRE_THROWS_WITH(on("s3/all"), Contains("the model has 3 stages"));
}

TEST_CASE("kept_share: what a keep ratio really keeps, as the grid stride rounds it", "[sbp]") {
    CHECK(kept_share(MaskKind::grid, 0.3) == "1/3 of the positions on average");
    CHECK(kept_share(MaskKind::grid, 0.4) == "1/2 of the positions on average");  // round(2.5) = 2, to even
    CHECK(kept_share(MaskKind::fixed, 0.25) == "the positions with (i + j) mod 4 == 0");
    CHECK(kept_share(MaskKind::fixed, 0.75) == "the positions with (i + j) mod 4 != 0");
    CHECK(kept_share(MaskKind::grid, 0.75) == "3/4 of the positions on average");
    CHECK(kept_share(MaskKind::grid, 0.7) == "2/3 of the positions on average");   // round(1 / 0.3) = 3: drops 1 in 3
    CHECK(kept_share(MaskKind::random, 0.3) == "round(0.3 x positions)");
    CHECK(kept_share(MaskKind::grid, 1.0) == "every position");
    // The shares agree with the masks drawn: over every start t of a 7x7 grid, the kept fraction is 1/s.
    for (const double r : {0.3, 0.7}) {
        const double s = 3.0;  // round(1 / 0.3) = round(1 / (1 - 0.7)) = 3
        Rng rng(1);
        std::int64_t kept = 0, draws = 3000;
        for (std::int64_t i = 0; i < draws; ++i) kept += static_cast<std::int64_t>(sample_mask(MaskKind::grid, 7, 7, r, rng).keep.size());
        const double expected = r <= 0.5 ? 1.0 / s : (s - 1.0) / s;
        CHECK(static_cast<double>(kept) / static_cast<double>(draws * 49) == Approx(expected).margin(0.01));
    }
}

TEST_CASE("describe: blocks split, what the masks keep, schedules, attention", "[sbp]") {
    const std::vector<bool> last4{false, false, true, true, true, true};
    CHECK(describe(make_config(0.5, "grid", "", "uniform", false, "qkv", false), last4, true) ==
          "keep 0.5 on 4 of 6 blocks; grid mask keeps 1/2 of the positions on average; attention qkv");
    CHECK(describe(make_config(0.5, "grid", "", "increasing", true, "query", true), last4, true) ==
          "keep 0.5 on 4 of 6 blocks; keep ratios increasing from 0.25 to 0.75 over the blocks (grid mask); a mask per block; "
          "attention query, output projection split");
    CHECK(describe(make_config(0.3, "random", "", "uniform", false, "qkv", false), last4, false) ==
          "keep 0.3 on 4 of 6 blocks; random mask keeps round(0.3 x positions)");
    CHECK(describe(make_config(0.5, "grid", "none", "uniform", false, "qkv", false), std::vector<bool>(6, false), true) ==
          "keep 0.5 on none of 6 blocks (no block is split)");
}
