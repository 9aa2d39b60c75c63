// tests/test_safetensors.cpp — safetensors files: round trips, the byte layout, atomic saves, and bad files.
// Bad files are written byte by byte here, independent of the writer, and each must fail naming file and problem.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>

#include "core/io/json.h"
#include "core/io/safetensors.h"
#include "tests/test_helpers.h"

using namespace bplab;
using bplab::test::TempDir;
namespace fs = std::filesystem;
using Catch::Contains;

namespace {

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string le64(std::uint64_t v) {
    std::string s(8, '\0');
    for (int b = 0; b < 8; ++b) s[b] = static_cast<char>(v >> (8 * b));
    return s;
}

std::uint64_t read_le64(const std::string& bytes) {
    std::uint64_t v = 0;
    for (int b = 7; b >= 0; --b) v = v << 8 | static_cast<unsigned char>(bytes[b]);
    return v;
}

// A safetensors file made by hand: length, header text exactly as given, data bytes.
std::string hand_file(const std::string& header, const std::string& data) {
    return le64(header.size()) + header + data;
}

template <class T> Tensor filled(const Shape& shape, const std::vector<T>& values) {
    Tensor t = Tensor::empty(shape, dtype_of<T>());
    REQUIRE(static_cast<std::size_t>(t.numel()) == values.size());
    std::copy(values.begin(), values.end(), t.data<T>());
    return t;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
    return a.dtype() == b.dtype() && a.shape() == b.shape() && a.nbytes() == b.nbytes() &&
           (a.nbytes() == 0 || std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0);
}

std::vector<std::pair<std::string, Tensor>> all_kinds() {
    using I32 = std::numeric_limits<std::int32_t>;
    using I64 = std::numeric_limits<std::int64_t>;
    return {
        {"f32.matrix",
         filled<float>({2, 3}, {1.5f, -2.25f, 3.0f, 1e-30f, -0.0f, std::numeric_limits<float>::infinity()})},
        {"f64.vector", filled<double>({3}, {0.1, -1e300, 3.141592653589793})},
        {"i32.labels", filled<std::int32_t>({2, 2}, {I32::min(), -1, 0, I32::max()})},
        {"i64.indices", filled<std::int64_t>({4}, {I64::min(), -1, (std::int64_t{1} << 53) + 1, I64::max()})},
        {"bf16.row", filled<BFloat16>({3}, {BFloat16(1.5f), BFloat16(-3.0e38f), BFloat16(1e-40f)})},
        {"f64.scalar", filled<double>({}, {42.5})},
        {"f32.empty", Tensor::empty({0, 5}, DType::f32)},
        {"odd \"name\" \\ with/utf-8 \xc3\xbc\n", filled<std::int32_t>({1}, {7})},
    };
}

}  // namespace

TEST_CASE("safetensors: save then load keeps names, order, dtypes, shapes and bytes of all five dtypes",
          "[safetensors]") {
    TempDir dir;
    const std::string path = dir.path("all.safetensors");
    const auto tensors = all_kinds();
    save_safetensors(path, tensors);
    const NamedTensors loaded = load_safetensors(path);
    REQUIRE(loaded.tensors.size() == tensors.size());
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        INFO("tensor " << tensors[i].first);
        CHECK(loaded.tensors[i].first == tensors[i].first);
        CHECK(same_bytes(loaded.tensors[i].second, tensors[i].second));
        CHECK(loaded.tensors[i].second.device() == Device::cpu());
    }
    CHECK(loaded.get("f64.scalar").dim() == 0);
    CHECK(loaded.get("f64.scalar").item() == 42.5);
    CHECK(loaded.get("f32.empty").shape() == Shape{0, 5});
    CHECK(loaded.contains("i64.indices"));
    CHECK_FALSE(loaded.contains("nope"));
    CHECK(loaded.metadata.empty());
    CHECK(loaded.path == path);
}

TEST_CASE("safetensors: metadata strings round-trip, also in a file without tensors", "[safetensors]") {
    TempDir dir;
    const std::map<std::string, std::string> metadata = {{"format", "pt"},
                                                         {"step", "1200"},
                                                         {"note", "quotes \" backslash \\ newline \n tab \t \x01 end"},
                                                         {"empty", ""}};
    save_safetensors(dir.path("m.safetensors"), {{"w", filled<float>({2}, {1.0f, 2.0f})}}, metadata);
    CHECK(load_safetensors(dir.path("m.safetensors")).metadata == metadata);
    save_safetensors(dir.path("only-meta.safetensors"), {}, metadata);
    const NamedTensors only = load_safetensors(dir.path("only-meta.safetensors"));
    CHECK(only.tensors.empty());
    CHECK(only.metadata == metadata);
}

