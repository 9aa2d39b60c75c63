// backends/cuda/gemm_bias.cu — the linear layer's y = x wᵀ + b as one cuBLASLt matmul with the bias epilogue
// (f32 or f64 sums; TF32 or bf16 operands when asked), with the heuristic's choice kept per shape; see gemm_bias.h.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "backends/cuda/check.h"
#include "backends/cuda/gemm_bias.h"

namespace bplab::cuda {
namespace {

/// Owners of the per-call cuBLASLt descriptors, destroyed on every way out (errors are ignored there).
struct MatmulDesc {
    cublasLtMatmulDesc_t d = nullptr;
    ~MatmulDesc() { if (d) cublasLtMatmulDescDestroy(d); }
};
struct Layout {
    cublasLtMatrixLayout_t l = nullptr;
    ~Layout() { if (l) cublasLtMatrixLayoutDestroy(l); }
};
struct Preference {
    cublasLtMatmulPreference_t p = nullptr;
    ~Preference() { if (p) cublasLtMatmulPreferenceDestroy(p); }
};

/// The largest power of two, up to 256, that divides the address: cuBLASLt picks kernels by it.
std::uint32_t alignment(const void* p) {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    std::uint32_t bytes = 1;
    while (bytes < 256 && a % (2 * bytes) == 0) bytes *= 2;
    return bytes;
}

template <class V>
void set(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t attr, const V& value) {
    BPLAB_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(d, attr, &value, sizeof value));
}

template <class V>
void set(cublasLtMatmulPreference_t p, cublasLtMatmulPreferenceAttributes_t attr, const V& value) {
    BPLAB_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(p, attr, &value, sizeof value));
}

}  // namespace

GemmBias::GemmBias() {
    const char* fused = std::getenv("BPLAB_CUDA_FUSED_BIAS");
    enabled_ = !(fused && std::strcmp(fused, "0") == 0);
    BPLAB_CUBLAS_CHECK(cublasLtCreate(&lt_));
}

GemmBias::~GemmBias() {
    if (lt_) cublasLtDestroy(lt_);
}

bool GemmBias::run(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& workspace) {
    if (!enabled_) return false;
    const std::int64_t k = x.size(-1), m = x.numel() / k, n = w.size(0);
    // f64; f32, on TF32 tensor cores when asked; or bf16 operands with f32 sums and output (autocast).
    const bool f64 = y.dtype() == DType::f64, bf16 = x.dtype() == DType::bf16, tf32 = x.dtype() == DType::f32 && tf32_;
    const Key key{static_cast<int>(x.dtype()), tf32, m, n, k, static_cast<int>(alignment(y.raw_data())),
                  static_cast<int>(alignment(x.raw_data())), static_cast<int>(alignment(w.raw_data())),
                  static_cast<int>(alignment(b.raw_data()))};
    Plan plan;
    bool known = false;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (const auto found = plans_.find(key); found != plans_.end()) {
            plan = found->second;
            known = true;
        }
    }
    if (known && !plan.found) return false;  // refused before: nothing to build
    const cudaDataType_t type = f64 ? CUDA_R_64F : CUDA_R_32F, in_type = bf16 ? CUDA_R_16BF : type;
    // cuBLAS is column-major: yᵀ (n, m) = op(w) xᵀ, with w stored as a (k, n) matrix and transposed, x as (k, m).
    MatmulDesc desc;
    const cublasComputeType_t compute = f64 ? CUBLAS_COMPUTE_64F : tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    BPLAB_CUBLAS_CHECK(cublasLtMatmulDescCreate(&desc.d, compute, type));
    set(desc.d, CUBLASLT_MATMUL_DESC_TRANSA, std::int32_t{CUBLAS_OP_T});
    set(desc.d, CUBLASLT_MATMUL_DESC_TRANSB, std::int32_t{CUBLAS_OP_N});
    set(desc.d, CUBLASLT_MATMUL_DESC_EPILOGUE, std::uint32_t{CUBLASLT_EPILOGUE_BIAS});  // + b on every column of yᵀ
    set(desc.d, CUBLASLT_MATMUL_DESC_BIAS_POINTER, b.raw_data());
    Layout a, bx, d;
    BPLAB_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&a.l, in_type, k, n, k));
    BPLAB_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&bx.l, in_type, k, m, k));
    BPLAB_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&d.l, type, n, m, n));
    const auto refused = [&](const char* call, cublasStatus_t status) {  // cuBLASLt has no kernel for this case
        std::cerr << "bplab: cuda linear (" << m << ", " << k << ") x (" << n << ", " << k << ")ᵀ: " << call
                  << " answered " << cublasGetStatusString(status)
                  << "; the bias is added by a separate kernel for this shape\n";
        const std::lock_guard<std::mutex> lock(mutex_);
        plans_[key] = Plan{};
        return false;
    };
    if (!known) {
        Preference pref;
        BPLAB_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref.p));
        set(pref.p, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, std::uint64_t{workspace.nbytes()});
        set(pref.p, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, alignment(w.raw_data()));
        set(pref.p, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, alignment(x.raw_data()));
        set(pref.p, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, alignment(y.raw_data()));
        set(pref.p, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, alignment(y.raw_data()));
        cublasLtMatmulHeuristicResult_t result{};
        int count = 0;
        const cublasStatus_t status =
            cublasLtMatmulAlgoGetHeuristic(lt_, desc.d, a.l, bx.l, d.l, d.l, pref.p, 1, &result, &count);
        // Kept for the process: an answer about the shape. Not kept: a passing failure (memory, say).
        if (status == CUBLAS_STATUS_SUCCESS || status == CUBLAS_STATUS_NOT_SUPPORTED ||
            status == CUBLAS_STATUS_INVALID_VALUE || status == CUBLAS_STATUS_ARCH_MISMATCH) {
            if (status == CUBLAS_STATUS_SUCCESS && count > 0 && result.state == CUBLAS_STATUS_SUCCESS)
                plan = {true, result.algo};
            else if (status != CUBLAS_STATUS_SUCCESS && status != CUBLAS_STATUS_NOT_SUPPORTED)
                return refused("cublasLtMatmulAlgoGetHeuristic", status);
            const std::lock_guard<std::mutex> lock(mutex_);
            plans_[key] = plan;
        }
    }
    if (!plan.found) return false;
    const double one = 1.0, zero = 0.0;
    const float one_f = 1.0f, zero_f = 0.0f;
    const void* alpha = f64 ? static_cast<const void*>(&one) : &one_f;
    const void* beta = f64 ? static_cast<const void*>(&zero) : &zero_f;
    const cublasStatus_t status = cublasLtMatmul(lt_, desc.d, alpha, w.raw_data(), a.l, x.raw_data(), bx.l, beta,
                                                 y.raw_data(), d.l, y.raw_data(), d.l, &plan.algo, workspace.raw_data(),
                                                 workspace.nbytes(), nullptr);
    // A refusal queues nothing, so the caller's unfused path can still write y; a failed launch is an error.
    if (status == CUBLAS_STATUS_NOT_SUPPORTED || status == CUBLAS_STATUS_INVALID_VALUE ||
        status == CUBLAS_STATUS_ARCH_MISMATCH)
        return refused("cublasLtMatmul", status);
    BPLAB_CUBLAS_CHECK(status);
    return true;
}

}  // namespace bplab::cuda
