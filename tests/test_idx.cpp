// tests/test_idx.cpp — IDX files (MNIST's format): plain and gzip round trips, the byte layout, and bad files.
// Bad files are written byte by byte (or gzip'ed with zlib directly) so the reader is checked apart from the writer.
#include <unistd.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "core/data/idx.h"
#include "core/data/idx_dataset.h"
#include "tests/test_helpers.h"

using namespace bplab;
using bplab::test::TempDir;
namespace fs = std::filesystem;
using Catch::Contains;
using Bytes = std::vector<std::uint8_t>;

namespace {

void write_bytes(const std::string& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

void write_gzip(const std::string& path, const Bytes& bytes) {
    const gzFile gz = gzopen(path.c_str(), "wb");
    REQUIRE(gz != nullptr);
    REQUIRE(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
    REQUIRE(gzclose(gz) == Z_OK);
}

Bytes read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    const std::string text = s.str();
    return Bytes(text.begin(), text.end());
}

// Header bytes: magic 0x0000 0x08 ndims, then big-endian u32 dims.
Bytes idx_header(std::uint8_t type, const std::vector<std::uint32_t>& dims) {
    Bytes h = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
    for (const std::uint32_t d : dims)
        for (int shift = 24; shift >= 0; shift -= 8) h.push_back(static_cast<std::uint8_t>(d >> shift));
    return h;
}

Bytes concat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

IdxArray pattern(std::vector<std::int64_t> dims) {
    std::int64_t n = 1;
    for (const auto d : dims) n *= d;
    IdxArray a{std::move(dims), Bytes(static_cast<std::size_t>(n))};
    for (std::size_t i = 0; i < a.data.size(); ++i) a.data[i] = static_cast<std::uint8_t>(i * 7 + i / 300);
    return a;
}

}  // namespace

TEST_CASE("idx: a uint8 3-D array is written as magic 0x00000803, big-endian dims, raw bytes, and read back", "[idx]") {
    TempDir dir;
    const std::string path = dir.path("images-idx3-ubyte");
    const IdxArray a = pattern({2, 3, 4});
    write_idx(path, a);
    CHECK(read_bytes(path) == concat(idx_header(0x08, {2, 3, 4}), a.data));
    const IdxArray b = read_idx(path, 3);
    CHECK(b.dims == a.dims);
    CHECK(b.data == a.data);
}

TEST_CASE("idx: .gz files are written gzip-compressed and read back transparently", "[idx]") {
    TempDir dir;
    const std::string path = dir.path("train-images-idx3-ubyte.gz");
    const IdxArray a = pattern({100, 28, 28});
    write_idx(path, a);
    const Bytes raw = read_bytes(path);
    REQUIRE(raw.size() > 2);
    CHECK(raw[0] == 0x1f);
    CHECK(raw[1] == 0x8b);
    CHECK(raw.size() < a.data.size());
    const IdxArray b = read_idx(path, 3);
    CHECK(b.dims == a.dims);
    CHECK(b.data == a.data);
}

TEST_CASE("idx: hand-written label files, plain and gzip'ed with zlib directly, and an empty array", "[idx]") {
    TempDir dir;
    const Bytes labels = concat(idx_header(0x08, {5}), {3, 1, 4, 1, 5});
    write_bytes(dir.path("labels"), labels);
    write_gzip(dir.path("labels.gz"), labels);
    for (const char* name : {"labels", "labels.gz"}) {
        INFO(name);
        const IdxArray a = read_idx(dir.path(name), 1);
        CHECK(a.dims == std::vector<std::int64_t>{5});
        CHECK(a.data == Bytes{3, 1, 4, 1, 5});
    }
    write_idx(dir.path("empty.gz"), IdxArray{{0, 28, 28}, {}});
    const IdxArray empty = read_idx(dir.path("empty.gz"), 3);
    CHECK(empty.dims == std::vector<std::int64_t>{0, 28, 28});
    CHECK(empty.data.empty());
}

TEST_CASE("idx: a wrong magic names the file, the magic found and the one expected", "[idx]") {
    TempDir dir;
    const std::string path = dir.path("x-idx3-ubyte");
    write_bytes(path, concat(Bytes{0, 0, 0, 0}, Bytes(100)));
    REQUIRE_THROWS_WITH(read_idx(path, 3),
                        "idx: " + path + ": bad magic 0x00000000 (expected 0x00000803 for uint8 3-D IDX)");

    write_bytes(path, concat(idx_header(0x08, {5}), Bytes(5)));
    REQUIRE_THROWS_WITH(read_idx(path, 3),
                        "idx: " + path + ": bad magic 0x00000801: 1-D data (expected 0x00000803 for uint8 3-D IDX)");

    write_bytes(path, concat(idx_header(0x0D, {1, 1, 1}), Bytes(4)));
    REQUIRE_THROWS_WITH(read_idx(path, 3), Contains("bad magic 0x00000D03: float32 data, only uint8 is supported"));

    write_bytes(path, Bytes{'h', 'e', 'l', 'l', 'o'});
    REQUIRE_THROWS_WITH(read_idx(path, 1),
                        "idx: " + path + ": bad magic 0x68656C6C (expected 0x00000801 for uint8 1-D IDX)");
}

TEST_CASE("idx: a missing file or a truncated header fails naming the file", "[idx]") {
    TempDir dir;
    const std::string path = dir.path("short");
    REQUIRE_THROWS_WITH(read_idx(dir.path("missing"), 3),
                        Contains("idx: " + dir.path("missing") + ": cannot open: No such file or directory"));

    write_bytes(path, Bytes{0, 0});
    REQUIRE_THROWS_WITH(
        read_idx(path, 3),
        "idx: " + path + ": truncated header: 2 bytes (expected a 4-byte magic 0x00000803 for uint8 3-D IDX)");

    write_bytes(path, Bytes{});
    REQUIRE_THROWS_WITH(read_idx(path, 1), Contains("truncated header: 0 bytes"));

    REQUIRE_THROWS_WITH(read_idx(dir.path(""), 1), Contains("read error at byte 0: Is a directory"));

    write_bytes(path, concat(Bytes{0, 0, 8, 3}, Bytes{0, 0, 0, 10, 0, 0}));
    REQUIRE_THROWS_WITH(
        read_idx(path, 3),
        "idx: " + path + ": truncated header: 10 bytes (expected 16: the magic and 3 big-endian u32 dims)");
}

TEST_CASE("idx datasets: a data folder that is missing, or is a file, is named as such", "[idx]") {
    TempDir dir;
    write_bytes(dir.path("afile"), Bytes{1});
    const IdxDatasetSpec& spec = idx_dataset_spec("mnist");
    REQUIRE_THROWS_WITH(load_idx_dataset(dir.path("afile"), spec), Contains("'" + dir.path("afile") + "' is not a folder"));
    REQUIRE_THROWS_WITH(load_idx_dataset(dir.path("none"), spec), Contains("'" + dir.path("none") + "' does not exist"));
}

TEST_CASE("idx: data shorter or longer than the dims say fails with both sizes and the dims", "[idx]") {
    TempDir dir;
    const std::string path = dir.path("images");
    write_bytes(path, concat(idx_header(0x08, {10, 28, 28}), Bytes(1000)));
    REQUIRE_THROWS_WITH(read_idx(path, 3),
                        "idx: " + path + ": truncated: 1000 bytes of data, expected 7840 for dims (10, 28, 28)");

    write_bytes(path, concat(idx_header(0x08, {10, 28, 28}), Bytes(7850)));
    REQUIRE_THROWS_WITH(read_idx(path, 3),
                        "idx: " + path + ": trailing data: 7850 bytes of data, expected 7840 for dims (10, 28, 28)");

    write_gzip(path + ".gz", concat(idx_header(0x08, {3}), Bytes(2)));
    REQUIRE_THROWS_WITH(read_idx(path + ".gz", 1),
                        Contains(path + ".gz: truncated: 2 bytes of data, expected 3 for dims (3,)"));

    write_bytes(path, idx_header(0x08, {4294967295u, 4294967295u, 4294967295u}));
    REQUIRE_THROWS_WITH(read_idx(path, 3), Contains("truncated: 0 bytes of data, expected 18446744073709551615"));
}

TEST_CASE("idx: a corrupt or cut gzip stream fails naming the file and zlib's reason", "[idx]") {
    TempDir dir;
    const std::string good = dir.path("good.gz"), bad = dir.path("bad.gz");
    write_idx(good, pattern({20, 28, 28}));
    const Bytes gz = read_bytes(good);

    write_bytes(bad, Bytes(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(gz.size() / 2)));
    REQUIRE_THROWS_WITH(
        read_idx(bad, 3),
        "idx: " + bad + ": corrupt gzip stream: unexpected end of file (expected a complete gzip file)");

    Bytes wrong_crc = gz;
    wrong_crc[wrong_crc.size() - 8] ^= 0xFF;  // the CRC-32 in the gzip trailer
    write_bytes(bad, wrong_crc);
    REQUIRE_THROWS_WITH(read_idx(bad, 3), Contains("idx: " + bad + ": corrupt gzip stream: incorrect data check"));

    Bytes garbled = gz;
    for (std::size_t i = 20; i < 60; ++i) garbled[i] = static_cast<std::uint8_t>(garbled[i] ^ 0x5A);
    write_bytes(bad, garbled);
    REQUIRE_THROWS_WITH(read_idx(bad, 3), Contains("idx: " + bad + ": corrupt gzip stream"));

    write_bytes(bad, Bytes{0x1f, 0x8b, 0x08, 0x00, 'n', 'o', 't', ' ', 'g', 'z', 'i', 'p'});
    REQUIRE_THROWS_WITH(read_idx(bad, 3), Contains("idx: " + bad + ": corrupt gzip stream"));
}

TEST_CASE("idx: write_idx refuses dims that do not match the data", "[idx]") {
    TempDir dir;
    const std::string path = dir.path("w");
    REQUIRE_THROWS_WITH(write_idx(path, IdxArray{{2, 3, 4}, Bytes(23)}),
                        "idx: " + path + ": dims (2, 3, 4) hold 24 bytes but the data has 23");
    REQUIRE_THROWS_WITH(write_idx(path, IdxArray{{-1}, {}}), Contains("dims (-1,) (expected each in [0, 2^32))"));
    REQUIRE_THROWS_WITH(write_idx(path, IdxArray{{}, {}}), Contains("0 dims (expected 1 to 255)"));
    CHECK_FALSE(fs::exists(path));
}
