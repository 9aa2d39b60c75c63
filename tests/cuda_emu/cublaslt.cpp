// tests/cuda_emu/cublaslt.cpp — the cuBLASLt matmul of include/cublasLt.h on the CPU (Eigen). A call that
// misuses the API (a layout that does not fit the operation, a type that does not match, a pointer less aligned
// than the heuristic was told, a workspace smaller than it asked for) stops the program with the reason, since
// the backend takes any refusal as "use the unfused path" and a test would otherwise pass on the fallback. What a
// real cuBLASLt refuses for legitimate calls (a dimension of 1) is answered with its status.
#include <Eigen/Core>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "cublasLt.h"
#include "eigen_gemm.h"

namespace {

constexpr std::uint64_t kAlgoMagic = 0xB1A5'0A16'0000'0001ULL;
constexpr std::uint64_t kWorkspaceAsked = std::uint64_t{1} << 20;  ///< what the emulated algorithm uses, at most

}  // namespace

struct cublasLtContext {};
struct bplab_emu_lt_desc {
    cublasComputeType_t compute;
    cudaDataType_t scale;
    std::int32_t trans_a = CUBLAS_OP_N, trans_b = CUBLAS_OP_N;
    std::uint32_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
    const void* bias = nullptr;
};
struct bplab_emu_lt_layout {
    cudaDataType_t type;
    std::uint64_t rows, cols;
    std::int64_t ld;
};
struct bplab_emu_lt_preference {
    std::uint64_t workspace = 0;
    std::uint32_t alignment[4] = {256, 256, 256, 256};  ///< promised for A, B, C, D
};

namespace {

struct Problem {
    std::uint64_t m, n, k;
};

std::size_t element_bytes(cudaDataType_t type) { return type == CUDA_R_64F ? 8 : type == CUDA_R_16BF ? 2 : 4; }

[[noreturn]] void misuse(const char* call, const char* what) {
    std::fprintf(stderr, "cuda emulator: %s: %s (a real cuBLASLt would refuse or misbehave)\n", call, what);
    std::abort();
}

/// m, n, k of D (m, n) = op(A) (m, k) op(B) (k, n); stops the program on a call that misuses the API.
Problem problem(const char* call, cublasLtMatmulDesc_t desc, cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
                cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d) {
    if (std::getenv("BPLAB_EMU_LT_FORBID")) {  // the backend was told not to use cuBLASLt
        std::fprintf(stderr, "cuda emulator: %s called, but BPLAB_EMU_LT_FORBID is set\n", call);
        std::abort();
    }
    if (!desc || !a || !b || !c || !d) misuse(call, "a null descriptor");
    const cudaDataType_t want = desc->compute == CUBLAS_COMPUTE_64F ? CUDA_R_64F : CUDA_R_32F;
    if (desc->scale != want) misuse(call, "the scale type does not match the compute type");
    for (const auto* l : {c, d})
        if (l->type != want) misuse(call, "a matrix type does not match the compute type");
    // A and B: the compute type's, or bf16 (both) with f32 sums and no TF32
    const bool bf16 = a->type == CUDA_R_16BF && b->type == CUDA_R_16BF && desc->compute == CUBLAS_COMPUTE_32F;
    if (!bf16 && (a->type != want || b->type != want)) misuse(call, "A and B are neither of the compute type nor bf16");
    const std::uint64_t a_rows = desc->trans_a == CUBLAS_OP_N ? a->rows : a->cols;
    const std::uint64_t a_cols = desc->trans_a == CUBLAS_OP_N ? a->cols : a->rows;
    const std::uint64_t b_rows = desc->trans_b == CUBLAS_OP_N ? b->rows : b->cols;
    const std::uint64_t b_cols = desc->trans_b == CUBLAS_OP_N ? b->cols : b->rows;
    if (a_rows != d->rows || b_cols != d->cols || a_cols != b_rows || c->rows != d->rows || c->cols != d->cols ||
        c->ld != d->ld)
        misuse(call, "the layouts do not fit op(A) op(B) = D");
    for (const auto* l : {a, b, c, d})
        if (l->ld < 1 || static_cast<std::uint64_t>(l->ld) < l->rows) misuse(call, "a leading dimension below the rows");
    if (desc->epilogue == CUBLASLT_EPILOGUE_BIAS && !desc->bias) misuse(call, "the bias epilogue without a bias");
    return {d->rows, d->cols, a_cols};
}

/// D = alpha op(A) op(B) + beta C, then the bias epilogue (+ bias[i] on row i); A and B are of type S (T, or bf16's
/// bits with an f32 T).
template <class T, class S>
void matmul(cublasLtMatmulDesc_t desc, const Problem& p, T alpha, const S* a, std::int64_t lda, const S* b,
            std::int64_t ldb, T beta, const T* c, T* d, std::int64_t ldd) {
    const auto m = static_cast<Eigen::Index>(p.m), n = static_cast<Eigen::Index>(p.n);
    if (beta != T(0) && c != d)  // C and D share their layout, so D can take C's values and be the GEMM's C
        for (Eigen::Index j = 0; j < n; ++j) std::memcpy(d + j * ldd, c + j * ldd, static_cast<std::size_t>(m) * sizeof(T));
    const bool ta = desc->trans_a != CUBLAS_OP_N, tb = desc->trans_b != CUBLAS_OP_N;
    const auto k = static_cast<Eigen::Index>(p.k);
    if constexpr (std::is_same_v<S, std::uint16_t>)
        bplab_emu::gemm_bf16(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, d, ldd);
    else if constexpr (std::is_same_v<T, float>)
        if (desc->compute == CUBLAS_COMPUTE_32F_FAST_TF32) bplab_emu::gemm_tf32(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, d, ldd);
        else bplab_emu::gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, d, ldd);
    else
        bplab_emu::gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, d, ldd);
    if (desc->epilogue == CUBLASLT_EPILOGUE_BIAS)
        Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>, 0, Eigen::OuterStride<>>(d, m, n, Eigen::OuterStride<>(ldd))
            .colwise() += Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>(static_cast<const T*>(desc->bias), m);
}

