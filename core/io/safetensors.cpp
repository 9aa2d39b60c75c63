// core/io/safetensors.cpp — the safetensors writer (temp file, fsync, rename) and a reader that checks every field.
// Format: https://github.com/huggingface/safetensors — u64 LE header length, JSON header, data section.
#include "core/io/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "core/io/json.h"

namespace bplab {
namespace {

static_assert(std::endian::native == std::endian::little, "tensor bytes are written as they lie in memory");

constexpr std::uint64_t max_header_bytes = 100'000'000;  // the reference implementation's limit
constexpr std::size_t io_chunk = std::size_t{1} << 30;

[[noreturn]] void fail(const std::string& path, const std::string& found, const std::string& expected) {
    throw std::runtime_error("safetensors: " + path + ": " + found + " (expected " + expected + ")");
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }
std::string kind_of(const json::Value& v) { return std::string("a JSON ") + json::kind_name(v.kind()); }

// A POSIX file descriptor closed on every way out of the scope.
class Fd {
public:
    Fd(const std::string& path, int flags) : fd_(::open(path.c_str(), flags | O_CLOEXEC, 0644)) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    /// Closes now, reporting the error that a deferred write may only show here.
    bool close() { return ::close(std::exchange(fd_, -1)) == 0; }

private:
    int fd_;
};

void write_all(const Fd& f, const void* data, std::size_t n, const std::string& path, const std::string& tmp) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
        const ssize_t w = ::write(f.get(), p, std::min(n, io_chunk));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) fail(path, "cannot write " + tmp + ": " + std::strerror(errno), "a writable file system");
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

void read_all(const Fd& f, void* data, std::size_t n, std::uint64_t offset, const std::string& path) {
    char* p = static_cast<char*>(data);
    while (n > 0) {
        const ssize_t r = ::pread(f.get(), p, std::min(n, io_chunk), static_cast<off_t>(offset));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0)
            fail(path, "read error at byte " + std::to_string(offset) + ": " + std::strerror(errno), "a readable file");
        if (r == 0)
            fail(path, "end of file at byte " + std::to_string(offset), "the file not to change while it is read");
        p += r;
        n -= static_cast<std::size_t>(r);
        offset += static_cast<std::uint64_t>(r);
    }
}

// Makes the rename itself durable; best effort, as some file systems refuse fsync on a directory.
void sync_parent_dir(const std::string& path) {
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    const Fd dir(parent.empty() ? "." : parent.string(), O_RDONLY | O_DIRECTORY);
    if (dir.get() >= 0) ::fsync(dir.get());
}

Tensor read_tensor(const Fd& f, const std::string& path, const std::string& name, const json::Value& entry,
                   std::uint64_t data_start, std::uint64_t data_size) {
    const std::string where = "tensor " + quoted(name);
    if (!entry.is_object()) fail(path, where + " is " + kind_of(entry), "an object with dtype, shape and data_offsets");
    for (const char* key : {"dtype", "shape", "data_offsets"})
        if (!entry.contains(key)) fail(path, where + " has no " + key, "dtype, shape and data_offsets");

    const json::Value& dtype_text = entry.at("dtype");
    if (!dtype_text.is_string()) fail(path, where + " has dtype " + json::dump(dtype_text), "a string");
    const DType dtypes[] = {DType::f32, DType::f64, DType::i32, DType::i64, DType::bf16};
    const auto dtype = std::find_if(std::begin(dtypes), std::end(dtypes),
                                    [&](DType t) { return dtype_text.as_string() == dtype_name(t); });
    if (dtype == std::end(dtypes))
        fail(path, where + " has dtype " + json::dump(dtype_text), "one of F32, F64, I32, I64, BF16");

    const json::Value& dims = entry.at("shape");
    Shape shape;
    if (dims.is_array())
        for (const json::Value& d : dims.as_array()) shape.push_back(d.is_integer() ? d.as_int() : -1);
    if (!dims.is_array() || std::any_of(shape.begin(), shape.end(), [](std::int64_t d) { return d < 0; }))
        fail(path, where + " has shape " + json::dump(dims), "an array of non-negative integers");
    std::uint64_t nbytes = dtype_size(*dtype);  // numel * element size, checked for overflow
    for (const std::int64_t d : shape) {
        if (d != 0 && nbytes > std::numeric_limits<std::int64_t>::max() / static_cast<std::uint64_t>(d))
            fail(path, where + " has shape " + shape_str(shape), "a tensor of fewer than 2^63 bytes");
        nbytes *= static_cast<std::uint64_t>(d);
    }

    const json::Value& offsets = entry.at("data_offsets");
    const bool well_formed = offsets.is_array() && offsets.as_array().size() == 2 && offsets.at(0).is_integer() &&
                             offsets.at(1).is_integer() && offsets.at(0).as_int() >= 0 &&
                             offsets.at(0).as_int() <= offsets.at(1).as_int();
    if (!well_formed)
        fail(path, where + " has data_offsets " + json::dump(offsets), "[begin, end] with 0 <= begin <= end");
    const auto begin = static_cast<std::uint64_t>(offsets.at(0).as_int());
    const auto end = static_cast<std::uint64_t>(offsets.at(1).as_int());
    if (end - begin != nbytes)
        fail(path,
             where + " has data_offsets " + json::dump(offsets) + " spanning " + std::to_string(end - begin) + " bytes",
             std::to_string(nbytes) + " bytes for " + dtype_name(*dtype) + " shape " + shape_str(shape));
    if (end > data_size)
        fail(path,
             where + " has data_offsets " + json::dump(offsets) + " but the data section is " +
                 std::to_string(data_size) + " bytes",
             "offsets within the data section; is the file truncated?");

    Tensor t = Tensor::empty(shape, *dtype);
    if (nbytes > 0) read_all(f, t.raw_data(), nbytes, data_start + begin, path);
    return t;
}

}  // namespace

