// core/data/mix.h — Mixup and CutMix of a training batch, as timm's Mixup does them in its "batch" mode: one λ per
// batch, each image mixed with its mirror in the batch (image B − 1 − i), the labels mixed with the same λ.
#pragma once
#include "core/rng.h"
#include "core/train/batch.h"

namespace bplab {

struct MixOptions {
    double mixup_alpha = 0.0;   ///< Mixup's λ ~ Beta(α, α); 0: off
    double cutmix_alpha = 0.0;  ///< CutMix's λ ~ Beta(α, α); 0: off
    double switch_prob = 0.5;   ///< with both on, the chance that a batch uses CutMix
    bool enabled() const { return mixup_alpha > 0 || cutmix_alpha > 0; }
};

/// Where CutMix pastes: rows [top, bottom) and columns [left, right) of an h × w image.
struct MixBox {
    std::int64_t top = 0, bottom = 0, left = 0, right = 0;
};

/// timm's rand_bbox: sides ⌊h·√(1 − λ)⌋ × ⌊w·√(1 − λ)⌋ around a uniformly drawn centre, clipped to the image.
MixBox cutmix_box(std::int64_t h, std::int64_t w, double lambda, Rng& rng);

/// Mixes the images (B, H, W, C) of a batch on their device and sets mix_y and mix_weight. Mixup: x ← λ x +
/// (1 − λ) x_mirror. CutMix: the box is taken from the mirror image, and λ becomes the share of pixels left,
/// 1 − area / (H·W). The draws (which of the two, λ, the box) come from `rng` on the host, in that order.
void mix_batch(Batch& batch, const MixOptions& options, Rng& rng);

}  // namespace bplab
