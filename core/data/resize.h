// core/data/resize.h — antialiased bilinear or bicubic resizing of 8-bit images to floats, with a crop of the result.
// The filters are PIL's (and torch's interpolate(..., antialias=True)): a triangle or a cubic widened by the scale
// factor. It runs in floats, as torch's does; PIL rounds to 8 bits after each pass (about one grey level apart).
#pragma once
#include <cstdint>
#include <string>

#include "core/data/image_io.h"

namespace bplab {

/// The resampling filter: PIL's BILINEAR (a triangle of radius 1) or BICUBIC (Keys' cubic with a = -0.5, radius 2),
/// each widened by the scale factor when shrinking. torchvision's default is bilinear; timm's recipes (DeiT,
/// ConvNeXt) use bicubic.
enum class Filter { bilinear, bicubic };

/// "bilinear" or "bicubic", and back; parse_filter throws naming `what` and the text otherwise.
const char* filter_name(Filter f);
Filter parse_filter(const std::string& text, const std::string& what);

/// A source window of an image, the size it is resized to, and the window of that resized image to keep.
/// RandomResizedCrop keeps all of it (out = resized); Resize + CenterCrop resizes the whole image and keeps the
/// centre. The filter reads only source pixels inside the window.
struct ResizeCrop {
    std::int64_t top = 0, left = 0, height = 0, width = 0;  ///< source window
    std::int64_t resized_height = 0, resized_width = 0;     ///< what the window is resized to
    std::int64_t out_top = 0, out_left = 0;                 ///< first kept row and column of the resized image
    std::int64_t out_height = 0, out_width = 0;             ///< kept rows and columns
    bool flip = false;                                      ///< mirror the kept window left-right
};

/// Writes the kept window of `src` resized with `filter`, as floats (out_height, out_width, channels) in 0..255,
/// to `out`. Bicubic overshoots at edges: as PIL clips each pass to 8 bits, each pass is clamped to 0..255.
/// Throws if a window lies outside its image.
void resize_crop(const Image& src, const ResizeCrop& plan, float* out, Filter filter = Filter::bilinear);

}  // namespace bplab
