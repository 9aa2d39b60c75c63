// core/data/idx.cpp — IDX reading and writing through zlib, for MNIST's .gz files and their unpacked copies.
// zlib's gzread tells gzip (magic 0x1f 0x8b) from plain files itself, so one code path reads both.
#include "core/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string_view>

#include "core/tensor.h"

namespace bplab {
namespace {

using GzFile = std::unique_ptr<gzFile_s, int (*)(gzFile)>;
constexpr std::uint64_t most = std::numeric_limits<std::uint64_t>::max();

[[noreturn]] void fail(const std::string& path, const std::string& found, const std::string& expected) {
    throw std::runtime_error("idx: " + path + ": " + found + " (expected " + expected + ")");
}

std::string hex(std::uint32_t v, int digits) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%0*X", digits, v);
    return buf;
}

std::uint32_t read_be32(const std::uint8_t* p) {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | std::uint32_t{p[3]};
}

// What a well-formed but unwanted magic says about the file: its element type or its number of dimensions.
std::string magic_hint(std::uint32_t magic) {
    if (magic >> 16 != 0) return "";
    const unsigned type = magic >> 8 & 0xFF;
    if (type == 0x08) return ": " + std::to_string(magic & 0xFF) + "-D data";
    const char* name = type == 0x09   ? "int8"
                       : type == 0x0B ? "int16"
                       : type == 0x0C ? "int32"
                       : type == 0x0D ? "float32"
                       : type == 0x0E ? "float64"
                                      : nullptr;
    return name ? std::string(": ") + name + " data, only uint8 is supported" : "";
}

// Reads up to n bytes, fewer only at the end of the data; `pos` is where they start, for messages.
std::size_t read_some(gzFile gz, std::uint8_t* dst, std::size_t n, const std::string& path, std::uint64_t pos) {
    std::size_t got = 0;
    while (got < n) {
        const int r = gzread(gz, dst + got, static_cast<unsigned>(std::min<std::size_t>(n - got, 1u << 20)));
        const int read_errno = errno;
        int err = Z_OK;
        const char* message = gzerror(gz, &err);
        if (r < 0 || err != Z_OK) {
            if (err == Z_ERRNO)
                fail(path, "read error at byte " + std::to_string(pos + got) + ": " + std::strerror(read_errno),
                     "a readable file");
            std::string_view reason = message;  // zlib writes "<path>: <reason>"
            if (reason.starts_with(path + ": ")) reason.remove_prefix(path.size() + 2);
            fail(path, "corrupt gzip stream: " + std::string(reason), "a complete gzip file");
        }
        if (r == 0) break;
        got += static_cast<std::size_t>(r);
    }
    return got;
}

bool write_all(gzFile gz, const std::uint8_t* data, std::size_t n) {
    while (n > 0) {
        const int w = gzwrite(gz, data, static_cast<unsigned>(std::min<std::size_t>(n, 1u << 30)));
        if (w <= 0) return false;
        data += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

}  // namespace

IdxArray read_idx(const std::string& path, int expected_ndims) {
    if (expected_ndims < 1 || expected_ndims > 255)
        throw std::invalid_argument("idx: " + path + ": expected_ndims " + std::to_string(expected_ndims) +
                                    " is not in [1, 255]");
    errno = 0;
    const GzFile gz(gzopen(path.c_str(), "rb"), &gzclose);
    if (!gz) fail(path, std::string("cannot open: ") + std::strerror(errno), "an IDX file, plain or gzip");
    gzbuffer(gz.get(), 1u << 17);

    const auto nd = static_cast<std::size_t>(expected_ndims);
    const std::uint32_t want = 0x0800u | static_cast<std::uint32_t>(nd);
    const std::string want_text = hex(want, 8) + " for uint8 " + std::to_string(nd) + "-D IDX";
    std::vector<std::uint8_t> header(4 + 4 * nd);  // magic, then one big-endian u32 per dimension
    const std::size_t got_magic = read_some(gz.get(), header.data(), 4, path, 0);
    if (got_magic < 4)
        fail(path, "truncated header: " + std::to_string(got_magic) + " bytes", "a 4-byte magic " + want_text);
    const std::uint32_t magic = read_be32(header.data());
    if (magic != want) fail(path, "bad magic " + hex(magic, 8) + magic_hint(magic), want_text);
    const std::size_t got_dims = read_some(gz.get(), header.data() + 4, 4 * nd, path, 4);
    if (got_dims < 4 * nd)
        fail(path, "truncated header: " + std::to_string(4 + got_dims) + " bytes",
             std::to_string(header.size()) + ": the magic and " + std::to_string(nd) + " big-endian u32 dims");

    IdxArray out;
    std::uint64_t expected = 1;  // product of the dims, saturating
    for (std::size_t i = 0; i < nd; ++i) {
        const std::uint32_t d = read_be32(header.data() + 4 + 4 * i);
        out.dims.push_back(d);
        expected = d != 0 && expected > most / d ? most : expected * d;
    }
    out.data.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(expected, std::uint64_t{1} << 26)));
    std::vector<std::uint8_t> chunk(std::size_t{1} << 16);
    while (const std::size_t n = read_some(gz.get(), chunk.data(), chunk.size(), path, header.size() + out.data.size()))
        out.data.insert(out.data.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    if (out.data.size() != expected)
        throw std::runtime_error("idx: " + path + ": " +
                                 (out.data.size() < expected ? "truncated: " : "trailing data: ") +
                                 std::to_string(out.data.size()) + " bytes of data, expected " +
                                 std::to_string(expected) + " for dims " + shape_str(out.dims));
    return out;
}

void write_idx(const std::string& path, const IdxArray& array) {
    if (array.dims.empty() || array.dims.size() > 255)
        throw std::invalid_argument("idx: " + path + ": " + std::to_string(array.dims.size()) +
                                    " dims (expected 1 to 255)");
    std::vector<std::uint8_t> header = {0, 0, 0x08, static_cast<std::uint8_t>(array.dims.size())};
    std::uint64_t numel = 1;  // product of the dims, saturating
    for (const std::int64_t d : array.dims) {
        if (d < 0 || d > std::numeric_limits<std::uint32_t>::max())
            throw std::invalid_argument("idx: " + path + ": dims " + shape_str(array.dims) +
                                        " (expected each in [0, 2^32))");
        for (int shift = 24; shift >= 0; shift -= 8) header.push_back(static_cast<std::uint8_t>(d >> shift));
        numel = d != 0 && numel > most / static_cast<std::uint64_t>(d) ? most : numel * static_cast<std::uint64_t>(d);
    }
    if (numel != array.data.size())
        throw std::invalid_argument("idx: " + path + ": dims " + shape_str(array.dims) + " hold " +
                                    std::to_string(numel) + " bytes but the data has " +
                                    std::to_string(array.data.size()));

    const bool compress = path.ends_with(".gz");
    errno = 0;
    const gzFile gz = gzopen(path.c_str(), compress ? "wb" : "wbT");  // T: write through, uncompressed
    if (!gz) throw std::runtime_error("idx: " + path + ": cannot create: " + std::strerror(errno));
    const bool written =
        write_all(gz, header.data(), header.size()) && write_all(gz, array.data.data(), array.data.size());
    if (gzclose(gz) != Z_OK || !written)
        throw std::runtime_error("idx: " + path + ": write failed: " + std::strerror(errno));
}

}  // namespace bplab
