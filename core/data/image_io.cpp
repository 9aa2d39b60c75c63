// core/data/image_io.cpp — libjpeg's decompress and compress loops with its errors turned into exceptions, and
// libpng's simplified reader. libjpeg reports a fatal error by calling error_exit, which must not return: we
// longjmp back to the frame that called into libjpeg (no C++ object lives in the frames it skips) and throw there.
#include "core/data/image_io.h"

#include <csetjmp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

namespace bplab {
namespace {

struct ErrorJump {
    jpeg_error_mgr mgr;  // first member: libjpeg hands our handlers a pointer to it
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    bool truncated;
};

void jump_out(j_common_ptr info) {
    auto* e = reinterpret_cast<ErrorJump*>(info->err);
    e->mgr.format_message(info, e->message);
    std::longjmp(e->jump, 1);
}

/// Warnings (corrupt data libjpeg could step over) are ignored, as PIL ignores them, except a file that ends
/// early: libjpeg would fill the rest of the image with grey, where PIL refuses the file.
void note_warning(j_common_ptr info, int level) {
    auto* e = reinterpret_cast<ErrorJump*>(info->err);
    if (level < 0 && e->mgr.msg_code == JWRN_JPEG_EOF) e->truncated = true;
}

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File open_file(const std::string& path, const char* mode) {
    File f(std::fopen(path.c_str(), mode));
    if (!f) throw std::runtime_error(path + ": cannot open" + (mode[0] == 'r' ? "" : " for writing"));
    return f;
}

void check_pixels(const std::string& path, std::int64_t height, std::int64_t width) {
    if (height * width > kMaxImagePixels)
        throw std::runtime_error(path + ": " + std::to_string(height) + " x " + std::to_string(width) + " pixels (expected at most " +
                                 std::to_string(kMaxImagePixels) + ", PIL's limit against decompression bombs)");
}

/// Adobe's CMYK JPEGs store inverted ink values, so c·k/255 is the red (m, y: green, blue) of the pixel.
void cmyk_to_rgb(const std::uint8_t* cmyk, std::uint8_t* rgb, std::int64_t pixels) {
    for (std::int64_t i = 0; i < pixels; ++i, cmyk += 4, rgb += 3)
        for (int c = 0; c < 3; ++c) rgb[c] = static_cast<std::uint8_t>((cmyk[c] * cmyk[3] + 127) / 255);
}

// Returns false (with the message in `e`) when libjpeg gave up; `image` is then incomplete.
bool decode(std::FILE* f, jpeg_decompress_struct& info, ErrorJump& e, const std::string& path, Image& image,
            std::vector<std::uint8_t>& cmyk) {
    if (setjmp(e.jump)) return false;
    jpeg_create_decompress(&info);
    jpeg_stdio_src(&info, f);
    jpeg_read_header(&info, TRUE);
    check_pixels(path, info.image_height, info.image_width);
    const bool is_cmyk = info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK;
    info.out_color_space = is_cmyk ? JCS_CMYK : JCS_RGB;  // grey is expanded to RGB by libjpeg-turbo
    jpeg_start_decompress(&info);
    image.height = info.output_height;
    image.width = info.output_width;
    image.channels = 3;
    image.pixels.resize(static_cast<std::size_t>(image.height * image.width * 3));
    if (is_cmyk) cmyk.resize(static_cast<std::size_t>(image.width * info.output_components));
    while (info.output_scanline < info.output_height) {
        std::uint8_t* out = image.pixels.data() + static_cast<std::int64_t>(info.output_scanline) * image.width * 3;
        JSAMPROW row = is_cmyk ? cmyk.data() : out;
        jpeg_read_scanlines(&info, &row, 1);
        if (is_cmyk) cmyk_to_rgb(cmyk.data(), out, image.width);
    }
    jpeg_finish_decompress(&info);
    return true;
}

Image read_jpeg(std::FILE* f, const std::string& path) {
    jpeg_decompress_struct info{};
    ErrorJump e{};
    info.err = jpeg_std_error(&e.mgr);
    e.mgr.error_exit = jump_out;
    e.mgr.emit_message = note_warning;
    Image image;
    std::vector<std::uint8_t> cmyk;
    bool ok;
    try {  // a C++ exception from decode (too many pixels, out of memory) must still free libjpeg's pools
        ok = decode(f, info, e, path, image, cmyk);
    } catch (...) {
        jpeg_destroy_decompress(&info);
        throw;
    }
    jpeg_destroy_decompress(&info);
    if (!ok) throw std::runtime_error(path + ": not a readable JPEG: " + e.message);
    if (e.truncated) throw std::runtime_error(path + ": the JPEG is truncated (the file ends before the image does)");
    return image;
}

Image read_png(const std::string& path) {
    png_image png{};
    png.version = PNG_IMAGE_VERSION;
    const auto fail = [&](const std::string& what) {
        const std::string message = path + ": " + what + ": " + png.message;
        png_image_free(&png);
        return std::runtime_error(message);
    };
    if (!png_image_begin_read_from_file(&png, path.c_str())) throw fail("not a readable PNG");
    check_pixels(path, png.height, png.width);
    png.format = PNG_FORMAT_RGBA;  // 8 bits per channel; alpha is dropped below, as PIL's convert("RGB") does
    std::vector<std::uint8_t> rgba(PNG_IMAGE_SIZE(png));
    if (!png_image_finish_read(&png, nullptr, rgba.data(), 0, nullptr)) throw fail("not a readable PNG");
    Image image{.height = png.height, .width = png.width, .channels = 3, .pixels = {}};
    image.pixels.resize(static_cast<std::size_t>(image.height * image.width * 3));
    for (std::size_t p = 0, n = static_cast<std::size_t>(image.height * image.width); p < n; ++p)
        for (std::size_t c = 0; c < 3; ++c) image.pixels[3 * p + c] = rgba[4 * p + c];
    return image;
}

bool encode(std::FILE* f, jpeg_compress_struct& info, ErrorJump& e, const Image& image, int quality) {
    if (setjmp(e.jump)) return false;
    jpeg_create_compress(&info);
    jpeg_stdio_dest(&info, f);
    info.image_width = static_cast<JDIMENSION>(image.width);
    info.image_height = static_cast<JDIMENSION>(image.height);
    info.input_components = static_cast<int>(image.channels);
    info.in_color_space = image.channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality, TRUE);
    jpeg_start_compress(&info, TRUE);
    while (info.next_scanline < info.image_height) {
        auto* row = const_cast<JSAMPROW>(image.pixels.data() + static_cast<std::int64_t>(info.next_scanline) * image.width * image.channels);
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    return true;
}

}  // namespace

Image read_image(const std::string& path) {
    File f = open_file(path, "rb");
    unsigned char magic[8] = {};
    const std::size_t n = std::fread(magic, 1, sizeof magic, f.get());
    std::rewind(f.get());
    if (n >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF) return read_jpeg(f.get(), path);
    if (n == 8 && png_sig_cmp(magic, 0, 8) == 0) {
        f.reset();
        return read_png(path);
    }
    if (n == 0) throw std::runtime_error(path + ": the file is empty (expected a JPEG or PNG image)");
    if (n >= 3 && magic[0] == 'G' && magic[1] == 'I' && magic[2] == 'F')
        throw std::runtime_error(path + ": a GIF file (expected a JPEG or PNG image; convert it)");
    char start[16];
    std::snprintf(start, sizeof start, "0x%02x 0x%02x", magic[0], n > 1 ? magic[1] : 0);
    throw std::runtime_error(path + ": neither a JPEG nor a PNG file (it starts with " + start + ")");
}

void write_jpeg(const std::string& path, const Image& image, int quality) {
    if ((image.channels != 1 && image.channels != 3) || image.height < 1 || image.width < 1 || image.height > 65500 ||
        image.width > 65500 || static_cast<std::int64_t>(image.pixels.size()) != image.height * image.width * image.channels)
        throw std::invalid_argument(path + ": cannot write a " + std::to_string(image.height) + " x " + std::to_string(image.width) +
                                    " x " + std::to_string(image.channels) + " image of " + std::to_string(image.pixels.size()) +
                                    " bytes as JPEG (expected 1 or 3 channels, sides 1..65500, and that many bytes)");
    if (quality < 1 || quality > 100) throw std::invalid_argument(path + ": JPEG quality " + std::to_string(quality) + " (expected 1..100)");
    const std::string tmp = path + ".tmp";
    bool ok;
    ErrorJump e{};
    {
        File f = open_file(tmp, "wb");
        jpeg_compress_struct info{};
        info.err = jpeg_std_error(&e.mgr);
        e.mgr.error_exit = jump_out;
        ok = encode(f.get(), info, e, image, quality);
        jpeg_destroy_compress(&info);
        ok = ok && std::fclose(f.release()) == 0;
    }
    if (!ok) {
        std::filesystem::remove(tmp);
        throw std::runtime_error(path + ": writing the JPEG failed" + (e.message[0] ? std::string(": ") + e.message : ""));
    }
    std::filesystem::rename(tmp, path);
}

}  // namespace bplab
