// layers/sbp/mask.cpp — the grid, fixed and random mask samplers, block upsampling and the token split.
// Strides round half to even like the published code's np.round, so bplab draws the same patterns.
#include "layers/sbp/mask.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <stdexcept>

#include "core/round.h"

namespace bplab::sbp {
namespace {

void check_grid(std::int64_t h, std::int64_t w, const char* op) {
    if (h <= 0 || w <= 0)
        throw std::invalid_argument(std::string("sbp: ") + op + ": grid " + std::to_string(h) + "x" + std::to_string(w) +
                                    " must have h > 0 and w > 0");
}

/// Fills keep/drop from a predicate over (i, j), in row-major order (so both come out ascending).
template <class Keep>
KeepMask build(std::int64_t h, std::int64_t w, Keep kept) {
    KeepMask m;
    m.h = h;
    m.w = w;
    for (std::int64_t i = 0; i < h; ++i)
        for (std::int64_t j = 0; j < w; ++j) (kept(i, j) ? m.keep : m.drop).push_back(i * w + j);
    return m;
}

/// Whether the grid rule keeps one diagonal in s (r <= 0.5) or drops one diagonal in s.
bool sparse_grid(double r) { return r <= 0.5; }

/// The grid rule's stride s, capped at 2^53 so that a tiny ratio cannot overflow the integer stride (its mask
/// is mostly empty anyway).
std::int64_t grid_stride(double r) { return round_half_even(std::min(sparse_grid(r) ? 1.0 / r : 1.0 / (1.0 - r), 0x1p53)); }

/// The grid rule; t is drawn uniformly in [0, s) from rng, or 0 when rng is null (the fixed mask).
KeepMask grid_mask(std::int64_t h, std::int64_t w, double r, Rng* rng) {
    const bool sparse = sparse_grid(r);
    const std::int64_t s = grid_stride(r);
    const std::int64_t t = rng ? static_cast<std::int64_t>(rng->below(static_cast<std::uint64_t>(s))) : 0;
    return build(h, w, [sparse, s, t](std::int64_t i, std::int64_t j) { return ((i + j) % s == t) == sparse; });
}

}  // namespace

std::string ratio_text(double r) {
    char text[32];  // the shortest text that reads back as r: 1.0000001 must not print as 1
    const auto end = std::to_chars(text, text + sizeof text, r).ptr;
    return std::string(text, end);
}

std::string kept_share(MaskKind kind, double r) {
    check_keep_ratio(r, "kept_share");
    if (r == 1.0) return "every position";
    if (kind == MaskKind::random) return "round(" + ratio_text(r) + " x positions)";
    const std::int64_t s = grid_stride(r);
    if (kind == MaskKind::fixed)
        return std::string("the positions with (i + j) mod ") + std::to_string(s) + (sparse_grid(r) ? " == 0" : " != 0");
    return (sparse_grid(r) ? "1/" : std::to_string(s - 1) + "/") + std::to_string(s) + " of the positions on average";
}

MaskKind parse_mask_kind(const std::string& text) {
    if (text == "grid") return MaskKind::grid;
    if (text == "random") return MaskKind::random;
    if (text == "fixed") return MaskKind::fixed;
    throw std::invalid_argument("sbp: unknown mask kind '" + text + "' (expected grid, random or fixed)");
}

std::string to_string(MaskKind kind) {
    switch (kind) {
        case MaskKind::grid: return "grid";
        case MaskKind::random: return "random";
        case MaskKind::fixed: return "fixed";
    }
    throw std::invalid_argument("sbp: to_string: bad MaskKind value " + std::to_string(static_cast<int>(kind)));
}

double KeepMask::ratio() const {
    if (h <= 0 || w <= 0) throw std::logic_error("KeepMask::ratio: empty grid " + std::to_string(h) + "x" + std::to_string(w));
    return static_cast<double>(keep.size()) / static_cast<double>(h * w);
}

void check_keep_ratio(double r, const std::string& what) {
    if (r > 0.0 && r <= 1.0) return;  // false for NaN
    throw std::invalid_argument("sbp: " + (what.empty() ? std::string() : what + ": ") + "keep ratio " + ratio_text(r) +
                                " must be in (0, 1]");
}

KeepMask sample_mask(MaskKind kind, std::int64_t h, std::int64_t w, double r, Rng& rng) {
    check_keep_ratio(r, "sample_mask");
    check_grid(h, w, "sample_mask");
    if (r == 1.0) return build(h, w, [](std::int64_t, std::int64_t) { return true; });
    switch (kind) {
        case MaskKind::grid: return grid_mask(h, w, r, &rng);
        case MaskKind::fixed: return grid_mask(h, w, r, nullptr);
        case MaskKind::random: {
            const std::int64_t n = h * w;
            const std::int64_t count = std::clamp<std::int64_t>(round_half_even(r * static_cast<double>(n)), 1, n);
            std::vector<std::int64_t> perm = rng.permutation(n);
            std::vector<char> kept(static_cast<std::size_t>(n), 0);
            for (std::int64_t k = 0; k < count; ++k) kept[static_cast<std::size_t>(perm[static_cast<std::size_t>(k)])] = 1;
            return build(h, w, [&kept, w](std::int64_t i, std::int64_t j) { return kept[static_cast<std::size_t>(i * w + j)] != 0; });
        }
    }
    throw std::invalid_argument("sbp: sample_mask: bad MaskKind value " + std::to_string(static_cast<int>(kind)));
}

KeepMask upsample(const KeepMask& base, std::int64_t factor) {
    if (factor < 1) throw std::invalid_argument("sbp: upsample: factor " + std::to_string(factor) + " must be >= 1");
    check_grid(base.h, base.w, "upsample");
    std::vector<char> kept(static_cast<std::size_t>(base.h * base.w), 0);
    for (const std::int64_t p : base.keep) kept.at(static_cast<std::size_t>(p)) = 1;
    const std::int64_t bw = base.w;
    return build(base.h * factor, base.w * factor, [&kept, bw, factor](std::int64_t i, std::int64_t j) {
        return kept[static_cast<std::size_t>((i / factor) * bw + j / factor)] != 0;
    });
}

RowSplit token_split(const KeepMask& mask, bool class_token) {
    const std::int64_t shift = class_token ? 1 : 0;
    std::vector<std::int64_t> keep, drop;
    keep.reserve(mask.keep.size() + 1);
    drop.reserve(mask.drop.size());
    if (class_token) keep.push_back(0);
    for (const std::int64_t p : mask.keep) keep.push_back(p + shift);
    for (const std::int64_t p : mask.drop) drop.push_back(p + shift);
    const auto len = [](const std::vector<std::int64_t>& v) { return static_cast<std::int64_t>(v.size()); };
    return {Tensor::from_indices(keep, {len(keep)}), Tensor::from_indices(drop, {len(drop)})};
}

KeepMask intersect(const KeepMask& a, const KeepMask& b) {
    if (a.h != b.h || a.w != b.w)
        throw std::invalid_argument("sbp: intersect: grids " + std::to_string(a.h) + "x" + std::to_string(a.w) + " and " +
                                    std::to_string(b.h) + "x" + std::to_string(b.w) + " differ");
    KeepMask m;
    m.h = a.h;
    m.w = a.w;
    std::set_intersection(a.keep.begin(), a.keep.end(), b.keep.begin(), b.keep.end(), std::back_inserter(m.keep));
    std::int64_t next = 0;  // drop = 0..h*w-1 minus keep, ascending
    for (const std::int64_t p : m.keep) {
        for (; next < p; ++next) m.drop.push_back(next);
        next = p + 1;
    }
    for (; next < m.h * m.w; ++next) m.drop.push_back(next);
    return m;
}

std::string to_string(const KeepMask& m) {
    std::string out(static_cast<std::size_t>(m.h * (m.w + 1)), '.');
    for (std::int64_t i = 0; i < m.h; ++i) out[static_cast<std::size_t>(i * (m.w + 1) + m.w)] = '\n';
    for (const std::int64_t p : m.keep) out.at(static_cast<std::size_t>((p / m.w) * (m.w + 1) + p % m.w)) = '#';
    return out;
}

}  // namespace bplab::sbp
