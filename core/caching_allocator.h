// core/caching_allocator.h — a caching allocator over a raw allocator: freed blocks are kept by size class and
// reused, so a training loop stops calling cudaMalloc (or malloc, on the CPU) after its first step.
#pragma once
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/allocator.h"

namespace bplab {

/// What the caching allocator asks the device for: allocate returns nullptr when the device is full.
class RawAllocator {
public:
    virtual ~RawAllocator() = default;
    virtual void* allocate(std::size_t nbytes) = 0;
    virtual void deallocate(void* ptr) = 0;
    /// The device's name in error messages ("cuda:0").
    virtual std::string name() const = 0;
};

/// Thrown when a request fails even after the cache has been returned to the device.
class OutOfMemory : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Whether allocators cache freed blocks: not under AddressSanitizer, which then sees every use after free and
/// every overrun (the CUDA allocator too, when tests/cuda_emu runs the CUDA backend on the CPU).
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kCacheFreedBlocks = false;
#else
inline constexpr bool kCacheFreedBlocks = true;
#endif

/// Counts requested bytes as current and peak (so a graph's peak is the same number on every device) and
/// reserved bytes: blocks held from the raw allocator, in use or cached. Every device's allocator is one.
class CachingAllocator final : public Allocator {
public:
    /// keep_freed = false returns every freed block at once and asks for exactly the bytes requested (for
    /// AddressSanitizer builds, which see a use after free or an overrun only of memory that was really freed or
    /// really ends there); current and peak are counted the same.
    explicit CachingAllocator(RawAllocator& raw, bool keep_freed = true) : raw_(raw), keep_freed_(keep_freed) {}
    /// Returns the cache; errors are swallowed here (at exit the device may already be gone, and a
    /// destructor must not throw).
    ~CachingAllocator() override;

    void* allocate(std::size_t nbytes) override;
    void deallocate(void* ptr, std::size_t nbytes) override;
    MemoryStats stats() const override;
    void reset_peak() override;
    /// Returns every cached (free) block to the device.
    void empty_cache() override;
    /// Calls made to the raw allocator so far (a warm loop makes none).
    std::int64_t raw_allocations() const;

    /// The block size a request is served with: 512-byte steps below 1 MiB, above it steps of a quarter of
    /// the request's power of two (at most 25 % more than asked).
    static std::size_t size_class(std::size_t nbytes);

private:
    /// size_class(nbytes) when blocks are cached, else nbytes itself (at least 1).
    std::size_t block_size(std::size_t nbytes) const;
    void release_cache_locked();
    std::string stats_text_locked() const;

    RawAllocator& raw_;
    const bool keep_freed_;
    mutable std::mutex mutex_;
    std::unordered_map<std::size_t, std::vector<void*>> cached_;  // size class -> free blocks
    std::int64_t current_ = 0, peak_ = 0, reserved_ = 0, cached_bytes_ = 0, allocations_ = 0, raw_allocations_ = 0;
};

}  // namespace bplab
