// core/caching_allocator.h — a caching allocator over a raw allocator: device memory is taken in segments, cut
// into blocks (best fit, split) and freed blocks merge with free neighbours, so a training loop stops calling
// cudaMalloc (or malloc, on the CPU) after its first step and holds little more than its peak.
#pragma once
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>

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
    /// keep_freed = false makes one device allocation of exactly the bytes requested per request and returns it
    /// when freed (for AddressSanitizer builds, which see a use after free or an overrun only of memory that was
    /// really freed or really ends there); current and peak are counted the same.
    explicit CachingAllocator(RawAllocator& raw, bool keep_freed = true) : raw_(raw), keep_freed_(keep_freed) {}
    /// Returns the cache; errors are swallowed here (at exit the device may already be gone, and a
    /// destructor must not throw).
    ~CachingAllocator() override;

    void* allocate(std::size_t nbytes) override;
    void deallocate(void* ptr, std::size_t nbytes) override;
    MemoryStats stats() const override;
    void reset_peak() override;
    /// Returns every segment with no block in use to the device.
    void empty_cache() override;
    /// Calls made to the raw allocator so far (a warm loop makes none).
    std::int64_t raw_allocations() const;

    /// The block size a request is served with: a multiple of 512 bytes (so every block stays 512-byte aligned).
    static std::size_t round_size(std::size_t nbytes);
    /// Whether a block of this size comes from the small pool (up to 1 MiB), whose segments it shares with
    /// other small blocks only, so that small tensors do not cut up the segments of large ones.
    static bool is_small(std::size_t block);
    /// What is asked of the device when no free block fits: small blocks share 2 MiB segments; a large block
    /// under 10 MiB gets a 20 MiB segment (its siblings of similar size follow it there); a larger one its own
    /// size rounded up to 2 MiB.
    static std::size_t segment_size(std::size_t block);

private:
    /// A piece of a segment; prev/next are its neighbours in the same segment (by address), null at the ends.
    struct Block {
        char* ptr;
        std::size_t size;
        bool small;
        bool in_use;
        Block* prev;
        Block* next;
    };
    struct BySizeThenAddress {
        bool operator()(const Block* a, const Block* b) const {
            return a->size != b->size ? a->size < b->size : a->ptr < b->ptr;
        }
    };
    using FreeBlocks = std::set<Block*, BySizeThenAddress>;

    FreeBlocks& pool(bool small) { return small ? free_small_ : free_large_; }
    /// The smallest free block of the pool that holds `size` bytes, cut to size; null when none does.
    Block* take_free_block_locked(std::size_t size, bool small);
    /// A new segment from the device holding a block of `size`; null when the device is full.
    Block* new_segment_locked(std::size_t size, bool small);
    /// Marks a block free and merges it with its free neighbours.
    void free_block_locked(Block* block);
    /// Returns every segment that is wholly free to the device.
    void release_cache_locked();
    std::string stats_text_locked() const;

    RawAllocator& raw_;
    const bool keep_freed_;
    mutable std::mutex mutex_;
    FreeBlocks free_small_, free_large_;
    std::unordered_map<void*, Block*> live_;  // pointer handed out -> its block
    std::int64_t current_ = 0, peak_ = 0, reserved_ = 0, cached_bytes_ = 0, allocations_ = 0, raw_allocations_ = 0;
};

}  // namespace bplab
