// core/io/safetensors.h — read and write named tensors in the safetensors format (checkpoints, dumps, goldens).
// The same files load in PyTorch and numpy without bplab: u64 LE header length, JSON header, raw LE data.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace bplab {

/// The contents of one safetensors file: tensors in header order, and the `__metadata__` strings.
struct NamedTensors {
    std::vector<std::pair<std::string, Tensor>> tensors;
    std::map<std::string, std::string> metadata;
    std::string path;  ///< the file they came from, for messages

    /// The tensor called `name`; throws naming the file, the missing name and the first names present.
    const Tensor& get(const std::string& name) const;
    bool contains(const std::string& name) const;
};

/// Writes `tensors` (F32, F64, I32, I64 or BF16; any device, copied to the CPU) and `metadata` to `path`.
/// Atomic: the bytes go to `path.tmp.<pid>`, are fsync'ed, then renamed over `path`, so a crash leaves either
/// the old file or the new one. Throws std::runtime_error naming the path on duplicate names or I/O errors.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

/// Reads a safetensors file into CPU tensors. Every header field is checked against the file; on a problem
/// throws std::runtime_error "safetensors: <path>: <what was found> (expected <what>)".
NamedTensors load_safetensors(const std::string& path);

}  // namespace bplab
