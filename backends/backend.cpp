// backends/backend.cpp — the registry that maps a device to its backend. The CPU backend always exists; the
// CUDA backend registers itself when a GPU is present, and a BackendProfiler stands in front of either for a time.
#include "backends/backend.h"

#include <stdexcept>
#include <string>

#include "backends/cpu/cpu_backend.h"

namespace bplab {
namespace {
Backend* g_backends[2] = {nullptr, nullptr};
}

Backend& backend_for(Device device) {
    static CpuBackend cpu;
    if (Backend* b = g_backends[static_cast<int>(device.type)]) return *b;
    if (device.is_cpu()) return cpu;
    throw std::runtime_error("backend: no backend for " + device.str() + " (bplab was built without CUDA, or no GPU is present)");
}

void register_backend(DeviceType type, Backend* backend) { g_backends[static_cast<int>(type)] = backend; }

void check_permute_parts(const char* backend, const std::vector<Tensor*>& outs, const std::vector<const Tensor*>& xs,
                         const Shape& x_shape, const std::vector<std::int64_t>& dims) {
    const std::string op = std::string(backend) + " permute_parts: ";
    const auto fits = [&](std::size_t parts) {
        return parts >= 1 && parts <= Backend::kMaxPermuteParts && (parts == 1 || dims.size() >= 2);
    };
    if (!fits(outs.size()) || !fits(xs.size()))
        throw std::invalid_argument(op + std::to_string(xs.size()) + " input and " + std::to_string(outs.size()) +
                                    " output parts for " + std::to_string(dims.size()) + " dims (expected 1 to " +
                                    std::to_string(Backend::kMaxPermuteParts) +
                                    " a side, more than 1 only with 2 dims or more)");
    if (dims.size() != x_shape.size())
        throw std::invalid_argument(op + std::to_string(dims.size()) + " dims for shape " + shape_str(x_shape));
    const std::int64_t total = shape_numel(x_shape);
    const auto check_side = [&](const char* side, std::size_t parts, auto numel_of, auto dtype_of) {
        for (std::size_t i = 0; i < parts; ++i)
            if (numel_of(i) * static_cast<std::int64_t>(parts) != total || dtype_of(i) != xs[0]->dtype())
                throw std::invalid_argument(op + side + " part " + std::to_string(i) + " holds " +
                                            std::to_string(numel_of(i)) + " " + dtype_name(dtype_of(i)) +
                                            " elements (expected " + std::to_string(total) + " / " +
                                            std::to_string(parts) + " " + dtype_name(xs[0]->dtype()) + " for " +
                                            shape_str(x_shape) + ")");
    };
    check_side("input", xs.size(), [&](std::size_t i) { return xs[i]->numel(); }, [&](std::size_t i) { return xs[i]->dtype(); });
    check_side("output", outs.size(), [&](std::size_t i) { return outs[i]->numel(); },
               [&](std::size_t i) { return outs[i]->dtype(); });
}

}  // namespace bplab
