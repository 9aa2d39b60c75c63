// core/dtype.h — element types a Tensor can hold and their sizes.
// f32 is the working type; f64 exists so that gradient checks are exact; bf16 stores what mixed precision
// rounds (core/autocast.h: the operands of linear ops, convolutions, attention and GELU); i32/i64 hold labels and indices.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/bfloat16.h"

namespace bplab {

enum class DType : std::uint8_t { f32, f64, i32, i64, bf16 };

/// Bytes per element.
std::size_t dtype_size(DType t);
/// Short name as used in messages and in safetensors headers ("F32", "F64", "I32", "I64", "BF16").
const char* dtype_name(DType t);
/// True for f32 and f64: the types that kernels compute in and that gradients flow through. bf16 is a storage
/// type, which casts write and read and the bf16 products of autocast (linear layers, attention) read.
inline bool is_floating(DType t) { return t == DType::f32 || t == DType::f64; }

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<double>() { return DType::f64; }
template <> constexpr DType dtype_of<std::int32_t>() { return DType::i32; }
template <> constexpr DType dtype_of<std::int64_t>() { return DType::i64; }
template <> constexpr DType dtype_of<BFloat16>() { return DType::bf16; }

/// Calls f(U{}) with an unsigned type of the dtype's size: kernels that only move elements then work for every
/// dtype (the CPU's transpose; the CUDA rows and space-to-depth kernels).
template <class F>
void dispatch_by_size(DType dtype, F&& f) {
    switch (dtype_size(dtype)) {
        case 8: f(std::uint64_t{}); break;
        case 2: f(std::uint16_t{}); break;  // bf16
        default: f(std::uint32_t{});
    }
}

}  // namespace bplab
