// core/data/resize.h — antialiased bilinear resizing of 8-bit images to floats, with a crop of the result.
// The filter is PIL's (and torch's interpolate(..., antialias=True)): a triangle widened by the scale factor.
// It runs in floats, as torch's does; PIL rounds to 8 bits after each pass (at most one grey level apart).
#pragma once
#include <cstdint>

#include "core/data/image_io.h"

namespace bplab {

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

/// Writes the kept window of `src` resized, as floats (out_height, out_width, channels) in 0..255, to `out`.
/// Throws if a window lies outside its image.
void resize_crop(const Image& src, const ResizeCrop& plan, float* out);

}  // namespace bplab