TEST_CASE("safetensors: file layout is u64 LE header length, space-padded JSON header, packed aligned data",
          "[safetensors]") {
    TempDir dir;
    const std::string path = dir.path("layout.safetensors");
    const auto tensors = all_kinds();
    save_safetensors(path, tensors, {{"k", "v"}});
    const std::string bytes = read_bytes(path);
    REQUIRE(bytes.size() >= 8);
    const std::uint64_t n = read_le64(bytes);
    CHECK(n % 8 == 0);
    REQUIRE(8 + n <= bytes.size());
    const std::string text = bytes.substr(8, n);
    CHECK(text.front() == '{');
    CHECK(text.find_first_not_of(' ', text.rfind('}') + 1) == std::string::npos);  // only spaces after the JSON
    const json::Value header = json::parse(text, "layout header");
    CHECK(header.at("__metadata__").at("k").as_string() == "v");

    const std::uint64_t data_size = bytes.size() - 8 - n;
    std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
    for (const auto& [name, t] : tensors) {
        INFO("tensor " << name);
        const json::Value& entry = header.at(name);
        CHECK(entry.at("dtype").as_string() == dtype_name(t.dtype()));
        Shape shape;
        for (const auto& d : entry.at("shape").as_array()) shape.push_back(d.as_int());
        CHECK(shape == t.shape());
        const std::int64_t begin = entry.at("data_offsets").at(0).as_int(),
                           end = entry.at("data_offsets").at(1).as_int();
        CHECK(end - begin == static_cast<std::int64_t>(t.nbytes()));
        CHECK(begin % static_cast<std::int64_t>(dtype_size(t.dtype())) == 0);  // aligned in the file, as 8 + n is
        CHECK(bytes.compare(8 + n + static_cast<std::uint64_t>(begin), t.nbytes(),
                            static_cast<const char*>(t.raw_data()), t.nbytes()) == 0);
        ranges.emplace_back(begin, end);
    }
    std::sort(ranges.begin(), ranges.end());
    std::int64_t covered = 0;  // no holes, no overlaps, nothing after the last tensor
    for (const auto& [begin, end] : ranges) {
        CHECK(begin == covered);
        covered = end;
    }
    CHECK(static_cast<std::uint64_t>(covered) == data_size);
}

TEST_CASE("safetensors: a file written by hand, byte by byte, loads with the right values", "[safetensors]") {
    TempDir dir;
    const std::string path = dir.path("hand.safetensors");
    const std::string header =
        R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
        R"( "__metadata__" : {"format":"pt"}, "n":{"shape":[],"dtype":"I64","data_offsets":[16,24]}})";
    const std::string data = std::string("\x00\x00\x80\x3f", 4) + std::string("\x00\x00\x20\xc0", 4) +  // 1.0f, -2.5f
                             std::string("\x00\x00\x00\x3f", 4) + std::string("\x00\x00\x40\x40", 4) +  // 0.5f, 3.0f
                             std::string("\xf9\xff\xff\xff\xff\xff\xff\xff", 8);                        // int64 -7
    write_bytes(path, hand_file(header, data));
    const NamedTensors loaded = load_safetensors(path);
    REQUIRE(loaded.tensors.size() == 2);
    CHECK(loaded.tensors[0].first == "w");
    const Tensor& w = loaded.get("w");
    CHECK(w.shape() == Shape{2, 2});
    CHECK(w.to_vector() == std::vector<double>{1.0, -2.5, 0.5, 3.0});
    CHECK(loaded.get("n").dtype() == DType::i64);
    CHECK(loaded.get("n").data<std::int64_t>()[0] == -7);
    CHECK(loaded.metadata == std::map<std::string, std::string>{{"format", "pt"}});
}

TEST_CASE("safetensors: saving over a file replaces it atomically and leaves no temporary file", "[safetensors]") {
    TempDir dir;
    const std::string path = dir.path("model.safetensors");
    save_safetensors(path, {{"old", filled<float>({3}, {1, 2, 3})}});
    save_safetensors(path, {{"new", filled<double>({1}, {4})}});
    const NamedTensors loaded = load_safetensors(path);
    CHECK(loaded.contains("new"));
    CHECK_FALSE(loaded.contains("old"));
    CHECK(dir.entries() == std::vector<std::string>{"model.safetensors"});
}

