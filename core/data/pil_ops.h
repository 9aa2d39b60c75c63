// core/data/pil_ops.h — the 8-bit image operations of timm's RandAugment, each byte for byte as Pillow 9.4
// computes it (ImageOps, ImageEnhance, Image.rotate / transform), so that bplab's recipe is the published one.
#pragma once
#include <array>
#include <cstdint>

#include "core/data/image_io.h"
#include "core/data/resize.h"

namespace bplab::pil {

using Rgb = std::array<std::uint8_t, 3>;

// Every function takes an RGB image (height, width, 3) and throws std::invalid_argument for another channel count.

/// ImageOps.autocontrast: each channel stretched from its [min, max] to [0, 255] (truncating, as Pillow does).
void auto_contrast(Image& img);
/// ImageOps.equalize: each channel's histogram flattened (identity for a channel of one value).
void equalize(Image& img);
/// ImageOps.invert: 255 - v.
void invert(Image& img);
/// ImageOps.posterize: keep the top `bits` bits (0..8) of each value.
void posterize(Image& img, int bits);
/// ImageOps.solarize: values at or above `threshold` (0..256) inverted.
void solarize(Image& img, int threshold);
/// timm's solarize_add: `add` added (saturating at 255) to values below `threshold`.
void solarize_add(Image& img, int add, int threshold);

/// ImageEnhance's four enhancers: Image.blend(degenerate, img, factor), i.e. degenerate + factor · (img -
/// degenerate) in binary32, truncated, clamped outside [0, 1]. The degenerate image is the grey (L) image
/// (colour), its mean grey level (contrast), black (brightness), or ImageFilter.SMOOTH's blur (sharpness).
enum class Enhance { color, contrast, brightness, sharpness };
void enhance(Image& img, Enhance kind, double factor);

/// Image.transform(size, AFFINE, m, filter, fillcolor=fill) at the image's own size: the output pixel centred at
/// (X, Y) samples the input at (m0·X + m1·Y + m2, m3·X + m4·Y + m5); outside the image it is `fill`. The bicubic
/// filter here is Pillow's geometric one (a = -1), not its resize's (a = -0.5).
void affine(Image& img, const std::array<double, 6>& m, Filter filter, Rgb fill);
/// Image.rotate(degrees, filter, expand=False, fillcolor=fill): counter-clockwise about the image's centre.
void rotate(Image& img, double degrees, Filter filter, Rgb fill);

}  // namespace bplab::pil
