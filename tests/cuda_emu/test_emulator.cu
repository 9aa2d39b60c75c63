// tests/cuda_emu/test_emulator.cu — the emulator's own rules: barriers order shared-memory writes, shared memory
// starts as garbage in each block, shuffles exchange lanes as on a GPU, each thread gets its own copy of the arguments, and broken kernels, bad launches
// and bad cuBLAS calls fail with an error instead of passing silently. Translated like backends/cuda/*.cu.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include <cublas_v2.h>

namespace {

/// Each thread writes its index, then (after the barrier) reads its neighbour's: wrong without the barrier.
__global__ void neighbour_kernel(int* out) {
    __shared__ int values[256];
    const int t = static_cast<int>(threadIdx.x);
    values[t] = t * 3;
    __syncthreads();
    out[t] = values[(t + 1) % static_cast<int>(blockDim.x)];
}

/// Thread 0 sums what every thread of the block wrote before the barrier.
__global__ void block_total_kernel(int* out) {
    __shared__ int values[256];
    values[threadIdx.x] = static_cast<int>(threadIdx.x) + 1;
    __syncthreads();
    if (threadIdx.x == 0) {
        int s = 0;
        for (unsigned i = 0; i < blockDim.x; ++i) s += values[i];
        out[blockIdx.x] = s;
    }
}

/// Block 0 writes its shared value; every block then reads it, written or not, and threads 0–1 of a block read
/// the two halves of a float they never wrote.
__global__ void stale_shared_kernel(int* out, float* never_written) {
    __shared__ int value;
    __shared__ float unwritten[2];
    if (blockIdx.x == 0 && threadIdx.x == 0) value = 7;
    __syncthreads();
    if (threadIdx.x == 0) out[blockIdx.x] = value;
    if (threadIdx.x < 2) never_written[blockIdx.x * 2 + threadIdx.x] = unwritten[threadIdx.x];
}

/// Lane l sends 10·l; records what xor `mask` and down `delta` bring back. Blocks may be 2-D: (32, rows).
__global__ void shuffle_kernel(int* xor_out, int* down_out, int mask, unsigned delta) {
    const int t = static_cast<int>(threadIdx.x + threadIdx.y * blockDim.x);
    const int lane = t % 32;
    xor_out[t] = __shfl_xor_sync(0xffffffffu, lane * 10, mask);
    down_out[t] = __shfl_down_sync(0xffffffffu, lane * 10, delta);
}

/// Each thread changes its own copy of n.
__global__ void argument_copy_kernel(int* out, int n) {
    n += static_cast<int>(threadIdx.x);
    out[threadIdx.x] = n;
}

/// Lanes 16–31 leave; lanes 0–15 then exchange among themselves (defined: exited lanes do not hold a full-mask
/// shuffle back) and, if `reach_exited`, read lanes 16–31 (undefined on a GPU).
__global__ void exited_lanes_kernel(int* out, bool reach_exited) {
    if (threadIdx.x >= 16) return;
    out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, static_cast<int>(threadIdx.x), reach_exited ? 16 : 1);
}

/// Half a warp waits at __syncthreads while the other half waits at a shuffle: a GPU hangs or worse.
__global__ void split_warp_kernel(int* out) {
    if (threadIdx.x < 16) __syncthreads();
    else out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1, 1);
}

/// Records the order in which threads run (a race on a GPU; in the emulator, its schedule made visible).
__global__ void arrival_kernel(int* order, int* next) { order[(*next)++] = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x); }

__global__ void write_index_kernel(int* out) { out[blockIdx.x * blockDim.x + threadIdx.x] = static_cast<int>(blockIdx.x); }

template <class T>
T* device_alloc(std::size_t n) {
    T* p = nullptr;
    REQUIRE(cudaMalloc(&p, n * sizeof(T)) == cudaSuccess);
    return p;
}

template <class LaunchInto>
std::vector<int> run_into(int n, LaunchInto launch) {
    int* d = device_alloc<int>(static_cast<std::size_t>(n));
    launch(d);
    REQUIRE(cudaGetLastError() == cudaSuccess);
    std::vector<int> host(static_cast<std::size_t>(n));
    REQUIRE(cudaMemcpy(host.data(), d, host.size() * sizeof(int), cudaMemcpyDeviceToHost) == cudaSuccess);
    cudaFree(d);
    return host;
}

