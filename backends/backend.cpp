// backends/backend.cpp — the registry that maps a device to its backend. The CPU backend always exists; the
// CUDA backend registers itself when a GPU is present, and a BackendProfiler stands in front of either for a time.
#include "backends/backend.h"

#include <stdexcept>

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

}  // namespace bplab
