// core/data/idx.h — read and write IDX files, the format of MNIST and Fashion-MNIST, plain or gzip'ed.
// Only unsigned-byte data (type 0x08) is supported: that is what the images and labels of both data sets are.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace bplab {

/// An IDX array: dimensions, outermost first, and the bytes in row-major order.
struct IdxArray {
    std::vector<std::int64_t> dims;
    std::vector<std::uint8_t> data;
};

/// Reads a uint8 IDX file with `expected_ndims` dimensions (3 for images, 1 for labels). A file starting with
/// the gzip magic 0x1f 0x8b is decompressed on the fly. Throws std::runtime_error
/// "idx: <path>: <what was found> (expected <what>)" on a missing file, a bad magic, a truncated header, data
/// shorter or longer than the dimensions say, or a corrupt gzip stream.
IdxArray read_idx(const std::string& path, int expected_ndims);

/// Writes `array` as a uint8 IDX file, gzip-compressed when `path` ends with ".gz". Throws std::invalid_argument
/// when the dimensions do not match the data size, std::runtime_error on I/O errors.
void write_idx(const std::string& path, const IdxArray& array);

}  // namespace bplab