/// Launches a broken kernel and checks that the fault is reported, sticks, and blocks later launches.
void require_fault(void (*launch)(int*), const std::string& words) {
    int* d = device_alloc<int>(64);
    launch(d);
    const cudaError_t err = cudaDeviceSynchronize();
    REQUIRE(err == cudaErrorLaunchFailure);
    CHECK(std::string(cudaGetErrorString(err)).find(words) != std::string::npos);
    CHECK(cudaGetLastError() == cudaErrorLaunchFailure);  // sticky
    cublasHandle_t h = nullptr;  // and cuBLAS fails in a faulted context, as on a GPU
    REQUIRE(cublasCreate(&h) == CUBLAS_STATUS_SUCCESS);
    const float one = 1, zero = 0, a = 2, b = 3;
    float c = 0;
    CHECK(cublasSgemmStridedBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, &a, 1, 0, &b, 1, 0, &zero, &c, 1, 0,
                                    1) == CUBLAS_STATUS_EXECUTION_FAILED);
    cublasDestroy(h);
    REQUIRE(cudaDeviceReset() == cudaSuccess);
    CHECK(cudaGetLastError() == cudaSuccess);
    cudaFree(d);
}

}  // namespace

TEST_CASE("emulator: a barrier makes every thread's shared-memory write visible to the others", "[cuda-emulator]") {
    const auto out = run_into(256, [](int* d) { neighbour_kernel<<<1, 256>>>(d); });
    for (int t = 0; t < 256; ++t) REQUIRE(out[static_cast<std::size_t>(t)] == (t + 1) % 256 * 3);
    const auto totals = run_into(3, [](int* d) { block_total_kernel<<<3, 100>>>(d); });
    for (int total : totals) REQUIRE(total == 100 * 101 / 2);
}

TEST_CASE("emulator: shared memory starts as 0xFF bytes in every block, not as zeros or the last block's values",
          "[cuda-emulator]") {
    float* floats = device_alloc<float>(6);
    REQUIRE(cudaMemset(floats, 0, 6 * sizeof(float)) == cudaSuccess);
    const auto ints = run_into(3, [&](int* d) { stale_shared_kernel<<<3, 32>>>(d, floats); });
    CHECK(ints == std::vector<int>{7, -1, -1});  // block 0 wrote 7; blocks 1 and 2 read garbage, not 7 or 0
    std::vector<float> fs(6);
    REQUIRE(cudaMemcpy(fs.data(), floats, sizeof(float) * fs.size(), cudaMemcpyDeviceToHost) == cudaSuccess);
    for (float f : fs) CHECK(std::isnan(f));
    cudaFree(floats);
}

TEST_CASE("emulator: warp shuffles exchange lanes as on a GPU, in 1-D and 2-D blocks", "[cuda-emulator]") {
    for (const auto& [rows, cols] : {std::pair{1, 32}, std::pair{8, 32}, std::pair{2, 64}}) {
        const int n = rows * cols;
        int* x = device_alloc<int>(static_cast<std::size_t>(n));
        int* d = device_alloc<int>(static_cast<std::size_t>(n));
        shuffle_kernel<<<1, dim3(static_cast<unsigned>(cols), static_cast<unsigned>(rows))>>>(x, d, 5, 3);
        REQUIRE(cudaGetLastError() == cudaSuccess);
        std::vector<int> xs(static_cast<std::size_t>(n)), ds(static_cast<std::size_t>(n));
        cudaMemcpy(xs.data(), x, xs.size() * sizeof(int), cudaMemcpyDeviceToHost);
        cudaMemcpy(ds.data(), d, ds.size() * sizeof(int), cudaMemcpyDeviceToHost);
        for (int t = 0; t < n; ++t) {
            const int lane = t % 32;
            INFO("block (" << cols << ", " << rows << "), thread " << t);
            CHECK(xs[static_cast<std::size_t>(t)] == (lane ^ 5) * 10);
            CHECK(ds[static_cast<std::size_t>(t)] == (lane + 3 < 32 ? (lane + 3) * 10 : lane * 10));  // past 31: own
        }
        cudaFree(x);
        cudaFree(d);
    }
    // Exited lanes do not hold the others back, as long as no one reads from them.
    const auto out = run_into(32, [](int* d) { exited_lanes_kernel<<<1, 32>>>(d, false); });
    for (int t = 0; t < 16; ++t) CHECK(out[static_cast<std::size_t>(t)] == (t ^ 1));
}

TEST_CASE("emulator: each thread gets its own copy of the kernel's arguments, every block runs", "[cuda-emulator]") {
    const auto out = run_into(64, [](int* d) { argument_copy_kernel<<<1, 64>>>(d, 1000); });
    for (int t = 0; t < 64; ++t) REQUIRE(out[static_cast<std::size_t>(t)] == 1000 + t);
    const auto blocks = run_into(5 * 7, [](int* d) { write_index_kernel<<<5, 7>>>(d); });
    for (int i = 0; i < 35; ++i) REQUIRE(blocks[static_cast<std::size_t>(i)] == i / 7);
}

