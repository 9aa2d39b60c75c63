// core/bfloat16.h — bfloat16, the 16-bit storage type of mixed precision: f32's sign, exponent and top 7 mantissa
// bits. One conversion for the host and the GPU (round to nearest, ties to even, as PyTorch's and CUDA's _rn).
#pragma once
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define BPLAB_HOST_DEVICE __host__ __device__
#else
#define BPLAB_HOST_DEVICE
#endif

namespace bplab {

/// The bits of an f32, and back.
BPLAB_HOST_DEVICE inline std::uint32_t f32_bits(float v) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(v);
#else
    std::uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    return bits;
#endif
}
BPLAB_HOST_DEVICE inline float f32_from_bits(std::uint32_t bits) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(bits);
#else
    float v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
#endif
}

/// A bfloat16 value. Made from a float by rounding (explicitly); read as a float exactly (implicitly), so that
/// arithmetic on it happens in f32.
struct BFloat16 {
    std::uint16_t bits;  ///< no default value: a trivial type may live in __shared__ memory; BFloat16{} is zero

    BFloat16() = default;
    /// Round to nearest, ties to even; overflow gives ±infinity, a NaN stays a (quiet) NaN of the same sign. A
    /// double goes through float first (rounded twice, as PyTorch's conversion does).
    BPLAB_HOST_DEVICE explicit BFloat16(float v) {
        const std::uint32_t b = f32_bits(v);
        if ((b & 0x7fffffffu) > 0x7f800000u) bits = static_cast<std::uint16_t>((b >> 16) | 0x0040u);  // NaN
        else bits = static_cast<std::uint16_t>((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
    }
    BPLAB_HOST_DEVICE operator float() const { return f32_from_bits(static_cast<std::uint32_t>(bits) << 16); }
};
static_assert(sizeof(BFloat16) == 2, "BFloat16 must be two bytes, as tensors store it");

/// v rounded to bfloat16 and read back as f32.
BPLAB_HOST_DEVICE inline float round_to_bf16(float v) { return static_cast<float>(BFloat16(v)); }

}  // namespace bplab