const Tensor& NamedTensors::get(const std::string& name) const {
    for (const auto& [n, t] : tensors)
        if (n == name) return t;
    constexpr std::size_t shown = 8;
    std::string present;
    for (std::size_t i = 0; i < std::min(shown, tensors.size()); ++i)
        present += (i ? ", " : "") + quoted(tensors[i].first);
    if (tensors.size() > shown) present += ", ... (" + std::to_string(tensors.size() - shown) + " more)";
    fail(path, "no tensor named " + quoted(name),
         tensors.empty() ? "a tensor, but the file has none" : "one of " + present);
}

bool NamedTensors::contains(const std::string& name) const {
    return std::any_of(tensors.begin(), tensors.end(), [&](const auto& nt) { return nt.first == name; });
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
    std::vector<Tensor> cpu;
    std::set<std::string> names;
    for (const auto& [name, t] : tensors) {
        if (name == "__metadata__")
            fail(path, "a tensor named \"__metadata__\"", "that name to be left for the metadata");
        if (!names.insert(name).second) fail(path, "two tensors named " + quoted(name), "unique names");
        if (!t.defined()) fail(path, "tensor " + quoted(name) + " is undefined", "tensors with data");
        cpu.push_back(t.to(Device::cpu()));
    }

    // Data of 8-byte dtypes first, then 4-byte ones, then 2-byte ones, so every tensor is aligned to its element size
    // in the file.
    std::vector<std::size_t> order;
    for (const std::size_t width : {8, 4, 2})
        for (std::size_t i = 0; i < cpu.size(); ++i)
            if (dtype_size(cpu[i].dtype()) == width) order.push_back(i);
    std::vector<std::int64_t> begin(cpu.size());
    std::int64_t offset = 0;
    for (const std::size_t i : order) {
        begin[i] = offset;
        offset += static_cast<std::int64_t>(cpu[i].nbytes());
    }

    json::Object header;
    if (!metadata.empty()) {
        json::Object meta;
        for (const auto& [key, value] : metadata) meta.emplace_back(key, value);
        header.emplace_back("__metadata__", std::move(meta));
    }
    for (std::size_t i = 0; i < cpu.size(); ++i) {
        json::Array shape(cpu[i].shape().begin(), cpu[i].shape().end());
        json::Object entry{
            {"dtype", dtype_name(cpu[i].dtype())},
            {"shape", std::move(shape)},
            {"data_offsets", json::Array{begin[i], begin[i] + static_cast<std::int64_t>(cpu[i].nbytes())}}};
        header.emplace_back(tensors[i].first, std::move(entry));
    }
    std::string text = json::dump(header);
    text.append((8 - text.size() % 8) % 8, ' ');  // data section starts 8-byte aligned
    unsigned char length[8];
    for (int b = 0; b < 8; ++b)
        length[b] = static_cast<unsigned char>(static_cast<std::uint64_t>(text.size()) >> (8 * b));

    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    try {
        Fd f(tmp, O_WRONLY | O_CREAT | O_TRUNC);
        if (f.get() < 0) fail(path, "cannot create " + tmp + ": " + std::strerror(errno), "a writable directory");
        write_all(f, length, sizeof length, path, tmp);
        write_all(f, text.data(), text.size(), path, tmp);
        for (const std::size_t i : order) write_all(f, cpu[i].raw_data(), cpu[i].nbytes(), path, tmp);
        if (::fsync(f.get()) != 0 || !f.close())
            fail(path, "cannot sync " + tmp + ": " + std::strerror(errno), "a writable file system");
        if (std::rename(tmp.c_str(), path.c_str()) != 0)
            fail(path, "cannot rename " + tmp + " over it: " + std::strerror(errno), "a writable path");
    } catch (...) {
        ::unlink(tmp.c_str());
        throw;
    }
    sync_parent_dir(path);
}