bool aligned(const void* p, std::uint64_t bytes) { return reinterpret_cast<std::uintptr_t>(p) % bytes == 0; }

}  // namespace

cublasStatus_t cublasLtCreate(cublasLtHandle_t* handle) {
    *handle = new cublasLtContext;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtDestroy(cublasLtHandle_t handle) {
    delete handle;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t* desc, cublasComputeType_t compute, cudaDataType_t scale) {
    *desc = new bplab_emu_lt_desc{compute, scale};
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t desc) {
    delete desc;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attr,
                                              const void* buf, std::size_t bytes) {
    if (!desc || !buf) return CUBLAS_STATUS_INVALID_VALUE;
    switch (attr) {
        case CUBLASLT_MATMUL_DESC_TRANSA:
        case CUBLASLT_MATMUL_DESC_TRANSB:
            if (bytes != sizeof(std::int32_t)) return CUBLAS_STATUS_INVALID_VALUE;
            std::memcpy(attr == CUBLASLT_MATMUL_DESC_TRANSA ? &desc->trans_a : &desc->trans_b, buf, bytes);
            return CUBLAS_STATUS_SUCCESS;
        case CUBLASLT_MATMUL_DESC_EPILOGUE:
            if (bytes != sizeof(std::uint32_t)) return CUBLAS_STATUS_INVALID_VALUE;
            std::memcpy(&desc->epilogue, buf, bytes);
            return CUBLAS_STATUS_SUCCESS;
        case CUBLASLT_MATMUL_DESC_BIAS_POINTER:
            if (bytes != sizeof(void*)) return CUBLAS_STATUS_INVALID_VALUE;
            std::memcpy(&desc->bias, buf, bytes);
            return CUBLAS_STATUS_SUCCESS;
    }
    return CUBLAS_STATUS_INVALID_VALUE;
}

cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t* layout, cudaDataType type, std::uint64_t rows,
                                          std::uint64_t cols, std::int64_t ld) {
    *layout = new bplab_emu_lt_layout{type, rows, cols, ld};
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t layout) {
    delete layout;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t* pref) {
    *pref = new bplab_emu_lt_preference;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t pref) {
    delete pref;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t pref,
                                                    cublasLtMatmulPreferenceAttributes_t attr, const void* buf,
                                                    std::size_t bytes) {
    if (!pref || !buf) return CUBLAS_STATUS_INVALID_VALUE;
    if (attr == CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES) {
        if (bytes != sizeof(std::uint64_t)) return CUBLAS_STATUS_INVALID_VALUE;
        std::memcpy(&pref->workspace, buf, bytes);
        return CUBLAS_STATUS_SUCCESS;
    }
    if (attr < CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES || attr > CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES ||
        bytes != sizeof(std::uint32_t))
        return CUBLAS_STATUS_INVALID_VALUE;
    std::uint32_t value = 0;
    std::memcpy(&value, buf, bytes);
    if (value == 0 || (value & (value - 1)) != 0) return CUBLAS_STATUS_INVALID_VALUE;
    pref->alignment[attr - CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES] = value;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc,
                                              cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
                                              cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d,
                                              cublasLtMatmulPreference_t pref, int requested,
                                              cublasLtMatmulHeuristicResult_t results[], int* count) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!pref || requested <= 0 || !results || !count) misuse("cublasLtMatmulAlgoGetHeuristic", "bad arguments");
    *count = 0;
    const Problem p = problem("cublasLtMatmulAlgoGetHeuristic", desc, a, b, c, d);
    if (p.m == 1 || p.n == 1 || p.k == 1) return CUBLAS_STATUS_INVALID_VALUE;  // as cuBLASLt can answer
    if (std::getenv("BPLAB_EMU_LT_NONE")) return CUBLAS_STATUS_NOT_SUPPORTED;
    // Each matrix's promised alignment must at least be its element's (cuBLASLt has no kernel below that).
    const cublasLtMatrixLayout_t layouts[4] = {a, b, c, d};
    for (int i = 0; i < 4; ++i)
        if (pref->alignment[i] < element_bytes(layouts[i]->type)) return CUBLAS_STATUS_NOT_SUPPORTED;
    cublasLtMatmulHeuristicResult_t r{};
    const std::uint64_t workspace = pref->workspace < kWorkspaceAsked ? pref->workspace : kWorkspaceAsked;
    r.algo.data[0] = kAlgoMagic;
    r.algo.data[1] = workspace;
    for (int i = 0; i < 4; ++i) r.algo.data[2 + i] = pref->alignment[i];
    r.workspaceSize = workspace;
    r.state = CUBLAS_STATUS_SUCCESS;
    r.wavesCount = 1.0f;
    results[0] = r;
    *count = 1;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmul(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, const void* alpha, const void* a,
                              cublasLtMatrixLayout_t a_layout, const void* b, cublasLtMatrixLayout_t b_layout,
                              const void* beta, const void* c, cublasLtMatrixLayout_t c_layout, void* d,
                              cublasLtMatrixLayout_t d_layout, const cublasLtMatmulAlgo_t* algo, void* workspace,
                              std::size_t workspace_bytes, cudaStream_t) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    const char* call = "cublasLtMatmul";
    const Problem p = problem(call, desc, a_layout, b_layout, c_layout, d_layout);
    if (!algo || algo->data[0] != kAlgoMagic) misuse(call, "an algorithm the heuristic did not give");
    if (!alpha || !beta || !a || !b || !c || !d) misuse(call, "a null pointer");
    if (workspace_bytes < algo->data[1] || (algo->data[1] > 0 && !workspace))
        misuse(call, "a workspace smaller than the algorithm asked for");
    const void* pointers[4] = {a, b, c, d};
    for (int i = 0; i < 4; ++i)
        if (!aligned(pointers[i], algo->data[2 + i])) misuse(call, "a pointer less aligned than the heuristic was told");
    if (!aligned(desc->bias, element_bytes(d_layout->type))) misuse(call, "a misaligned bias");
    if (std::getenv("BPLAB_EMU_LT_REFUSE")) return CUBLAS_STATUS_NOT_SUPPORTED;  // as some cuBLASLt versions do
    if (cudaDeviceSynchronize() != cudaSuccess) return CUBLAS_STATUS_EXECUTION_FAILED;  // a faulted context
    bplab_emu::touch_workspace(workspace, algo->data[1]);  // the algorithm may use all it asked for
    if (p.m == 0 || p.n == 0) return CUBLAS_STATUS_SUCCESS;
    if (d_layout->type == CUDA_R_64F)
        matmul(desc, p, *static_cast<const double*>(alpha), static_cast<const double*>(a), a_layout->ld,
               static_cast<const double*>(b), b_layout->ld, *static_cast<const double*>(beta),
               static_cast<const double*>(c), static_cast<double*>(d), d_layout->ld);
    else if (a_layout->type == CUDA_R_16BF)
        matmul(desc, p, *static_cast<const float*>(alpha), static_cast<const std::uint16_t*>(a), a_layout->ld,
               static_cast<const std::uint16_t*>(b), b_layout->ld, *static_cast<const float*>(beta),
               static_cast<const float*>(c), static_cast<float*>(d), d_layout->ld);
    else
        matmul(desc, p, *static_cast<const float*>(alpha), static_cast<const float*>(a), a_layout->ld,
               static_cast<const float*>(b), b_layout->ld, *static_cast<const float*>(beta),
               static_cast<const float*>(c), static_cast<float*>(d), d_layout->ld);
    return CUBLAS_STATUS_SUCCESS;
}
