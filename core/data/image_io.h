// core/data/image_io.h — image files to and from 8-bit RGB pixels: JPEG through libjpeg-turbo, PNG through libpng.
// Read for ImageNet-style folders (whose few PNG and CMYK files come out as RGB too); JPEG written for tests.
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

/// The most pixels read_image accepts: PIL's limit (twice its MAX_IMAGE_PIXELS), beyond which a file is
/// more likely a decompression bomb than a photo.
inline constexpr std::int64_t kMaxImagePixels = 178956970;

/// Decodes a JPEG or PNG file, told apart by their first bytes (not the name), to RGB (height, width, 3), as
/// PIL's convert("RGB") does: grey is repeated over the channels, alpha dropped, and CMYK (or YCCK) JPEGs are
/// read as Adobe's inverted CMYK. Throws naming the file when it cannot be read, is another format, is
/// truncated (as PIL does) or has more than kMaxImagePixels pixels.
Image read_image(const std::string& path);

/// Encodes an RGB (3 channels) or greyscale (1) image as a baseline JPEG of the given quality (1..100),
/// atomically (temp file + rename).
void write_jpeg(const std::string& path, const Image& image, int quality = 95);

}  // namespace bplab
