// core/data/imagenet.h — ImageNet's channel statistics, shared by the image folders' normalisation and RandAugment's
// fill colour (timm derives both from the same means).
#pragma once

namespace bplab {

/// ImageNet's channel means and standard deviations of pixels scaled to [0, 1] (R, G, B).
inline constexpr float kImagenetMean[3] = {0.485f, 0.456f, 0.406f};
inline constexpr float kImagenetStd[3] = {0.229f, 0.224f, 0.225f};

}  // namespace bplab
