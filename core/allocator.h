// core/allocator.h — every tensor byte is allocated here, so that memory is a measurement.
// Each device has one allocator that counts current and peak bytes; SBP's savings are read from it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/device.h"

namespace bplab {

/// What an allocator has handed out: current and peak count the bytes tensors asked for; `reserved_bytes`
/// also counts the free blocks the (caching) allocator keeps for reuse, on the CPU as on the GPU.
struct MemoryStats {
    std::int64_t current_bytes = 0;
    std::int64_t peak_bytes = 0;
    std::int64_t reserved_bytes = 0;
    std::int64_t allocations = 0;  ///< number of allocate() calls since start
};

class Allocator {
public:
    virtual ~Allocator() = default;
    virtual void* allocate(std::size_t nbytes) = 0;
    virtual void deallocate(void* ptr, std::size_t nbytes) = 0;
    virtual MemoryStats stats() const = 0;
    /// Sets the peak to the current number of bytes.
    virtual void reset_peak() = 0;
    /// Gives the blocks kept for reuse back to the system (a caching allocator; others keep none).
    virtual void empty_cache() {}
};

/// The allocator of a device. CUDA's is installed by the CUDA backend when it is built.
Allocator& allocator_for(Device device);
/// Installs the allocator for a device type (used by backends at start-up).
void register_allocator(DeviceType type, Allocator* allocator);

/// True when the environment says BPLAB_POISON=1: then every device's new tensors start as 0xFF bytes (NaN in
/// floats, −1 in integers), so that an op reading memory it never wrote fails the tests that run this way
/// (tests/CMakeLists.txt), where a caching allocator would otherwise hand it a reused block's stale numbers.
bool poison_requested();
/// An allocator that hands out inner's blocks after `fill` (which writes 0xFF bytes on its device).
std::unique_ptr<Allocator> poisoned(Allocator& inner, void (*fill)(void* ptr, std::size_t nbytes));

inline MemoryStats memory_stats(Device device = Device::cpu()) { return allocator_for(device).stats(); }
inline void reset_peak(Device device = Device::cpu()) { allocator_for(device).reset_peak(); }
inline void empty_cache(Device device = Device::cpu()) { allocator_for(device).empty_cache(); }

}  // namespace bplab
