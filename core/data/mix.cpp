// core/data/mix.cpp — Mixup and CutMix with the ops every backend has (gather_rows, scale, add, sub, mul), so they
// run where the batch is. Nothing here records a graph: a batch is data, not a function of parameters.
#include "core/data/mix.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "core/autograd.h"
#include "core/ops.h"

namespace bplab {

MixBox cutmix_box(std::int64_t h, std::int64_t w, double lambda, Rng& rng) {
    if (!(lambda >= 0.0 && lambda <= 1.0) || h < 1 || w < 1)
        throw std::invalid_argument("cutmix: lambda " + std::to_string(lambda) + " on " + std::to_string(h) + "x" + std::to_string(w) +
                                    " images (expected lambda in [0, 1] and sides >= 1)");
    const double cut = std::sqrt(1.0 - lambda);
    const auto cut_h = static_cast<std::int64_t>(static_cast<double>(h) * cut), cut_w = static_cast<std::int64_t>(static_cast<double>(w) * cut);
    const auto cy = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(h)));
    const auto cx = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(w)));
    return {.top = std::clamp<std::int64_t>(cy - cut_h / 2, 0, h), .bottom = std::clamp<std::int64_t>(cy + cut_h / 2, 0, h),
            .left = std::clamp<std::int64_t>(cx - cut_w / 2, 0, w), .right = std::clamp<std::int64_t>(cx + cut_w / 2, 0, w)};
}

void mix_batch(Batch& batch, const MixOptions& o, Rng& rng) {
    if (!o.enabled()) return;
    const Tensor& x = batch.x;
    if (x.dim() != 4)
        throw std::invalid_argument("mix: images of shape " + shape_str(x.shape()) + " (expected (B, H, W, C) for Mixup and CutMix)");
    if (o.mixup_alpha < 0 || o.cutmix_alpha < 0 || o.switch_prob < 0 || o.switch_prob > 1)
        throw std::invalid_argument("mix: alphas " + std::to_string(o.mixup_alpha) + ", " + std::to_string(o.cutmix_alpha) +
                                    ", switch probability " + std::to_string(o.switch_prob) + " (expected alphas >= 0, a probability)");
    NoGradGuard no_grad;
    const bool cutmix = o.cutmix_alpha > 0 && (o.mixup_alpha <= 0 || rng.uniform() < o.switch_prob);
    const double alpha = cutmix ? o.cutmix_alpha : o.mixup_alpha;
    double lambda = rng.beta(alpha, alpha);
    const std::int64_t b = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3);
    std::vector<std::int64_t> mirror(static_cast<std::size_t>(b));
    for (std::int64_t i = 0; i < b; ++i) mirror[static_cast<std::size_t>(i)] = b - 1 - i;
    const Tensor order = Tensor::from_indices(mirror, {b});
    const Tensor other = gather_rows(x, order, 0);  // (B, H, W, C)
    if (cutmix) {
        const MixBox box = cutmix_box(h, w, lambda, rng);
        std::vector<double> inside(static_cast<std::size_t>(h * w * c), 0.0);  // (H, W, C): 1 in the box
        for (std::int64_t i = box.top; i < box.bottom; ++i)
            std::fill_n(inside.begin() + (i * w + box.left) * c, (box.right - box.left) * c, 1.0);
        const Tensor mask = Tensor::from_vector(inside, {h, w, c}, x.dtype()).to(x.device());
        batch.x = add(x, mul(sub(other, x), mask));
        lambda = 1.0 - static_cast<double>((box.bottom - box.top) * (box.right - box.left)) / static_cast<double>(h * w);
    } else {
        batch.x = add(scale(x, lambda), scale(other, 1.0 - lambda));
    }
    batch.mix_y = gather_rows(batch.y, order.to(batch.y.device()), 0);
    batch.mix_weight = lambda;
}

}  // namespace bplab
