// core/caching_allocator.cpp — segments, best-fit blocks cut from them, merging of free neighbours, and a retry
// with the free segments returned before an out-of-memory error that says what was asked for and what is held.
#include "core/caching_allocator.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <memory>

namespace bplab {
namespace {

constexpr std::size_t kAlign = 512, kSmallMax = std::size_t{1} << 20, kSmallSegment = 2 * kSmallMax,
                      kMidSegment = 20 * kSmallMax, kMidMax = 10 * kSmallMax, kLargeStep = 2 * kSmallMax;

std::size_t round_up(std::size_t n, std::size_t step) { return (n + step - 1) / step * step; }

std::string mib(std::int64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    return text;
}

}  // namespace

CachingAllocator::~CachingAllocator() {
    try {
        empty_cache();
    } catch (...) {  // NOLINT(bugprone-empty-catch): nothing useful can be done at this point
    }
}

std::size_t CachingAllocator::round_size(std::size_t nbytes) { return round_up(std::max<std::size_t>(nbytes, 1), kAlign); }

bool CachingAllocator::is_small(std::size_t block) { return block <= kSmallMax; }

std::size_t CachingAllocator::segment_size(std::size_t block) {
    if (is_small(block)) return kSmallSegment;
    if (block < kMidMax) return kMidSegment;
    return round_up(block, kLargeStep);
}

void* CachingAllocator::allocate(std::size_t nbytes) {
    std::lock_guard lock(mutex_);
    if (nbytes > std::numeric_limits<std::size_t>::max() / 2)  // rounding it up would wrap around
        throw OutOfMemory(raw_.name() + ": out of memory allocating " + std::to_string(nbytes) +
                          " bytes (more than any device holds)");
    void* ptr = nullptr;
    if (!keep_freed_) {
        const std::size_t exact = std::max<std::size_t>(nbytes, 1);
        ptr = raw_.allocate(exact);
        if (ptr) {
            ++raw_allocations_;
            reserved_ += static_cast<std::int64_t>(exact);
        }
    } else {
        const std::size_t size = round_size(nbytes);
        const bool small = is_small(size);
        Block* block = take_free_block_locked(size, small);
        if (!block) block = new_segment_locked(size, small);
        if (!block && cached_bytes_ > 0) {  // the device may be full of our own free segments
            release_cache_locked();
            block = new_segment_locked(size, small);
        }
        if (block) {
            try {
                live_.emplace(block->ptr, block);
            } catch (...) {  // no host memory for the map: the block goes back to the free set
                free_block_locked(block);
                throw;
            }
            block->in_use = true;
            ptr = block->ptr;
        }
    }
    if (!ptr)
        throw OutOfMemory(raw_.name() + ": out of memory allocating " + mib(static_cast<std::int64_t>(nbytes)) +
                          " after returning the free segments; " + stats_text_locked());
    current_ += static_cast<std::int64_t>(nbytes);
    peak_ = std::max(peak_, current_);
    ++allocations_;
    return ptr;
}

CachingAllocator::Block* CachingAllocator::take_free_block_locked(std::size_t size, bool small) {
    FreeBlocks& free = pool(small);
    Block probe{nullptr, size, small, false, nullptr, nullptr};
    const auto it = free.lower_bound(&probe);  // the smallest block of at least `size` bytes
    if (it == free.end()) return nullptr;
    Block* block = *it;
    // Cut off the rest when it can serve another request of this pool; a large block keeps a rest of up to
    // 1 MiB rather than leave a small piece among large ones. What can throw (new, insert) comes first.
    const std::size_t rest = block->size - size;
    if (small ? rest >= kAlign : rest > kSmallMax) {
        auto tail = std::make_unique<Block>(Block{block->ptr + size, rest, small, false, block, block->next});
        free.insert(tail.get());
        free.erase(it);
        if (block->next) block->next->prev = tail.get();
        block->next = tail.release();
        block->size = size;
    } else {
        free.erase(it);
    }
    cached_bytes_ -= static_cast<std::int64_t>(block->size);
    return block;
}

CachingAllocator::Block* CachingAllocator::new_segment_locked(std::size_t size, bool small) {
    const std::size_t bytes = segment_size(size);
    auto segment = std::make_unique<Block>(Block{nullptr, bytes, small, false, nullptr, nullptr});
    segment->ptr = static_cast<char*>(raw_.allocate(bytes));
    if (!segment->ptr) return nullptr;
    try {
        pool(small).insert(segment.get());
    } catch (...) {
        raw_.deallocate(segment->ptr);
        throw;
    }
    segment.release();
    ++raw_allocations_;
    reserved_ += static_cast<std::int64_t>(bytes);
    cached_bytes_ += static_cast<std::int64_t>(bytes);
    return take_free_block_locked(size, small);
}

void CachingAllocator::deallocate(void* ptr, std::size_t nbytes) {
    if (!ptr) return;
    std::lock_guard lock(mutex_);
    if (!keep_freed_) {
        raw_.deallocate(ptr);
        current_ -= static_cast<std::int64_t>(nbytes);
        reserved_ -= static_cast<std::int64_t>(std::max<std::size_t>(nbytes, 1));
        return;
    }
    const auto it = live_.find(ptr);
    if (it == live_.end()) throw std::logic_error(raw_.name() + ": deallocate of a pointer this allocator did not hand out");
    current_ -= static_cast<std::int64_t>(nbytes);
    Block* block = it->second;
    live_.erase(it);
    free_block_locked(block);
}

void CachingAllocator::free_block_locked(Block* block) {
    FreeBlocks& free = pool(block->small);
    block->in_use = false;
    cached_bytes_ += static_cast<std::int64_t>(block->size);
    // `left` takes over its right neighbour `right` (both out of the free set, whose order is by size).
    const auto absorb = [](Block* left, Block* right) {
        left->size += right->size;
        left->next = right->next;
        if (right->next) right->next->prev = left;
        delete right;
    };
    if (Block* prev = block->prev; prev && !prev->in_use) {
        free.erase(prev);
        absorb(prev, block);
        block = prev;
    }
    if (Block* next = block->next; next && !next->in_use) {
        free.erase(next);
        absorb(block, next);
    }
    free.insert(block);
}

MemoryStats CachingAllocator::stats() const {
    std::lock_guard lock(mutex_);
    return {current_, peak_, reserved_, allocations_};
}

void CachingAllocator::reset_peak() {
    std::lock_guard lock(mutex_);
    peak_ = current_;
}

void CachingAllocator::empty_cache() {
    std::lock_guard lock(mutex_);
    release_cache_locked();
}

std::int64_t CachingAllocator::raw_allocations() const {
    std::lock_guard lock(mutex_);
    return raw_allocations_;
}

void CachingAllocator::release_cache_locked() {
    for (FreeBlocks* free : {&free_small_, &free_large_}) {
        for (auto it = free->begin(); it != free->end();) {
            Block* block = *it;
            if (block->prev || block->next) {  // part of a segment still in use
                ++it;
                continue;
            }
            raw_.deallocate(block->ptr);
            reserved_ -= static_cast<std::int64_t>(block->size);
            cached_bytes_ -= static_cast<std::int64_t>(block->size);
            it = free->erase(it);
            delete block;
        }
    }
}

std::string CachingAllocator::stats_text_locked() const {
    std::size_t largest_free = 0;
    for (const FreeBlocks* free : {&free_small_, &free_large_})
        if (!free->empty()) largest_free = std::max(largest_free, (*free->rbegin())->size);
    return "in use " + mib(current_) + ", reserved " + mib(reserved_) + " (" + mib(cached_bytes_) +
           " of it in free blocks, the largest " + mib(static_cast<std::int64_t>(largest_free)) + "), peak " + mib(peak_);
}

}  // namespace bplab
