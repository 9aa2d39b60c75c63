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

void check_permute_parts(const char* backend, std::size_t outs, std::size_t xs, std::size_t dims) {
    const auto fits = [&](std::size_t parts) { return parts >= 1 && parts <= Backend::kMaxPermuteParts && (parts == 1 || dims >= 2); };
    if (!fits(outs) || !fits(xs))
        throw std::invalid_argument(std::string(backend) + " permute_parts: " + std::to_string(xs) + " input and " +
                                    std::to_string(outs) + " output parts for " + std::to_string(dims) +
                                    " dims (expected 1 to " + std::to_string(Backend::kMaxPermuteParts) +
                                    " a side, more than 1 only with 2 dims or more)");
}

}  // namespace bplab
