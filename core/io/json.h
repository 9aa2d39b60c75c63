// core/io/json.h — a small JSON value with a strict parser and a compact writer.
// Enough for safetensors headers, run configs and JSONL logs; objects keep insertion order, integers stay exact.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace bplab::json {

class Value;
using Array = std::vector<Value>;
/// Members in the order they were parsed or added; keys are unique.
using Object = std::vector<std::pair<std::string, Value>>;

/// One JSON value. Numbers written without fraction or exponent that fit in int64 are kept as integers.
class Value {
public:
    enum class Kind { null, boolean, integer, number, string, array, object };

    Value() = default;
    Value(std::nullptr_t) {}
    Value(bool b) : v_(b) {}
    Value(int i) : v_(std::int64_t{i}) {}
    Value(std::int64_t i) : v_(i) {}
    Value(double d) : v_(d) {}
    Value(const char* s) : v_(std::string(s)) {}
    Value(std::string s) : v_(std::move(s)) {}
    Value(Array a) : v_(std::move(a)) {}
    Value(Object o) : v_(std::move(o)) {}

    Kind kind() const { return static_cast<Kind>(v_.index()); }  // alternatives of v_ are in Kind order
    bool is_null() const { return kind() == Kind::null; }
    bool is_bool() const { return kind() == Kind::boolean; }
    bool is_integer() const { return kind() == Kind::integer; }
    /// True for integers and other numbers.
    bool is_number() const { return is_integer() || kind() == Kind::number; }
    bool is_string() const { return kind() == Kind::string; }
    bool is_array() const { return kind() == Kind::array; }
    bool is_object() const { return kind() == Kind::object; }

    /// Accessors throw std::runtime_error naming the kind found when the value is of another kind.
    bool as_bool() const;
    std::int64_t as_int() const;  ///< integers only: 1.5 and 1e3 are refused
    double as_double() const;     ///< any number
    const std::string& as_string() const;
    const Array& as_array() const;
    Array& as_array();
    const Object& as_object() const;
    Object& as_object();

    /// Object member lookup: find() gives nullptr and at() throws naming the missing key and the keys present.
    const Value* find(std::string_view key) const;
    bool contains(std::string_view key) const { return find(key) != nullptr; }
    const Value& at(std::string_view key) const;
    /// Array element; throws when out of range.
    const Value& at(std::size_t index) const;
    /// Adds a member to an object, or replaces the value of an existing one in place.
    Value& set(std::string key, Value value);

private:
    /// The alternative T, or a throw naming the kind found and `expected`.
    template <class T> const T& get(const char* expected) const;

    std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, Array, Object> v_;
};

/// "null", "bool", "integer", "number", "string", "array" or "object".
const char* kind_name(Value::Kind kind);

/// Parses one JSON text (RFC 8259; duplicate keys are refused). On malformed input throws std::runtime_error
/// "<what>: malformed JSON at byte <offset>: found <x> (expected <y>)".
Value parse(std::string_view text, const std::string& what);

/// Compact JSON text (no spaces). Non-finite numbers, which JSON cannot represent, are written as null.
std::string dump(const Value& value);

}  // namespace bplab::json
