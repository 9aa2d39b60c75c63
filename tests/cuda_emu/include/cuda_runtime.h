// tests/cuda_emu/include/cuda_runtime.h — the part of the CUDA runtime and kernel language that bplab's backend
// uses, emulated on the CPU, so its kernels run and are compared with the CPU backend on machines without a GPU.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>

// ---- the runtime API (memory is host memory; every queued call runs at once, in order) ----

enum cudaError_t {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInvalidDevice = 101,
    cudaErrorLaunchFailure = 719,  // a kernel broke a rule of the GPU (the message names which)
};
enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
    cudaMemcpyDefault = 4,
};
struct bplab_emu_stream;
struct bplab_emu_event;
using cudaStream_t = bplab_emu_stream*;
using cudaEvent_t = bplab_emu_event*;
using cudaHostFn_t = void (*)(void*);
constexpr unsigned cudaEventDisableTiming = 2;

struct cudaDeviceProp {
    char name[256];
    int major, minor;
    std::size_t totalGlobalMem;
};

cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaDeviceReset();
cudaError_t cudaGetLastError();
const char* cudaGetErrorString(cudaError_t error);
cudaError_t cudaMalloc(void** ptr, std::size_t bytes);
cudaError_t cudaFree(void* ptr);
cudaError_t cudaMallocHost(void** ptr, std::size_t bytes);
cudaError_t cudaFreeHost(void* ptr);
cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind, cudaStream_t stream = nullptr);
cudaError_t cudaMemset(void* ptr, int value, std::size_t bytes);
cudaError_t cudaMemsetAsync(void* ptr, int value, std::size_t bytes, cudaStream_t stream = 0);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = nullptr);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventDestroy(cudaEvent_t event);
cudaError_t cudaLaunchHostFunc(cudaStream_t stream, cudaHostFn_t fn, void* data);

template <class T>
cudaError_t cudaMalloc(T** ptr, std::size_t bytes) { return cudaMalloc(reinterpret_cast<void**>(ptr), bytes); }
template <class T>
cudaError_t cudaMallocHost(T** ptr, std::size_t bytes) { return cudaMallocHost(reinterpret_cast<void**>(ptr), bytes); }

// ---- the kernel language ----

#define __global__
#define __device__
#define __host__
// Blocks run one after another, so one static copy serves them all. Every copy lives in the section bplab_shared,
// which the emulator fills with 0xFF bytes (NaN, −1) before each block: shared memory starts as garbage there, as
// on a GPU, so a kernel that reads what its block never wrote fails instead of reading zeros or a stale value.
#define __shared__ static __attribute__((section("bplab_shared")))

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

/// The built-in coordinates of the emulated thread that runs now (one runs at a time).
inline dim3 threadIdx, blockIdx, blockDim, gridDim;
constexpr int warpSize = 32;

using std::erf;
using std::exp;
using std::log;
using std::pow;
using std::sqrt;

namespace bplab_emu {

/// Runs body(ctx) once per thread of the grid; blocks run in turn, the threads of a block as fibers.
void run_grid(dim3 grid, dim3 block, std::size_t shared_bytes, void (*body)(void*), void* ctx);
/// The calling thread waits at its block's barrier.
void sync_threads();
/// The calling lane sends `bits`, waits for its warp, and gets what lane `src` sent (its own if src is outside).
std::uint64_t warp_exchange(std::uint64_t bits, int src, unsigned mask);
/// This thread's lane within its warp.
int lane_id();

/// `kernel<<<grid, block, shared, stream>>>(args...)` becomes Launch{grid, block, ...}.bind(call)(args...):
/// the arguments are copied once, as a launch copies them, and each thread calls the kernel with its own copy.
/// Every launch runs at once, so the stream is accepted and not used.
struct Launch {
    dim3 grid, block;
    std::size_t shared_bytes = 0;

    Launch(dim3 g, dim3 b, std::size_t shared = 0, cudaStream_t = nullptr) : grid(g), block(b), shared_bytes(shared) {}

    template <class Call>
    auto bind(Call call) const {
        return [launch = *this, call](auto&&... args) {
            using Args = std::tuple<std::decay_t<decltype(args)>...>;
            struct Context {
                Call call;
                Args args;
            } context{call, Args(args...)};
            run_grid(launch.grid, launch.block, launch.shared_bytes,
                     [](void* p) {
                         auto* c = static_cast<Context*>(p);
                         std::apply(c->call, Args(c->args));
                     },
                     &context);
        };
    }
};

template <class T>
T shuffle(unsigned mask, T value, int src) {
    static_assert(sizeof(T) <= sizeof(std::uint64_t) && std::is_trivially_copyable_v<T>);
    std::uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof value);
    bits = warp_exchange(bits, src, mask);
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

}  // namespace bplab_emu

inline void __syncthreads() { bplab_emu::sync_threads(); }

template <class T>
T __shfl_xor_sync(unsigned mask, T value, int lane_mask) {
    return bplab_emu::shuffle(mask, value, bplab_emu::lane_id() ^ lane_mask);
}

template <class T>
T __shfl_down_sync(unsigned mask, T value, unsigned delta) {
    const int lane = bplab_emu::lane_id(), src = lane + static_cast<int>(delta);
    return bplab_emu::shuffle(mask, value, src < warpSize ? src : lane);
}