TEST_CASE("emulator: threads and blocks run first to last, or last to first with BPLAB_EMU_REVERSE=1",
          "[cuda-emulator]") {
    const char* env = std::getenv("BPLAB_EMU_REVERSE");
    const bool reversed = env && std::string(env) == "1";
    int* order = device_alloc<int>(12);
    int* next = device_alloc<int>(1);
    REQUIRE(cudaMemset(next, 0, sizeof(int)) == cudaSuccess);
    arrival_kernel<<<3, 4>>>(order, next);
    std::vector<int> host(12);
    REQUIRE(cudaMemcpy(host.data(), order, host.size() * sizeof(int), cudaMemcpyDeviceToHost) == cudaSuccess);
    for (int i = 0; i < 12; ++i) CHECK(host[static_cast<std::size_t>(i)] == (reversed ? 11 - i : i));
    cudaFree(order);
    cudaFree(next);
}

TEST_CASE("emulator: kernels that break the GPU's rules fail with a sticky launch error", "[cuda-emulator]") {
    require_fault([](int* d) { exited_lanes_kernel<<<1, 32>>>(d, true); }, "has exited");
    require_fault([](int* d) { shuffle_kernel<<<1, 40>>>(d, d, 5, 3); }, "does not exist");  // lane 5 of 8 reads 8
    require_fault([](int* d) { split_warp_kernel<<<1, 32>>>(d); }, "deadlock");
}

TEST_CASE("emulator: launches beyond the GPU's limits fail with cudaErrorInvalidConfiguration", "[cuda-emulator]") {
    int* d = device_alloc<int>(4);
    write_index_kernel<<<1, 2048>>>(d);
    const cudaError_t err = cudaGetLastError();  // clears the error, as BPLAB_CUDA_LAUNCHED does before the message
    CHECK(err == cudaErrorInvalidConfiguration);
    CHECK(std::string(cudaGetErrorString(err)).find("more than 1024 threads per block") != std::string::npos);
    write_index_kernel<<<dim3(1, 70000), 32>>>(d);
    CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
    write_index_kernel<<<0, 32>>>(d);
    CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
    CHECK(cudaGetLastError() == cudaSuccess);  // not sticky
    cudaFree(d);
}

TEST_CASE("emulator: memory is 256-byte aligned and bounded, cuBLAS checks its arguments and ignores C at beta 0",
          "[cuda-emulator]") {
    void* p = nullptr;
    REQUIRE(cudaMalloc(&p, 3) == cudaSuccess);
    CHECK(reinterpret_cast<std::uintptr_t>(p) % 256 == 0);
    cudaFree(p);
    CHECK(cudaMalloc(&p, std::size_t{1} << 62) == cudaErrorMemoryAllocation);
    CHECK(p == nullptr);
    CHECK(cudaGetLastError() == cudaErrorMemoryAllocation);
    CHECK(cudaGetLastError() == cudaSuccess);

    cublasHandle_t h = nullptr;
    REQUIRE(cublasCreate(&h) == CUBLAS_STATUS_SUCCESS);
    // Column-major A (2×3), B (3×2): C = A B, with C full of NaN that beta = 0 must not read.
    const std::vector<double> a = {1, 2, 3, 4, 5, 6}, b = {1, 0, -1, 2, 1, 0};
    std::vector<double> c(4, std::numeric_limits<double>::quiet_NaN());
    const double one = 1, zero = 0;
    REQUIRE(cublasDgemmStridedBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, a.data(), 2, 0, b.data(), 3, 0,
                                      &zero, c.data(), 2, 0, 1) == CUBLAS_STATUS_SUCCESS);
    CHECK(c == std::vector<double>{1 - 5, 2 - 6, 2 + 3, 4 + 4});
    CHECK(cublasDgemmStridedBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, a.data(), 1, 0, b.data(), 3, 0, &zero,
                                    c.data(), 2, 0, 1) == CUBLAS_STATUS_INVALID_VALUE);  // lda < m
    CHECK(cublasDgemmStridedBatched(h, CUBLAS_OP_T, CUBLAS_OP_N, 2, 2, 3, &one, a.data(), 2, 0, b.data(), 3, 0, &zero,
                                    c.data(), 2, 0, 1) == CUBLAS_STATUS_INVALID_VALUE);  // Aᵀ needs lda ≥ k
    void* workspace = nullptr;
    REQUIRE(cudaMalloc(&workspace, 4096) == cudaSuccess);
    CHECK(cublasSetWorkspace(h, workspace, 4096) == CUBLAS_STATUS_SUCCESS);
    CHECK(cublasSetWorkspace(h, static_cast<char*>(workspace) + 64, 1024) == CUBLAS_STATUS_INVALID_VALUE);  // 256-aligned only
    CHECK(cublasSetWorkspace(h, nullptr, 1024) == CUBLAS_STATUS_INVALID_VALUE);
    CHECK(cublasSetWorkspace(h, nullptr, 0) == CUBLAS_STATUS_SUCCESS);
    cudaFree(workspace);
    cublasDestroy(h);
}
