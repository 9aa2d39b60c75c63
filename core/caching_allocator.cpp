// core/caching_allocator.cpp — size classes, reuse of freed blocks, and a retry with an empty cache before
// an out-of-memory error that says what was asked for and what the allocator holds.
#include "core/caching_allocator.h"

#include <algorithm>
#include <bit>
#include <cstdio>

namespace bplab {
namespace {

constexpr std::size_t kSmallStep = 512, kLargeFrom = std::size_t{1} << 20;

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

std::size_t CachingAllocator::size_class(std::size_t nbytes) {
    if (nbytes == 0) return kSmallStep;
    if (nbytes < kLargeFrom) return (nbytes + kSmallStep - 1) / kSmallStep * kSmallStep;
    const std::size_t step = std::bit_floor(nbytes) / 4;
    return (nbytes + step - 1) / step * step;
}

std::size_t CachingAllocator::block_size(std::size_t nbytes) const {
    return keep_freed_ ? size_class(nbytes) : std::max<std::size_t>(nbytes, 1);
}

void* CachingAllocator::allocate(std::size_t nbytes) {
    const std::size_t block = block_size(nbytes);
    std::lock_guard lock(mutex_);
    void* ptr = nullptr;
    if (auto it = cached_.find(block); it != cached_.end() && !it->second.empty()) {
        ptr = it->second.back();
        it->second.pop_back();
        cached_bytes_ -= static_cast<std::int64_t>(block);
    } else {
        ptr = raw_.allocate(block);
        if (!ptr && cached_bytes_ > 0) {  // the device may be full of our own cached blocks
            release_cache_locked();
            ptr = raw_.allocate(block);
        }
        if (!ptr)
            throw OutOfMemory(raw_.name() + ": out of memory allocating " + mib(static_cast<std::int64_t>(nbytes)) +
                              " (block " + mib(static_cast<std::int64_t>(block)) + ") after returning the cache; " +
                              stats_text_locked());
        ++raw_allocations_;
        reserved_ += static_cast<std::int64_t>(block);
    }
    current_ += static_cast<std::int64_t>(nbytes);
    if (current_ > peak_) peak_ = current_;
    ++allocations_;
    return ptr;
}

void CachingAllocator::deallocate(void* ptr, std::size_t nbytes) {
    if (!ptr) return;
    const std::size_t block = block_size(nbytes);
    std::lock_guard lock(mutex_);
    current_ -= static_cast<std::int64_t>(nbytes);
    if (!keep_freed_) {
        raw_.deallocate(ptr);
        reserved_ -= static_cast<std::int64_t>(block);
        return;
    }
    cached_[block].push_back(ptr);
    cached_bytes_ += static_cast<std::int64_t>(block);
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
    for (auto& [block, blocks] : cached_) {
        for (void* p : blocks) raw_.deallocate(p);
        reserved_ -= static_cast<std::int64_t>(block * blocks.size());
        blocks.clear();
    }
    cached_bytes_ = 0;
}

std::string CachingAllocator::stats_text_locked() const {
    return "in use " + mib(current_) + ", reserved " + mib(reserved_) + ", peak " + mib(peak_);
}

}  // namespace bplab
