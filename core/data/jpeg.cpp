// core/data/jpeg.cpp — libjpeg's decompress and compress loops with its errors turned into exceptions.
// libjpeg reports a fatal error by calling error_exit, which must not return: we longjmp back to the frame that
// called into libjpeg (no C++ object lives in the frames it skips) and throw from there.
#include "core/data/jpeg.h"

#include <csetjmp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include <jpeglib.h>

namespace bplab {
namespace {

struct ErrorJump {
    jpeg_error_mgr mgr;  // first member: libjpeg hands our error_exit a pointer to it
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

void jump_out(j_common_ptr info) {
    auto* e = reinterpret_cast<ErrorJump*>(info->err);
    e->mgr.format_message(info, e->message);
    std::longjmp(e->jump, 1);
}

void stay_quiet(j_common_ptr) {}  // warnings (e.g. extra bytes after the image) are not errors, as in PIL

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File open_file(const std::string& path, const char* mode) {
    File f(std::fopen(path.c_str(), mode));
    if (!f) throw std::runtime_error(path + ": cannot open" + (mode[0] == 'r' ? "" : " for writing"));
    return f;
}

/// A clearer message than libjpeg's "Not a JPEG file: starts with 0x89 0x50" for the usual mix-ups.
std::string not_jpeg_hint(std::FILE* f) {
    unsigned char magic[4] = {};
    std::rewind(f);
    const std::size_t n = std::fread(magic, 1, 4, f);
    if (n >= 4 && magic[0] == 0x89 && magic[1] == 'P' && magic[2] == 'N' && magic[3] == 'G')
        return " (it is a PNG file; convert it to JPEG)";
    if (n >= 3 && magic[0] == 'G' && magic[1] == 'I' && magic[2] == 'F') return " (it is a GIF file; convert it to JPEG)";
    if (n == 0) return " (the file is empty)";
    return "";
}

/// Adobe's CMYK JPEGs store inverted ink values, so c·k/255 is the red (m, y: green, blue) of the pixel.
void cmyk_to_rgb(const std::uint8_t* cmyk, std::uint8_t* rgb, std::int64_t pixels) {
    for (std::int64_t i = 0; i < pixels; ++i, cmyk += 4, rgb += 3)
        for (int c = 0; c < 3; ++c) rgb[c] = static_cast<std::uint8_t>((cmyk[c] * cmyk[3] + 127) / 255);
}

// Returns false (with the message in `e`) when libjpeg gave up; `image` is then incomplete.
bool decode(std::FILE* f, jpeg_decompress_struct& info, ErrorJump& e, Image& image, std::vector<std::uint8_t>& cmyk) {
    if (setjmp(e.jump)) return false;
    jpeg_create_decompress(&info);
    jpeg_stdio_src(&info, f);
    jpeg_read_header(&info, TRUE);
    const bool is_cmyk = info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK;
    info.out_color_space = is_cmyk ? JCS_CMYK : JCS_RGB;  // grey is expanded to RGB by libjpeg-turbo
    jpeg_start_decompress(&info);
    image.height = info.output_height;
    image.width = info.output_width;
    image.channels = 3;
    image.pixels.resize(static_cast<std::size_t>(image.height * image.width * 3));
    const std::int64_t row_bytes = image.width * info.output_components;
    if (is_cmyk) cmyk.resize(static_cast<std::size_t>(row_bytes));
    while (info.output_scanline < info.output_height) {
        std::uint8_t* out = image.pixels.data() + static_cast<std::int64_t>(info.output_scanline) * image.width * 3;
        JSAMPROW row = is_cmyk ? cmyk.data() : out;
        jpeg_read_scanlines(&info, &row, 1);
        if (is_cmyk) cmyk_to_rgb(cmyk.data(), out, image.width);
    }
    jpeg_finish_decompress(&info);
    return true;
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

Image read_jpeg(const std::string& path) {
    const File f = open_file(path, "rb");
    jpeg_decompress_struct info{};
    ErrorJump e{};
    info.err = jpeg_std_error(&e.mgr);
    e.mgr.error_exit = jump_out;
    e.mgr.output_message = stay_quiet;
    Image image;
    std::vector<std::uint8_t> cmyk;
    const bool ok = decode(f.get(), info, e, image, cmyk);
    jpeg_destroy_decompress(&info);
    if (!ok) throw std::runtime_error(path + ": not a readable JPEG: " + e.message + not_jpeg_hint(f.get()));
    return image;
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
        const File f = open_file(tmp, "wb");
        jpeg_compress_struct info{};
        info.err = jpeg_std_error(&e.mgr);
        e.mgr.error_exit = jump_out;
        ok = encode(f.get(), info, e, image, quality);
        jpeg_destroy_compress(&info);
        ok = ok && std::fflush(f.get()) == 0 && !std::ferror(f.get());
    }
    if (!ok) {
        std::filesystem::remove(tmp);
        throw std::runtime_error(path + ": writing the JPEG failed" + (e.message[0] ? std::string(": ") + e.message : ""));
    }
    std::filesystem::rename(tmp, path);
}

}  // namespace bplab