TEST_CASE("safetensors: a failed save names the path, keeps what was there and leaves no temporary file",
          "[safetensors]") {
    TempDir dir;
    const std::string blocker = dir.path("is-a-directory");
    fs::create_directory(blocker);
    REQUIRE_THROWS_WITH(save_safetensors(blocker, {{"w", filled<float>({1}, {1})}}),
                        Contains("safetensors: " + blocker) && Contains("cannot rename"));
    CHECK(dir.entries() == std::vector<std::string>{"is-a-directory"});

    const std::string missing_dir = dir.path("no/such/dir/x.safetensors");
    REQUIRE_THROWS_WITH(save_safetensors(missing_dir, {}), Contains(missing_dir) && Contains("cannot create"));

    const std::string path = dir.path("kept.safetensors");
    save_safetensors(path, {{"w", filled<float>({1}, {1})}});
    REQUIRE_THROWS_WITH(save_safetensors(path, {{"a", filled<float>({1}, {1})}, {"a", filled<float>({1}, {2})}}),
                        Contains(path) && Contains("two tensors named \"a\""));
    REQUIRE_THROWS_WITH(save_safetensors(path, {{"__metadata__", filled<float>({1}, {1})}}),
                        Contains("\"__metadata__\""));
    REQUIRE_THROWS_WITH(save_safetensors(path, {{"u", Tensor()}}), Contains("tensor \"u\" is undefined"));
    CHECK(load_safetensors(path).contains("w"));
}

TEST_CASE("safetensors: get() on a missing name names the file, the name and the tensors present", "[safetensors]") {
    TempDir dir;
    const std::string path = dir.path("g.safetensors");
    save_safetensors(path, {{"fc1.weight", filled<float>({1}, {1})}, {"fc1.bias", filled<float>({1}, {2})}});
    REQUIRE_THROWS_WITH(load_safetensors(path).get("fc2.weight"), Contains(path) &&
                                                                      Contains("no tensor named \"fc2.weight\"") &&
                                                                      Contains("\"fc1.weight\", \"fc1.bias\""));
}

TEST_CASE("safetensors: unreadable files fail naming the file and the problem", "[safetensors]") {
    TempDir dir;
    const std::string path = dir.path("bad.safetensors");

    REQUIRE_THROWS_WITH(
        load_safetensors(dir.path("missing.safetensors")),
        Contains(dir.path("missing.safetensors")) && Contains("cannot open: No such file or directory"));

    write_bytes(path, "abc");
    REQUIRE_THROWS_WITH(load_safetensors(path),
                        Contains("safetensors: " + path + ": file is 3 bytes (expected at least 8"));

    write_bytes(path, le64(1000) + "{}");
    REQUIRE_THROWS_WITH(load_safetensors(path), Contains(path) && Contains("header length 1000 but 2 bytes follow it"));

    write_bytes(path, "this is a text file, not a safetensors file\n");
    REQUIRE_THROWS_WITH(load_safetensors(path), Contains(path) && Contains("is this a safetensors file?"));

    REQUIRE_THROWS_WITH(load_safetensors(dir.path("")), Contains("not a regular file"));
}

TEST_CASE("safetensors: a truncated file fails saying the data section is too short", "[safetensors]") {
    TempDir dir;
    const std::string path = dir.path("cut.safetensors");
    save_safetensors(path, {{"w", filled<double>({4}, {1, 2, 3, 4})}});
    fs::resize_file(path, fs::file_size(path) - 5);
    REQUIRE_THROWS_WITH(load_safetensors(path),
                        Contains(path) &&
                            Contains("tensor \"w\" has data_offsets [0,32] but the data section is 27 bytes") &&
                            Contains("is the file truncated?"));
}

