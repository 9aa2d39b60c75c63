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
    void* allocate(std::size_t nbytes) override { return std::aligned_alloc(64, (nbytes + 63) / 64 * 64); }
    void deallocate(void* ptr) override { std::free(ptr); }
    std::string name() const override { return "cpu"; }
};

/// BPLAB_POISON=1: every new CPU tensor starts as 0xFF bytes (NaN in floats, −1 in integers), so an op that
/// reads memory it never wrote shows up as NaN in the tests that run this way, not as a reused block's numbers.
class Poisoned final : public Allocator {
public:
    explicit Poisoned(Allocator& inner) : inner_(inner) {}
    void* allocate(std::size_t nbytes) override {
        void* p = inner_.allocate(nbytes);
        std::memset(p, 0xFF, nbytes);
        return p;
    }
    void deallocate(void* ptr, std::size_t nbytes) override { inner_.deallocate(ptr, nbytes); }
    MemoryStats stats() const override { return inner_.stats(); }
    void reset_peak() override { inner_.reset_peak(); }

private:
    Allocator& inner_;
};

Allocator* make_cpu_allocator() {
#ifdef __SANITIZE_ADDRESS__
    auto* caching = new CachingAllocator(*new AlignedMalloc, false);  // let ASan see every free
#else
    auto* caching = new CachingAllocator(*new AlignedMalloc);
#endif
    const char* poison = std::getenv("BPLAB_POISON");
    if (poison && std::string(poison) == "1") return new Poisoned(*caching);
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

}  // namespace bplab
