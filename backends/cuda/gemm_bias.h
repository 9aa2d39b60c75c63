// backends/cuda/gemm_bias.h — y = x wᵀ + b in one cuBLASLt call whose epilogue adds the bias, so the output is
// written once; a bias fill followed by a GEMM with beta = 1 writes it, then reads it back (PyTorch fuses it too).
#pragma once
#include <cublasLt.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <tuple>

#include "core/tensor.h"

namespace bplab::cuda {

/// The cuBLASLt handle and, per shape and alignment, the algorithm its heuristic chose (or that it found none).
class GemmBias {
public:
    GemmBias();
    ~GemmBias();
    GemmBias(const GemmBias&) = delete;
    GemmBias& operator=(const GemmBias&) = delete;

    /// y (m, n) = x (m, k) wᵀ + b (n), row-major, w (n, k), all f32 or all f64, or x and w bf16 with y and b f32
    /// (autocast: f32 sums), on the current stream, with
    /// `workspace` as cuBLASLt's scratch. Returns false, having queued nothing, when cuBLASLt offers no algorithm
    /// for these sizes and pointer alignments or refuses the call (it is then not asked again for them; a refusal
    /// is named on stderr); the caller then takes the unfused path. Throws when a launch fails.
    /// BPLAB_CUDA_FUSED_BIAS=0 in the environment turns the fused path off (run returns false), to time or
    /// rule out cuBLASLt.
    bool run(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& workspace);
    /// f32 products on TF32 tensor cores (CUBLAS_COMPUTE_32F_FAST_TF32) from now on, or not.
    void set_tf32(bool on) { tf32_ = on; }

private:
    /// (dtype, TF32, m, n, k, alignment of y, x, w, b in bytes up to 256): what the heuristic depends on.
    using Key = std::tuple<int, bool, std::int64_t, std::int64_t, std::int64_t, int, int, int, int>;
    struct Plan {
        bool found = false;
        cublasLtMatmulAlgo_t algo{};
    };

    bool enabled_ = true, tf32_ = false;
    cublasLtHandle_t lt_ = nullptr;
    std::mutex mutex_;
    std::map<Key, Plan> plans_;
};

}  // namespace bplab::cuda
