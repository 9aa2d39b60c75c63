// tests/cuda_emu/fibers.cpp — runs a kernel's grid on one CPU thread: blocks in turn, each thread of a block as a
// fiber that gives way only at __syncthreads and warp shuffles, so barriers and lane exchanges mean what they do
// on a GPU, and a kernel that breaks their rules (a shuffle reading an exited lane, a warp split between a
// barrier and a shuffle) is reported.
// x86-64 only: the fiber switch is a few lines of assembly (no system call per switch, unlike swapcontext).
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda_runtime.h"
#include "runtime_state.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define BPLAB_EMU_ASAN 1
#endif

// Saves the callee-saved registers and the FP control words on the current stack, stores its pointer in
// *save_sp, and continues on next_sp where an earlier call (or fiber_frame below) left the same layout.
extern "C" void bplab_emu_switch(void** save_sp, void* next_sp);
asm(R"(
    .pushsection .text
    .globl bplab_emu_switch
    .type bplab_emu_switch, @function
bplab_emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size bplab_emu_switch, .-bplab_emu_switch
    .popsection
)");

// The linker's bounds of the section that holds every __shared__ variable (include/cuda_runtime.h); weak, so
// a program without one links too (both are then null).
extern "C" char __start_bplab_shared[] __attribute__((weak));
extern "C" char __stop_bplab_shared[] __attribute__((weak));

namespace bplab_emu {
namespace {

enum class State { ready, at_block_barrier, at_warp_barrier, done };

struct Fiber {
    void* sp = nullptr;
    char* stack = nullptr;
    State state = State::ready;
    dim3 index;
    std::uint64_t sent = 0, received = 0;
    int source = 0;
};

#if defined(BPLAB_EMU_ASAN)
constexpr std::size_t kStackBytes = 256 << 10;  // sanitizer frames are larger
#else
constexpr std::size_t kStackBytes = 64 << 10;
#endif

/// A launch broke a rule of the GPU; run_grid turns this into the sticky launch error.
struct KernelFault : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Scheduler {
    std::vector<Fiber> fibers;
    void* main_sp = nullptr;
    Fiber* current = nullptr;
    void (*body)(void*) = nullptr;
    void* context = nullptr;
    const void* main_stack_bottom = nullptr;
    std::size_t main_stack_size = 0;

    ~Scheduler() {
        for (Fiber& f : fibers) munmap(f.stack - page(), kStackBytes + page());
    }
    static std::size_t page() { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }

