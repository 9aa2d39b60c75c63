// core/allocator.cpp — the CPU allocator (the caching policy over 64-byte aligned malloc, counting) and the
// per-device registry. Counting is exact and deterministic, so tests can assert peak bytes of a known graph.
#include "core/allocator.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <stdexcept>

#include "core/caching_allocator.h"

namespace bplab {
namespace {

/// Host memory for the caching policy: 64-byte aligned blocks from the C library (nullptr when it has none).
class AlignedMalloc final : public RawAllocator {
public:
    void* allocate(std::size_t nbytes) override {  // the exact size: under ASan nothing rounds it (caching off)
        void* p = nullptr;
        return posix_memalign(&p, 64, nbytes) == 0 ? p : nullptr;
    }
    void deallocate(void* ptr) override { std::free(ptr); }
    std::string name() const override { return "cpu"; }
};

/// Hands out inner's blocks filled with 0xFF bytes by `fill`.
class Poisoned final : public Allocator {
public:
    Poisoned(Allocator& inner, void (*fill)(void*, std::size_t)) : inner_(inner), fill_(fill) {}
    void* allocate(std::size_t nbytes) override {
        void* p = inner_.allocate(nbytes);
        fill_(p, nbytes);
        return p;
    }
    void deallocate(void* ptr, std::size_t nbytes) override { inner_.deallocate(ptr, nbytes); }
    MemoryStats stats() const override { return inner_.stats(); }
    void reset_peak() override { inner_.reset_peak(); }
    void empty_cache() override { inner_.empty_cache(); }

private:
    Allocator& inner_;
    void (*fill_)(void*, std::size_t);
};

Allocator* make_cpu_allocator() {
    auto* caching = new CachingAllocator(*new AlignedMalloc, kCacheFreedBlocks);
    if (poison_requested()) return new Poisoned(*caching, [](void* p, std::size_t n) { std::memset(p, 0xFF, n); });
    return caching;
}

Allocator* g_allocators[2] = {nullptr, nullptr};

}  // namespace

Allocator& allocator_for(Device device) {
    // Freed blocks are kept and reused, as on the GPU: otherwise a step's large tensors come back from the OS as
    // fresh pages each time and their first writes fault (about a quarter of a convnext-mini step on 2 cores).
    // Never destroyed: tensors in static storage may be freed after it at exit.
    static Allocator* const cpu = make_cpu_allocator();
    if (device.is_cpu()) return *cpu;
    Allocator* a = g_allocators[static_cast<int>(DeviceType::cuda)];
    if (!a) throw std::runtime_error("allocator: no allocator for " + device.str() + " (bplab was built without CUDA, or no GPU is present)");
    return *a;
}

void register_allocator(DeviceType type, Allocator* allocator) { g_allocators[static_cast<int>(type)] = allocator; }

bool poison_requested() {
    const char* poison = std::getenv("BPLAB_POISON");
    return poison && std::string(poison) == "1";
}

std::unique_ptr<Allocator> poisoned(Allocator& inner, void (*fill)(void* ptr, std::size_t nbytes)) {
    return std::make_unique<Poisoned>(inner, fill);
}

}  // namespace bplab
