// core/data/rand_augment.h — timm's RandAugment (the SBP paper's "rand-m9-mstd0.5-inc1", from DeiT and ConvNeXt):
// a few of fifteen Pillow operations, at a noisy magnitude, on each 8-bit training crop.
#pragma once
#include <string>

#include "core/data/image_io.h"
#include "core/data/resize.h"
#include "core/rng.h"

namespace bplab {

/// A RandAugment policy, as timm's spec string gives it: "rand" then dash-separated keys, e.g.
/// "rand-m9-mstd0.5-inc1" (m: magnitude of 10, n: operations per image, p: probability of each,
/// mstd: the magnitude's Gaussian noise, above 100 uniform in [0, m], mmax: its upper clip, inc1: the
/// operations whose strength grows with the magnitude).
struct RandAugment {
    std::string spec = "rand";  ///< as given
    int ops = 2;
    double magnitude = 10.0, magnitude_std = 0.0, magnitude_max = 10.0, prob = 0.5;
    bool increasing = false;

    /// In words, e.g. "2 ops per image from 15 (increasing set), each with p 0.5, magnitude 9 ± 0.5 clipped to 0..10".
    std::string describe() const;
};

/// Parses a timm spec; throws naming `what` (e.g. "--rand-augment"), the text and what was expected.
/// timm reads any "inc" value, "inc0" too, as inc1: here inc0 is refused rather than guessed.
RandAugment parse_rand_augment(const std::string& spec, const std::string& what);

/// One of the fifteen operations, in timm's order (the two sets differ in Posterize, Solarize and the four
/// enhancers, whose strength grows with the magnitude in the increasing set and not in the other).
enum class AugmentOp {
    auto_contrast, equalize, invert, rotate, posterize, solarize, solarize_add,
    color, contrast, brightness, sharpness, shear_x, shear_y, translate_x, translate_y,
};
inline constexpr int kAugmentOps = 15;
/// The largest magnitude (and clip) taken: timm's levels are made for 0..10; beyond 100 the arguments lose meaning.
inline constexpr double kMaxMagnitude = 100.0;
const char* augment_op_name(AugmentOp op);

/// Applies `op` at magnitude `m` (0..kMaxMagnitude, of 10) as timm's level functions map it; `negate` flips the sign
/// of the signed ones (rotate, shear, translate, and the increasing enhancers). Geometric operations resample
/// with `filter` and fill with ImageNet's mean colour (124, 116, 104).
void apply_augment_op(Image& img, AugmentOp op, double m, bool negate, bool increasing, Filter filter);

/// RandAugment on an RGB image: `ops` operations drawn with replacement, each applied with probability p at
/// magnitude clip(N(m, mstd), 0, mmax), with a fair sign; draws in timm's order, from `rng`.
void rand_augment(Image& img, const RandAugment& policy, Filter filter, Rng& rng);

}  // namespace bplab