    /// One stack per thread of the largest block so far, each above a guard page.
    void reserve(std::size_t threads) {
        while (fibers.size() < threads) {
            void* p = mmap(nullptr, kStackBytes + page(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) throw std::runtime_error("cuda emulator: out of memory for fiber stacks");
            mprotect(p, page(), PROT_NONE);
            fibers.push_back(Fiber{});
            fibers.back().stack = static_cast<char*>(p) + page();
        }
    }
};

Scheduler& scheduler() {
    static Scheduler s;
    return s;
}

/// BPLAB_EMU_REVERSE=1 runs blocks, and the threads of a block between barriers, last to first: a kernel
/// whose result depends on that order (a race on the GPU) then gives another result than in the default order.
bool reversed() {
    static const bool r = [] {
        const char* v = std::getenv("BPLAB_EMU_REVERSE");
        return v && std::string(v) == "1";
    }();
    return r;
}

int linear(const dim3& t) { return static_cast<int>(t.x + t.y * blockDim.x + t.z * blockDim.x * blockDim.y); }

/// "(x, y, z)".
std::string dims(const dim3& d) {
    char text[48];
    std::snprintf(text, sizeof text, "(%u, %u, %u)", d.x, d.y, d.z);
    return text;
}

[[noreturn]] void fiber_main();

/// Lays out a fresh frame on the fiber's stack that bplab_emu_switch "returns" from into fiber_main.
void* fiber_frame(char* stack) {
#if defined(BPLAB_EMU_ASAN)
    __asan_unpoison_memory_region(stack, kStackBytes);  // shadow left by the fiber that used this stack before
#endif
    auto* top = reinterpret_cast<std::uint64_t*>(stack + kStackBytes);  // 16-byte aligned (pages are)
    top[-1] = 0;                                                        // fiber_main never returns
    top[-2] = reinterpret_cast<std::uint64_t>(&fiber_main);             // at entry, rsp ≡ 8 (mod 16)
    for (int r = 3; r <= 8; ++r) top[-r] = 0;                           // rbp, rbx, r12–r15
    top[-9] = 0x1F80u | (std::uint64_t{0x037Fu} << 32);                  // default MXCSR and x87 control word
    return top - 9;
}

void resume(Fiber& f) {
    Scheduler& s = scheduler();
    s.current = &f;
    threadIdx = f.index;
#if defined(BPLAB_EMU_ASAN)
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, f.stack, kStackBytes);
    bplab_emu_switch(&s.main_sp, f.sp);
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#else
    bplab_emu_switch(&s.main_sp, f.sp);
#endif
}

/// Leaves the running fiber in `state` and returns to the scheduler (for good when the state is done).
void suspend(State state) {
    Scheduler& s = scheduler();
    Fiber& f = *s.current;
    f.state = state;
#if defined(BPLAB_EMU_ASAN)
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(state == State::done ? nullptr : &fake, s.main_stack_bottom, s.main_stack_size);
    bplab_emu_switch(&f.sp, s.main_sp);
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#else
    bplab_emu_switch(&f.sp, s.main_sp);
#endif
}

void fiber_main() {
    Scheduler& s = scheduler();
#if defined(BPLAB_EMU_ASAN)
    __sanitizer_finish_switch_fiber(nullptr, &s.main_stack_bottom, &s.main_stack_size);
#endif
    s.body(s.context);
    suspend(State::done);
    std::abort();  // a finished fiber is never resumed
}

/// Lets through the warps whose lanes that have not exited all wait at a shuffle; false if there was none. As
/// in CUDA, exited lanes do not hold a full-mask shuffle back, but reading from one (or from a lane past the end
/// of a partial warp) is undefined, and reported. A lane asking for itself (__shfl_down_sync past lane 31) keeps
/// its value.
bool release_warps(int threads) {
    Scheduler& s = scheduler();
    bool released = false;
    for (int w = 0; w < threads; w += warpSize) {
        const int end = std::min(threads, w + warpSize);
        int waiting = 0, running = 0;
        for (int t = w; t < end; ++t) {
            const State st = s.fibers[static_cast<std::size_t>(t)].state;
            waiting += st == State::at_warp_barrier;
            running += st == State::ready || st == State::at_block_barrier;
        }
        if (waiting == 0 || running > 0) continue;
        for (int t = w; t < end; ++t) {
            Fiber& f = s.fibers[static_cast<std::size_t>(t)];
            if (f.state != State::at_warp_barrier) continue;
            const int src = w + f.source;
            if (src >= end || s.fibers[static_cast<std::size_t>(src)].state != State::at_warp_barrier)
                throw KernelFault("block " + dims(blockIdx) + ", warp " + std::to_string(w / warpSize) + ": lane " +
                                  std::to_string(t - w) + " shuffles from lane " + std::to_string(f.source) + ", which " +
                                  (src >= end ? "does not exist (a partial warp)" : "has exited"));
            f.received = s.fibers[static_cast<std::size_t>(src)].sent;
        }
        for (int t = w; t < end; ++t)
            if (s.fibers[static_cast<std::size_t>(t)].state == State::at_warp_barrier)
                s.fibers[static_cast<std::size_t>(t)].state = State::ready;
        released = true;
    }
    return released;
}

void run_block(int threads) {
    Scheduler& s = scheduler();
    for (int t = 0; t < threads; ++t) {
        Fiber& f = s.fibers[static_cast<std::size_t>(t)];
        f.sp = fiber_frame(f.stack);
        f.state = State::ready;
        f.index = dim3(static_cast<unsigned>(t) % blockDim.x, static_cast<unsigned>(t) / blockDim.x % blockDim.y,
                       static_cast<unsigned>(t) / (blockDim.x * blockDim.y));
    }
    for (;;) {
        for (int i = 0; i < threads; ++i) {
            Fiber& f = s.fibers[static_cast<std::size_t>(reversed() ? threads - 1 - i : i)];
            if (f.state == State::ready) resume(f);
        }
        if (release_warps(threads)) continue;
        int at_barrier = 0, done = 0;
        for (int t = 0; t < threads; ++t) {
            at_barrier += s.fibers[static_cast<std::size_t>(t)].state == State::at_block_barrier;
            done += s.fibers[static_cast<std::size_t>(t)].state == State::done;
        }
        if (done == threads) return;
        if (at_barrier + done < threads)
            throw KernelFault("block " + dims(blockIdx) + " deadlocks: some threads wait at __syncthreads while " +
                              "others of their warp wait at a shuffle");
        for (int t = 0; t < threads; ++t)
            if (s.fibers[static_cast<std::size_t>(t)].state == State::at_block_barrier)
                s.fibers[static_cast<std::size_t>(t)].state = State::ready;
    }
}


/// The limits of compute capability 9.0 that a launch must respect.
std::string configuration_error(const dim3& grid, const dim3& block, std::size_t shared_bytes) {
    const std::uint64_t threads = std::uint64_t{block.x} * block.y * block.z;
    if (grid.x == 0 || grid.y == 0 || grid.z == 0 || threads == 0) return "an empty grid or block";
    if (block.x > 1024 || block.y > 1024 || block.z > 64 || threads > 1024) return "more than 1024 threads per block";
    if (grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535) return "a grid beyond (2³¹−1, 65535, 65535)";
    if (shared_bytes > 48 * 1024) return "more than 48 KiB of dynamic shared memory";
    return "";
}

}  // namespace

namespace {

/// Shared memory at a block's start: garbage on a GPU, 0xFF bytes here.
void poison_shared_memory() {
    char* const first = __start_bplab_shared;
    char* const last = __stop_bplab_shared;
    if (first != last) std::memset(first, 0xFF, static_cast<std::size_t>(last - first));
}

}  // namespace

void run_grid(dim3 grid, dim3 block, std::size_t shared_bytes, void (*body)(void*), void* ctx) {
    if (launch_blocked()) return;
    if (const std::string bad = configuration_error(grid, block, shared_bytes); !bad.empty()) {
        set_error(cudaErrorInvalidConfiguration, "launch with grid " + dims(grid) + " and block " + dims(block) +
                                                     ": " + bad + " (too many resources requested for launch)");
        return;
    }
    Scheduler& s = scheduler();
    const int threads = static_cast<int>(block.x * block.y * block.z);
    s.reserve(static_cast<std::size_t>(threads));
    s.body = body;
    s.context = ctx;
    gridDim = grid;
    blockDim = block;
    try {
        const std::uint64_t blocks = std::uint64_t{grid.x} * grid.y * grid.z;
        for (std::uint64_t i = 0; i < blocks; ++i) {
            const std::uint64_t b = reversed() ? blocks - 1 - i : i;
            blockIdx = dim3(static_cast<unsigned>(b % grid.x), static_cast<unsigned>(b / grid.x % grid.y),
                            static_cast<unsigned>(b / (std::uint64_t{grid.x} * grid.y)));
            poison_shared_memory();
            run_block(threads);
        }
    } catch (const KernelFault& fault) {
        set_sticky_error(cudaErrorLaunchFailure, std::string("kernel fault: ") + fault.what());
    }
}

void sync_threads() { suspend(State::at_block_barrier); }

std::uint64_t warp_exchange(std::uint64_t bits, int src, unsigned mask) {
    Fiber& f = *scheduler().current;
    if (mask != 0xffffffffu) {
        std::fprintf(stderr, "cuda emulator: shuffle with mask 0x%08x: only full warps are emulated\n", mask);
        std::abort();
    }
    f.sent = bits;
    f.source = src;
    suspend(State::at_warp_barrier);
    return f.received;
}

int lane_id() { return linear(threadIdx) % warpSize; }

}  // namespace bplab_emu
