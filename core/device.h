// core/device.h — where a tensor's bytes live: the CPU or one CUDA device.
// Nothing moves between devices implicitly; Tensor::to(Device) is the only way across.
#pragma once
#include <string>

namespace bplab {

enum class DeviceType { cpu, cuda };

struct Device {
    DeviceType type = DeviceType::cpu;
    int index = 0;

    static Device cpu() { return {DeviceType::cpu, 0}; }
    static Device cuda(int index = 0) { return {DeviceType::cuda, index}; }
    bool is_cpu() const { return type == DeviceType::cpu; }
    bool operator==(const Device&) const = default;
    /// "cpu" or "cuda:0".
    std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
};

/// Parses "cpu", "cuda" or "cuda:N"; throws with the text it got otherwise.
Device parse_device(const std::string& text);

}  // namespace bplab
