// core/data/jpeg.h — JPEG files to and from 8-bit RGB pixels, through libjpeg-turbo.
// Read for ImageNet-style folders (grey and CMYK files come out as RGB); written for test and benchmark images.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace bplab {

/// An 8-bit image, channels-last: pixels (height, width, channels), row-major.
struct Image {
    std::int64_t height = 0, width = 0, channels = 0;
    std::vector<std::uint8_t> pixels;
};

/// Decodes a JPEG file to RGB (height, width, 3). Greyscale files are repeated over the three channels; CMYK
/// (and YCCK) files are converted as Adobe's inverted CMYK, which is how such JPEGs store it. Throws naming the
/// file for one that cannot be read or is not a JPEG (a PNG saved as .JPEG is named as such).
Image read_jpeg(const std::string& path);

/// Encodes an RGB (3 channels) or greyscale (1) image as a baseline JPEG of the given quality (1..100),
/// atomically (temp file + rename).
void write_jpeg(const std::string& path, const Image& image, int quality = 95);

}  // namespace bplab
