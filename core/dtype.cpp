// core/dtype.cpp — sizes and names of element types, and device parsing.
// Kept apart from tensor.cpp so that small tools can use them without the backend.
#include <stdexcept>

#include "core/device.h"
#include "core/dtype.h"

namespace bplab {

std::size_t dtype_size(DType t) {
    switch (t) {
        case DType::f32: return 4;
        case DType::f64: return 8;
        case DType::i32: return 4;
        case DType::i64: return 8;
        case DType::bf16: return 2;
    }
    return 0;
}

const char* dtype_name(DType t) {
    switch (t) {
        case DType::f32: return "F32";
        case DType::f64: return "F64";
        case DType::i32: return "I32";
        case DType::i64: return "I64";
        case DType::bf16: return "BF16";
    }
    return "?";
}

Device parse_device(const std::string& text) {
    if (text == "cpu") return Device::cpu();
    if (text == "cuda") return Device::cuda(0);
    if (text.rfind("cuda:", 0) == 0) {
        try {
            std::size_t used = 0;
            const int index = std::stoi(text.substr(5), &used);
            if (used == text.size() - 5 && index >= 0) return Device::cuda(index);
        } catch (const std::exception&) {
        }
    }
    throw std::invalid_argument("device '" + text + "': expected cpu, cuda or cuda:N");
}

}  // namespace bplab
