// tests/test_bfloat16.cpp — bfloat16's rounding (core/bfloat16.h) against its definition, and the bf16 dtype in
// tensors: casts, fills and the values tensors hand back.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "core/bfloat16.h"
#include "core/tensor.h"

using namespace bplab;

namespace {

/// The f32 whose bits are `high` followed by 16 zero bits: every bfloat16 value, as an f32.
float widened(std::uint32_t high) { return f32_from_bits(high << 16); }

/// The definition, independent of the bit trick: of the two bfloat16 values around v (v truncated, and the next
/// one away from zero), the nearer, the one with an even last bit on a tie; computed in f64, where both
/// distances are exact. Past the largest finite bfloat16 by half an ulp or more, infinity (IEEE's overflow rule).
std::uint16_t nearest_bf16(float v) {
    const std::uint32_t low_bits = f32_bits(v) >> 16;
    if (std::isinf(v)) return static_cast<std::uint16_t>(low_bits);
    const double below = widened(low_bits), above_high = low_bits + 1;
    if ((low_bits & 0x7fffu) == 0x7f7fu) {  // the largest finite magnitude: the next one up is "2^128"
        const double limit = std::ldexp(1.0, 128);
        const double d_low = std::abs(double(v) - below), d_high = std::abs(std::copysign(limit, v) - double(v));
        if (d_low < d_high) return static_cast<std::uint16_t>(low_bits);
        return static_cast<std::uint16_t>((low_bits & 0x8000u) | 0x7f80u);  // a tie goes to the even one: infinity
    }
    const double above = widened(static_cast<std::uint32_t>(above_high));
    const double d_low = std::abs(double(v) - below), d_high = std::abs(above - double(v));
    if (d_low < d_high || (d_low == d_high && (low_bits & 1u) == 0)) return static_cast<std::uint16_t>(low_bits);
    return static_cast<std::uint16_t>(above_high);
}

}  // namespace

TEST_CASE("bfloat16: every finite or infinite bfloat16 converts to f32 and back unchanged", "[bf16]") {
    for (std::uint32_t bits = 0; bits < 0x10000u; ++bits) {
        const float f = widened(bits);
        if (std::isnan(f)) continue;
        INFO("bits " << bits);
        REQUIRE(BFloat16(f).bits == bits);
        REQUIRE(static_cast<float>(BFloat16(f)) == f);
    }
}

TEST_CASE("bfloat16: rounding from f32 gives the nearest value, ties to even, for 2 million random f32 bit patterns",
          "[bf16]") {
    std::mt19937 gen(2025);
    std::uniform_int_distribution<std::uint32_t> any;
    for (int i = 0; i < 2'000'000; ++i) {
        std::uint32_t bits = any(gen);
        if (i % 4 == 1) bits = (bits & 0xffff0000u) | 0x8000u;  // an exact tie
        if (i % 4 == 2) bits = (bits & 0xffff0000u) | (0x7fffu + (bits & 2u));  // just below or just above a tie
        const float v = f32_from_bits(bits);
        if (std::isnan(v)) continue;
        INFO("f32 bits " << bits);
        REQUIRE(BFloat16(v).bits == nearest_bf16(v));
    }
}

TEST_CASE("bfloat16: edge cases (signed zeros, subnormals, overflow to infinity, NaN stays NaN)", "[bf16]") {
    constexpr float inf = std::numeric_limits<float>::infinity();
    const float max_bf16 = widened(0x7f7fu);  // (2 − 2⁻⁷) · 2¹²⁷
    const float half_ulp = std::ldexp(1.0f, 127 - 8);
    CHECK(BFloat16(-0.0f).bits == 0x8000u);
    CHECK(BFloat16(0.0f).bits == 0u);
    CHECK(static_cast<float>(BFloat16(std::numeric_limits<float>::denorm_min())) == 0.0f);  // far below half a step
    CHECK(static_cast<float>(BFloat16(widened(0x0001u))) == widened(0x0001u));  // the smallest subnormal bfloat16
    CHECK(static_cast<float>(BFloat16(max_bf16)) == max_bf16);
    CHECK(static_cast<float>(BFloat16(std::nextafter(max_bf16 + half_ulp, 0.0f))) == max_bf16);
    CHECK(static_cast<float>(BFloat16(max_bf16 + half_ulp)) == inf);  // the tie goes to the even: infinity
    CHECK(static_cast<float>(BFloat16(std::numeric_limits<float>::max())) == inf);
    CHECK(static_cast<float>(BFloat16(-inf)) == -inf);
    for (const std::uint32_t nan_bits : {0x7fc00000u, 0x7f800001u, 0xffffffffu, 0x7f80ffffu}) {
        INFO("NaN bits " << nan_bits);
        const BFloat16 b(f32_from_bits(nan_bits));
        CHECK(std::isnan(static_cast<float>(b)));  // a payload only in the low bits must not round to infinity
        CHECK((b.bits & 0x8000u) == (nan_bits >> 16 & 0x8000u));
    }
    CHECK(round_to_bf16(1.0f + std::ldexp(1.0f, -8)) == 1.0f);  // halfway between 1 and 1 + 2⁻⁷: to the even 1
    CHECK(round_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)) == 1.0f + std::ldexp(1.0f, -6));  // to the even 1 + 2⁻⁶
}

TEST_CASE("bfloat16 tensors: casts round f32 to nearest (f64 through f32), read back exactly, and fill", "[bf16]") {
    const std::vector<double> values = {1.0, -2.5, 1.0 + std::ldexp(1.0, -8), 3.0e38, 1e-3, -0.0, 1e6 + 3};
    const Tensor f32 = Tensor::from_vector(values, {7}, DType::f32);
    const Tensor b = f32.to(DType::bf16);
    REQUIRE(b.dtype() == DType::bf16);
    REQUIRE(b.nbytes() == 14);
    const std::vector<double> back = b.to(DType::f32).to_vector(), read = b.to_vector();
    for (std::size_t i = 0; i < values.size(); ++i) {
        INFO("value " << values[i]);
        CHECK(back[i] == round_to_bf16(static_cast<float>(values[i])));
        CHECK(read[i] == back[i]);
    }
    CHECK(Tensor::from_vector(values, {7}, DType::bf16).to_vector() == read);
    CHECK(f32.to(DType::f64).to(DType::bf16).to_vector() == read);
    Tensor filled = Tensor::full({3}, 0.1, DType::bf16);
    CHECK(filled.to_vector() == std::vector<double>(3, round_to_bf16(0.1f)));
    CHECK_THROWS_WITH(Tensor::empty({2}, DType::bf16).set_requires_grad(true),
                      Catch::Contains("BF16 tensors cannot require grad"));
}
