// layers/sbp/mask.h — which token positions keep their autograd graph in one SBP step.
// Grid masks follow the published rule ((i + j) mod s == t); see docs/derivations/sbp-masks.md.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"

namespace bplab::sbp {

/// How the kept positions are chosen each step.
/// - grid: diagonal stripes (i + j) mod s == t with a fresh random start t every step (the paper's default);
/// - random: a uniform sample of positions;
/// - fixed: the grid rule with t = 0 every step (the ablation the paper warns against).
enum class MaskKind { grid, random, fixed };

/// "grid" | "random" | "fixed"; anything else throws std::invalid_argument naming the text and the choices.
MaskKind parse_mask_kind(const std::string& text);
/// The inverse of parse_mask_kind ("grid", "random", "fixed"), for logs and JSONL records.
std::string to_string(MaskKind kind);

/// Which positions of an h×w grid keep their graph in one step (row-major indices i*w + j, ascending).
struct KeepMask {
    std::int64_t h = 0, w = 0;
    std::vector<std::int64_t> keep, drop;  ///< disjoint, ascending, together 0..h*w-1
    /// keep.size() / (h*w): the ratio actually kept (grid strides and random counts are rounded).
    double ratio() const;
};

/// Throws std::invalid_argument "sbp: WHAT: keep ratio R must be in (0, 1]" unless 0 < r <= 1
/// (NaN included). `what` says where the ratio came from (an option, a block); empty leaves it out.
void check_keep_ratio(double r, const std::string& what);

/// What a keep ratio really keeps, for logs: "1/3 of the positions on average" (a grid mask with r = 0.3: the
/// stride rounds it; averaged over the random start), "the positions with (i + j) mod 3 == 0" (fixed: its
/// share depends on the grid), "round(0.3 x positions)" (random), "every position" (r = 1).
std::string kept_share(MaskKind kind, double r);
/// The shortest text that reads back as r (1.0000001 does not print as 1), for messages and logs.
std::string ratio_text(double r);

/// Draws the mask of one step over an h×w grid with keep ratio r (0 < r <= 1).
///
/// - grid, r <= 0.5: s = round(1/r), t uniform in [0, s) (one rng.below(s) draw), keep (i + j) mod s == t.
/// - grid, 0.5 < r < 1: s = round(1/(1 − r)), keep (i + j) mod s != t.
/// - fixed: the grid rule with t = 0 every time (no draw).
/// - random: a uniform sample of round(r·h·w) positions (at least 1), via rng.permutation(h*w).
/// - r == 1: keeps everything for every kind, with no draw.
///
/// "round" is round-half-to-even, as numpy's np.round in the published code: r = 0.4 gives
/// s = round(2.5) = 2, i.e. it keeps 1/2. Ratios are rounded through the stride: r = 0.3 keeps 1/3.
/// A grid stride larger than the longest diagonal index (s > h + w − 1) can keep nothing for some t;
/// like the published code, this is not corrected here.
KeepMask sample_mask(MaskKind kind, std::int64_t h, std::int64_t w, double r, Rng& rng);

/// Block-upsampling: every cell of `base` becomes a factor×factor block of the same state (for multi-stage
/// models: one base mask at the coarsest SBP resolution, e.g. 14×14 → 28×28 (factor 2) → 56×56 (factor 4)).
/// The ratio is preserved exactly. factor must be >= 1.
KeepMask upsample(const KeepMask& base, std::int64_t factor);

/// Row indices for gather_rows/interleave_rows, as 1-D i64 CPU tensors.
struct RowSplit {
    Tensor keep, drop;
};

/// Token indices for a sequence of positions. With a class token at row 0 (ViT):
/// keep = {0} ∪ {1 + p for p in mask.keep}, drop = {1 + p for p in mask.drop}; the class token is always kept.
/// Without: keep = mask.keep, drop = mask.drop. Both ascending; drop may be empty (shape (0)). The index
/// tensors stay on the CPU for a model on any device: the row ops check them there and upload them without
/// waiting for the GPU (see detail::row_indices).
RowSplit token_split(const KeepMask& mask, bool class_token);

/// Intersection of keep sets (for the independent-mask study of Eq. 10); drop is the complement.
/// a and b must have the same h and w.
KeepMask intersect(const KeepMask& a, const KeepMask& b);

/// ASCII picture, one line of w characters per row, each ending in '\n' ("#" keep, "." drop),
/// for docs and debugging.
std::string to_string(const KeepMask& m);

}  // namespace bplab::sbp
