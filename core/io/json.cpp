// core/io/json.cpp — recursive-descent JSON parser and compact writer for json.h.
// Parse errors give the byte offset, so a broken safetensors header or config can be found with a hex dump.
#include "core/io/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>
#include <stdexcept>

namespace bplab::json {
namespace {

// (escape letter, character) pairs: letters sit at even offsets, the characters they stand for right after.
constexpr std::string_view escapes = "\"\"\\\\//b\bf\fn\nr\rt\t";

[[noreturn]] void wrong_kind(const Value& v, const char* expected) {
    throw std::runtime_error(std::string("json: value is ") + kind_name(v.kind()) + " (expected " + expected + ")");
}

class Parser {
public:
    Parser(std::string_view text, const std::string& what) : text_(text), what_(what) {}

    Value document() {
        Value v = value(0);
        skip_space();
        if (pos_ != text_.size()) fail("end of input after the value");
        return v;
    }

private:
    static constexpr int max_depth = 512;

    [[noreturn]] void fail(const std::string& expected, std::string found = {}) const {
        if (found.empty()) found = pos_ < text_.size() ? describe(text_[pos_]) : "end of input";
        throw std::runtime_error(what_ + ": malformed JSON at byte " + std::to_string(pos_) + ": found " + found +
                                 " (expected " + expected + ")");
    }
    static std::string describe(char c) {
        char buf[16];
        const auto u = static_cast<unsigned char>(c);
        std::snprintf(buf, sizeof buf, u >= 0x20 && u < 0x7f ? "'%c'" : "byte 0x%02X", u);
        return buf;
    }
    void skip_space() { pos_ = std::min(text_.size(), text_.find_first_not_of(" \t\n\r", pos_)); }
    bool eat(char c) {
        if (pos_ >= text_.size() || text_[pos_] != c) return false;
        ++pos_;
        return true;
    }
    std::size_t digits() {
        const std::size_t start = pos_;
        while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
        return pos_ - start;
    }

    Value value(int depth) {
        skip_space();
        if (depth > max_depth) fail("at most 512 levels of nesting", "deeper nesting");
        if (pos_ >= text_.size()) fail("a value");
        switch (text_[pos_]) {
            case '{': return object(depth);
            case '[': return array(depth);
            case '"': return string();
            case 't': return literal("true", true);
            case 'f': return literal("false", false);
            case 'n': return literal("null", nullptr);
            default: return number();
        }
    }
    Value literal(std::string_view word, Value v) {
        if (text_.substr(pos_, word.size()) != word) fail(std::string(1, '\'').append(word).append("'"));
        pos_ += word.size();
        return v;
    }
    Value object(int depth) {
        ++pos_;
        Object members;
        std::set<std::string, std::less<>> keys;
        skip_space();
        if (eat('}')) return members;
        for (;;) {
            skip_space();
            const std::size_t key_pos = pos_;
            if (pos_ >= text_.size() || text_[pos_] != '"') fail("'\"' starting a key");
            std::string key = string();
            if (!keys.insert(key).second) {
                pos_ = key_pos;
                fail("unique keys in an object", "duplicate key \"" + key + "\"");
            }
            skip_space();
            if (!eat(':')) fail("':' after a key");
            members.emplace_back(std::move(key), value(depth + 1));
            skip_space();
            if (eat('}')) return members;
            if (!eat(',')) fail("',' or '}'");
        }
    }
    Value array(int depth) {
        ++pos_;
        Array items;
        skip_space();
        if (eat(']')) return items;
        for (;;) {
            items.push_back(value(depth + 1));
            skip_space();
            if (eat(']')) return items;
            if (!eat(',')) fail("',' or ']'");
        }
    }
    std::string string() {
        ++pos_;
        std::string out;
        for (;;) {
            if (pos_ >= text_.size()) fail("'\"' closing the string");
            const char c = text_[pos_];
            if (static_cast<unsigned char>(c) < 0x20) fail("control characters to be escaped in a string");
            ++pos_;
            if (c == '"') return out;
            if (c != '\\') {
                out += c;
                continue;
            }
            const char e = pos_ < text_.size() ? text_[pos_] : '\0';
            const std::size_t at = escapes.find(e);
            if (e != 'u' && (at == std::string_view::npos || at % 2 != 0))
                fail("one of \" \\ / b f n r t u after '\\'");
            ++pos_;
            if (e == 'u')
                append_utf8(out, code_point());
            else
                out += escapes[at + 1];
        }
    }
    unsigned hex4() {
        unsigned v = 0;
        const char* first = text_.data() + pos_;
        const auto end = std::from_chars(first, first + std::min<std::size_t>(4, text_.size() - pos_), v, 16).ptr;
        pos_ += static_cast<std::size_t>(end - first);
        if (end != first + 4) fail("four hex digits after \\u");
        return v;
    }
    unsigned code_point() {
        const unsigned hi = hex4();
        if (hi >= 0xDC00 && hi < 0xE000) fail("a high surrogate before a low one", "lone low surrogate");
        if (hi < 0xD800 || hi >= 0xDC00) return hi;
        if (!eat('\\') || !eat('u')) fail("\\u and a low surrogate after a high surrogate");
        const unsigned lo = hex4();
        if (lo < 0xDC00 || lo >= 0xE000) fail("a low surrogate \\uDC00-\\uDFFF", "\\u escape that is not one");
        return 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    }
    static void append_utf8(std::string& out, unsigned cp) {
        static constexpr unsigned char lead[] = {0x00, 0xC0, 0xE0, 0xF0};
        const int extra = cp < 0x80 ? 0 : cp < 0x800 ? 1 : cp < 0x10000 ? 2 : 3;  // continuation bytes
        out += static_cast<char>(lead[extra] | (cp >> (6 * extra)));
        for (int i = extra - 1; i >= 0; --i) out += static_cast<char>(0x80 | ((cp >> (6 * i)) & 0x3F));
    }
    Value number() {
        const std::size_t start = pos_;
        const bool negative = eat('-');
        if (!eat('0') && digits() == 0) fail(negative ? "a digit after '-'" : "a value");
        bool integral = true;
        if (eat('.')) {
            integral = false;
            if (digits() == 0) fail("a digit after '.'");
        }
        if (eat('e') || eat('E')) {
            integral = false;
            if (!eat('+')) eat('-');
            if (digits() == 0) fail("a digit in the exponent");
        }
        const char* first = text_.data() + start;
        const char* last = text_.data() + pos_;
        std::int64_t i = 0;
        if (integral && std::from_chars(first, last, i).ec == std::errc()) return i;
        double d = 0;
        if (std::from_chars(first, last, d).ec != std::errc()) {
            pos_ = start;
            fail("a number within double range", "number " + std::string(first, last));
        }
        return d;
    }

