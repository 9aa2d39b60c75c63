// core/data/image_io.cpp — libjpeg's and libpng's read loops (and libjpeg's write loop) with their errors turned
// into exceptions. Both report a fatal error through a handler that must not return: we longjmp back to the frame
// that called into the library (no C++ object lives in the frames it skips) and throw there.
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

struct PngError {
    std::jmp_buf jump;
    std::string message;
};

void png_jump_out(png_structp png, png_const_charp message) {
    auto* e = static_cast<PngError*>(png_get_error_ptr(png));
    e->message = message;
    std::longjmp(e->jump, 1);
}

void png_stay_quiet(png_structp, png_const_charp) {}

// Returns false (with the message in `e`) when libpng gave up. No gamma or colour-space conversion: 16-bit
// channels keep their high byte, palettes and grey become RGB, alpha and transparency are dropped (PIL's way).
bool decode_png(std::FILE* f, png_structp png, png_infop info, PngError& e, const std::string& path, Image& image,
                std::vector<png_bytep>& rows) {
    if (setjmp(e.jump)) return false;
    png_init_io(png, f);
    png_read_info(png, info);
    check_pixels(path, png_get_image_height(png, info), png_get_image_width(png, info));
    const int color = png_get_color_type(png, info);
    png_set_strip_16(png);
    png_set_packing(png);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) {
        png_set_expand_gray_1_2_4_to_8(png);
        png_set_gray_to_rgb(png);
    }
    if (color & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    image.height = png_get_image_height(png, info);
    image.width = png_get_image_width(png, info);
    image.channels = 3;
    if (png_get_rowbytes(png, info) != static_cast<png_size_t>(image.width * 3)) png_error(png, "unexpected row layout after conversion to RGB");
    image.pixels.resize(static_cast<std::size_t>(image.height * image.width * 3));
    rows.resize(static_cast<std::size_t>(image.height));
    for (std::int64_t r = 0; r < image.height; ++r) rows[static_cast<std::size_t>(r)] = image.pixels.data() + r * image.width * 3;
    png_read_image(png, rows.data());
    png_read_end(png, nullptr);
    return true;
}

Image read_png(std::FILE* f, const std::string& path) {
    PngError e;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &e, png_jump_out, png_stay_quiet);
    png_infop info = png ? png_create_info_struct(png) : nullptr;
    if (!info) {
        png_destroy_read_struct(&png, nullptr, nullptr);
        throw std::runtime_error(path + ": libpng could not start (out of memory?)");
    }
    Image image;
    std::vector<png_bytep> rows;
    bool ok;
    try {  // as for JPEGs: a C++ exception (too many pixels, out of memory) still frees libpng's state
        ok = decode_png(f, png, info, e, path, image, rows);
    } catch (...) {
        png_destroy_read_struct(&png, &info, nullptr);
        throw;
    }
    png_destroy_read_struct(&png, &info, nullptr);
    if (!ok)  // libpng's reader says "Read Error" when the file ends early
        throw std::runtime_error(path + (e.message == "Read Error" ? ": the PNG is truncated (the file ends before the image does)"
                                                                   : ": not a readable PNG: " + e.message));
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
    if (n == 8 && png_sig_cmp(magic, 0, 8) == 0) return read_png(f.get(), path);
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
