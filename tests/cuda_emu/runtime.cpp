// tests/cuda_emu/runtime.cpp — the runtime calls of include/cuda_runtime.h on host memory: one device, every
// queued copy or launch done before the call returns, errors reported the way the CUDA runtime reports them.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cuda_runtime.h"
#include "runtime_state.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define BPLAB_EMU_POISON(p, n) __asan_poison_memory_region(p, n)
#define BPLAB_EMU_UNPOISON(p, n) __asan_unpoison_memory_region(p, n)
#else
#define BPLAB_EMU_POISON(p, n) ((void)(p), (void)(n))
#define BPLAB_EMU_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

struct bplab_emu_event {};

namespace bplab_emu {
namespace {

/// The last error (cleared by cudaGetLastError), the sticky one (a kernel fault: never cleared but by a reset),
/// and the detailed message of the latest error with its code (kept after the clear, for cudaGetErrorString).
struct ErrorState {
    cudaError_t last = cudaSuccess, sticky = cudaSuccess, message_code = cudaSuccess;
    std::string message;
};

ErrorState& errors() {
    static ErrorState e;
    return e;
}

/// The emulated device's memory limit: BPLAB_EMU_MEMORY_MB, else 16 GiB (larger requests fail as on a GPU).
std::size_t memory_limit() {
    const char* mb = std::getenv("BPLAB_EMU_MEMORY_MB");
    return (mb ? std::strtoull(mb, nullptr, 10) : 16384ull) << 20;
}

std::size_t& in_use() {
    static std::size_t bytes = 0;
    return bytes;
}

/// Each allocation records its size in front of the pointer (for cudaFree's accounting) and is 256-byte aligned,
/// as cudaMalloc's are; its end is exact and the header is poisoned, so AddressSanitizer sees a kernel that
/// reads past either end.
constexpr std::size_t kHeader = 256;

cudaError_t fail(cudaError_t error, const std::string& message) {
    set_error(error, message);
    return error;
}

cudaError_t status() { return errors().sticky; }

}  // namespace

void set_error(cudaError_t error, const std::string& message) {
    if (errors().sticky != cudaSuccess) return;
    errors().last = errors().message_code = error;
    errors().message = message;
}

void set_sticky_error(cudaError_t error, const std::string& message) {
    if (errors().sticky != cudaSuccess) return;
    errors().last = errors().sticky = errors().message_code = error;
    errors().message = message;
    std::fprintf(stderr, "cuda emulator: %s\n", message.c_str());
}

bool launch_blocked() { return errors().sticky != cudaSuccess; }

}  // namespace bplab_emu

using bplab_emu::fail;

cudaError_t cudaGetDeviceCount(int* count) {
    *count = 1;
    return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
    *device = 0;
    return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
    return device == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice, "invalid device ordinal " + std::to_string(device));
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
    if (device != 0) return fail(cudaErrorInvalidDevice, "invalid device ordinal " + std::to_string(device));
    std::snprintf(prop->name, sizeof prop->name, "bplab CUDA emulator (CPU, one thread)");
    prop->major = 9;
    prop->minor = 0;
    prop->totalGlobalMem = bplab_emu::memory_limit();
    return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() { return bplab_emu::status(); }

cudaError_t cudaDeviceReset() {
    bplab_emu::errors() = {};
    return cudaSuccess;
}

cudaError_t cudaGetLastError() {
    auto& e = bplab_emu::errors();
    const cudaError_t last = e.last;
    if (e.sticky == cudaSuccess) e.last = cudaSuccess;
    return last;
}

const char* cudaGetErrorString(cudaError_t error) {
    auto& e = bplab_emu::errors();
    if (error == cudaSuccess) return "no error";
    if (error == e.message_code) return e.message.c_str();
    return "cuda emulator error";
}

cudaError_t cudaMalloc(void** ptr, std::size_t bytes) {
    *ptr = nullptr;
    if (const cudaError_t s = bplab_emu::status()) return s;
    if (bytes > bplab_emu::memory_limit() - bplab_emu::in_use())
        return fail(cudaErrorMemoryAllocation, "out of memory: " + std::to_string(bytes) + " bytes asked, " +
                                                   std::to_string(bplab_emu::in_use()) + " in use");
    void* raw = nullptr;
    if (posix_memalign(&raw, bplab_emu::kHeader, bytes + bplab_emu::kHeader) != 0) raw = nullptr;
    char* p = static_cast<char*>(raw);
    if (!p) return fail(cudaErrorMemoryAllocation, "out of host memory for " + std::to_string(bytes) + " bytes");
    *reinterpret_cast<std::size_t*>(p) = bytes;
    BPLAB_EMU_POISON(p, bplab_emu::kHeader);  // a kernel that reads before the start is caught too
    bplab_emu::in_use() += bytes;
    *ptr = p + bplab_emu::kHeader;
    return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
    if (!ptr) return bplab_emu::status();
    char* p = static_cast<char*>(ptr) - bplab_emu::kHeader;
    BPLAB_EMU_UNPOISON(p, bplab_emu::kHeader);
    bplab_emu::in_use() -= *reinterpret_cast<std::size_t*>(p);
    std::free(p);
    return bplab_emu::status();
}

cudaError_t cudaMallocHost(void** ptr, std::size_t bytes) {
    *ptr = std::malloc(bytes);
    return *ptr ? cudaSuccess : fail(cudaErrorMemoryAllocation, "out of pinned memory");
}

cudaError_t cudaFreeHost(void* ptr) {
    std::free(ptr);
    return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind) {
    if (const cudaError_t s = bplab_emu::status()) return s;
    if (bytes) std::memcpy(dst, src, bytes);
    return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
    return cudaMemcpy(dst, src, bytes, kind);
}

cudaError_t cudaMemset(void* ptr, int value, std::size_t bytes) {
    if (const cudaError_t s = bplab_emu::status()) return s;
    if (bytes) std::memset(ptr, value, bytes);
    return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* ptr, int value, std::size_t bytes, cudaStream_t) { return cudaMemset(ptr, value, bytes); }

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned) {
    *event = new bplab_emu_event;
    return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t) { return bplab_emu::status(); }
cudaError_t cudaEventSynchronize(cudaEvent_t) { return bplab_emu::status(); }

cudaError_t cudaEventDestroy(cudaEvent_t event) {
    delete event;
    return cudaSuccess;
}

cudaError_t cudaLaunchHostFunc(cudaStream_t, cudaHostFn_t fn, void* data) {
    if (const cudaError_t s = bplab_emu::status()) return s;
    fn(data);
    return cudaSuccess;
}