    std::string_view text_;
    const std::string& what_;
    std::size_t pos_ = 0;
};

void write_string(std::string& out, const std::string& s) {
    out += '"';
    for (const char c : s) {
        std::size_t at = 1;
        while (at < escapes.size() && (escapes[at] != c || c == '/')) at += 2;
        if (at < escapes.size()) {
            out += '\\';
            out += escapes[at - 1];
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
            out += buf;
        } else {
            out += c;
        }
    }
    out += '"';
}

void write(std::string& out, const Value& v) {
    switch (v.kind()) {
        case Value::Kind::null: out += "null"; break;
        case Value::Kind::boolean: out += v.as_bool() ? "true" : "false"; break;
        case Value::Kind::integer: out += std::to_string(v.as_int()); break;
        case Value::Kind::number: {
            if (!std::isfinite(v.as_double())) {
                out += "null";
                break;
            }
            char buf[32];
            const auto end = std::to_chars(buf, buf + sizeof buf, v.as_double()).ptr;
            const std::string_view text(buf, static_cast<std::size_t>(end - buf));
            out += text;
            if (text.find_first_of(".e") == std::string_view::npos) out += ".0";  // stays a number, not an integer
            break;
        }
        case Value::Kind::string: write_string(out, v.as_string()); break;
        case Value::Kind::array:
            out += '[';
            for (std::size_t i = 0; i < v.as_array().size(); ++i) {
                if (i) out += ',';
                write(out, v.as_array()[i]);
            }
            out += ']';
            break;
        case Value::Kind::object:
            out += '{';
            for (std::size_t i = 0; i < v.as_object().size(); ++i) {
                if (i) out += ',';
                write_string(out, v.as_object()[i].first);
                out += ':';
                write(out, v.as_object()[i].second);
            }
            out += '}';
            break;
    }
}

}  // namespace

const char* kind_name(Value::Kind kind) {
    static const char* const names[] = {"null", "bool", "integer", "number", "string", "array", "object"};
    return names[static_cast<int>(kind)];
}

template <class T> const T& Value::get(const char* expected) const {
    if (const T* v = std::get_if<T>(&v_)) return *v;
    wrong_kind(*this, expected);
}

bool Value::as_bool() const { return get<bool>("bool"); }
std::int64_t Value::as_int() const { return get<std::int64_t>("integer"); }
double Value::as_double() const { return is_integer() ? static_cast<double>(as_int()) : get<double>("number"); }
const std::string& Value::as_string() const { return get<std::string>("string"); }
const Array& Value::as_array() const { return get<Array>("array"); }
Array& Value::as_array() { return const_cast<Array&>(get<Array>("array")); }
const Object& Value::as_object() const { return get<Object>("object"); }
Object& Value::as_object() { return const_cast<Object&>(get<Object>("object")); }

const Value* Value::find(std::string_view key) const {
    for (const auto& member : as_object())
        if (member.first == key) return &member.second;
    return nullptr;
}

const Value& Value::at(std::string_view key) const {
    if (const Value* v = find(key)) return *v;
    std::string present;
    for (const auto& member : as_object()) present += (present.empty() ? "\"" : ", \"") + member.first + "\"";
    throw std::runtime_error("json: no key \"" + std::string(key) +
                             "\" (keys present: " + (present.empty() ? "none" : present) + ")");
}

const Value& Value::at(std::size_t index) const {
    if (index >= as_array().size())
        throw std::runtime_error("json: index " + std::to_string(index) + " out of range (array has " +
                                 std::to_string(as_array().size()) + " elements)");
    return as_array()[index];
}

Value& Value::set(std::string key, Value value) {
    for (auto& member : as_object())
        if (member.first == key) return member.second = std::move(value);
    return as_object().emplace_back(std::move(key), std::move(value)).second;
}

Value parse(std::string_view text, const std::string& what) { return Parser(text, what).document(); }

std::string dump(const Value& value) {
    std::string out;
    write(out, value);
    return out;
}

}  // namespace bplab::json