NamedTensors load_safetensors(const std::string& path) {
    const Fd f(path, O_RDONLY);
    if (f.get() < 0) fail(path, std::string("cannot open: ") + std::strerror(errno), "a readable safetensors file");
    struct stat st {};
    if (::fstat(f.get(), &st) != 0 || !S_ISREG(st.st_mode)) fail(path, "not a regular file", "a safetensors file");
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size < 8) fail(path, "file is " + std::to_string(size) + " bytes", "at least 8: the u64 header length");

    unsigned char length[8];
    read_all(f, length, sizeof length, 0, path);
    std::uint64_t header_size = 0;
    for (int b = 7; b >= 0; --b) header_size = header_size << 8 | length[b];
    if (header_size > size - 8 || header_size > max_header_bytes)
        fail(path,
             "header length " + std::to_string(header_size) + " but " + std::to_string(size - 8) + " bytes follow it",
             "at most " + std::to_string(std::min(size - 8, max_header_bytes)) + "; is this a safetensors file?");
    std::string text(header_size, '\0');
    read_all(f, text.data(), text.size(), 8, path);
    const json::Value header = json::parse(text, "safetensors: " + path + ": header");
    if (!header.is_object()) fail(path, "header is " + kind_of(header), "a JSON object");

    NamedTensors out;
    out.path = path;
    struct Range {
        std::int64_t begin, end;
        const std::string* name;
    };
    std::vector<Range> ranges;
    for (const auto& [name, entry] : header.as_object()) {
        if (name != "__metadata__") {
            out.tensors.emplace_back(name, read_tensor(f, path, name, entry, 8 + header_size, size - 8 - header_size));
            const json::Value& offsets = entry.at("data_offsets");
            ranges.push_back({offsets.at(0).as_int(), offsets.at(1).as_int(), &name});
            continue;
        }
        if (!entry.is_object()) fail(path, "__metadata__ is " + kind_of(entry), "an object of strings");
        for (const auto& [key, value] : entry.as_object()) {
            if (!value.is_string()) fail(path, "__metadata__ " + quoted(key) + " is " + kind_of(value), "a string");
            out.metadata.emplace(key, value.as_string());
        }
    }
    // As the format requires: the tensors' bytes tile the data section, with no overlap and no hole.
    std::sort(ranges.begin(), ranges.end(),
              [](const Range& a, const Range& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
    std::int64_t covered = 0;
    const std::string* last = nullptr;
    for (const Range& r : ranges) {
        if (r.begin < covered)
            fail(path, "tensor " + quoted(*r.name) + " starts at byte " + std::to_string(r.begin) + ", inside " +
                           quoted(*last) + " (which ends at " + std::to_string(covered) + ")",
                 "tensors whose data do not overlap");
        if (r.begin > covered)
            fail(path, "no tensor holds bytes " + std::to_string(covered) + " to " + std::to_string(r.begin) +
                           " of the data section", "the tensors to cover it without holes");
        covered = r.end;
        last = r.name;
    }
    const auto data_bytes = static_cast<std::int64_t>(size - 8 - header_size);
    if (covered != data_bytes)
        fail(path, "the tensors cover " + std::to_string(covered) + " of the data section's " + std::to_string(data_bytes) +
                       " bytes", "the tensors to cover it without holes");
    return out;
}

}  // namespace bplab