TEST_CASE("safetensors: header errors name the file, the tensor and what was expected", "[safetensors]") {
    TempDir dir;
    const std::string path = dir.path("h.safetensors");
    const std::string eight(8, '\0');
    struct Case {
        const char* problem;
        std::string header;
        std::string data;
        std::string message;
    };
    const Case cases[] = {
        {"malformed JSON", R"({"w":{"dtype":"F32",,}})", "", "header: malformed JSON at byte 20: found ','"},
        {"header not an object", R"([1,2])", "", "header is a JSON array (expected a JSON object)"},
        {"unknown dtype", R"({"w":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}})", eight,
         R"(tensor "w" has dtype "F16" (expected one of F32, F64, I32, I64, BF16))"},
        {"shape vs offsets", R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight,
         R"(tensor "w" has data_offsets [0,8] spanning 8 bytes (expected 12 bytes for F32 shape (3,)))"},
        {"offsets past the data", R"({"w":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}})", eight,
         "the data section is 8 bytes"},
        {"offsets reversed", R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", eight,
         "data_offsets [8,0] (expected [begin, end] with 0 <= begin <= end)"},
        {"offsets not a pair", R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", eight,
         "data_offsets [0] (expected"},
        {"negative dimension", R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", eight,
         "shape [-2] (expected an array of non-negative integers)"},
        {"fractional dimension", R"({"w":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", eight,
         "shape [2.0] (expected"},
        {"huge shape", R"({"w":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", eight,
         "fewer than 2^63 bytes"},
        {"missing field", R"({"w":{"dtype":"F32","shape":[2]}})", eight, R"(tensor "w" has no data_offsets)"},
        {"entry not an object", R"({"w":[1]})", "", R"(tensor "w" is a JSON array)"},
        {"duplicate names", R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{}})", eight,
         R"(found duplicate key "w" (expected unique keys in an object))"},
        {"metadata not strings", R"({"__metadata__":{"step":12}})", "",
         R"(__metadata__ "step" is a JSON integer (expected a string))"},
        {"dtype not a string", R"({"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}})", eight,
         "has dtype 4 (expected a string)"},
        {"overlapping tensors", R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
         eight, R"(tensor "b" starts at byte 4, inside "w" (which ends at 8) (expected tensors whose data do not overlap))"},
        {"a hole", R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight,
         "no tensor holds bytes 0 to 4 of the data section (expected the tensors to cover it without holes)"},
        {"bytes after the last tensor", R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", eight,
         "the tensors cover 4 of the data section's 8 bytes"},
    };
    for (const Case& c : cases) {
        INFO(c.problem);
        write_bytes(path, hand_file(c.header, c.data));
        REQUIRE_THROWS_WITH(load_safetensors(path), Contains("safetensors: " + path + ": ") && Contains(c.message));
    }
}

TEST_CASE("json: dump escapes strings and keeps integers, numbers and member order through a parse", "[json]") {
    const std::string text =
        R"({"b":[1,-0.5,1e+20,9007199254740993,true,false,null],"a":"q\"\\\n\t\u0001\u00fc","c":{}})";
    const json::Value v = json::parse(text, "test");
    CHECK(v.as_object().front().first == "b");
    CHECK(v.at("b").at(3).as_int() == 9007199254740993);  // not representable as a double
    CHECK(v.at("b").at(1).as_double() == -0.5);
    CHECK(v.at("a").as_string() == "q\"\\\n\t\x01\xc3\xbc");
    CHECK(json::dump(v) == R"({"b":[1,-0.5,1e+20,9007199254740993,true,false,null],"a":"q\"\\\n\t\u0001)"
                           "\xc3\xbc"
                           R"(","c":{}})");
    CHECK(json::dump(json::parse(json::dump(v), "again")) == json::dump(v));
    CHECK(json::dump(json::Value(2.0)) == "2.0");
    CHECK(json::parse("2.0", "x").is_integer() == false);
    CHECK(json::parse("\"\\ud83d\\ude00\"", "x").as_string() == "\xf0\x9f\x98\x80");
}

TEST_CASE("json: errors name the source, the byte offset and what was expected, accessors name the kind", "[json]") {
    REQUIRE_THROWS_WITH(json::parse("{\"a\" 1}", "cfg.json"),
                        "cfg.json: malformed JSON at byte 5: found '1' (expected ':' after a key)");
    REQUIRE_THROWS_WITH(json::parse("[1, 2", "cfg.json"),
                        "cfg.json: malformed JSON at byte 5: found end of input (expected ',' or ']')");
    REQUIRE_THROWS_WITH(json::parse("[1] x", "cfg.json"), Contains("at byte 4: found 'x' (expected end of input"));
    REQUIRE_THROWS_WITH(json::parse("\"a\x01\"", "cfg.json"), Contains("at byte 2: found byte 0x01"));
    REQUIRE_THROWS_WITH(json::parse(std::string(1000, '['), "deep.json"), Contains("at most 512 levels of nesting"));
    const json::Value v = json::parse(R"({"lr": 0.1, "steps": 10})", "cfg.json");
    REQUIRE_THROWS_WITH(v.at("lr").as_int(), "json: value is number (expected integer)");
    REQUIRE_THROWS_WITH(v.at("seed"), R"(json: no key "seed" (keys present: "lr", "steps"))");
    REQUIRE_THROWS_WITH(v.at("steps").as_string(), "json: value is integer (expected string)");
}
