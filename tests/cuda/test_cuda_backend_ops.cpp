// tests/cuda/test_cuda_backend_ops.cpp — every backend op on the GPU against the CPU reference: forward
// output and every input gradient, in f64 (tight) and f32 (scaled by magnitude), on awkward shapes.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>

#include "backends/backend.h"
#include <cuda_runtime.h>

#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/device.h"
#include "core/autocast.h"
#include "core/autograd.h"
#include "core/data/augment.h"
#include "core/ops.h"
#include "tests/empty_cases.h"
#include "tests/nan_cases.h"
#include "tests/test_helpers.h"

using namespace bplab;
using bplab::test::random_tensor;

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

void require_gpu() {
    if (cuda::device_count() == 0) std::exit(77);
    cuda::install();
}

/// |a − b| ≤ tol · max(1, max |a|): relative to the tensor's magnitude, absolute near zero. A NaN fails (an
/// element never written, under BPLAB_POISON), even on both devices: no input here holds one.
void check_close(const Tensor& cpu_value, const Tensor& gpu_value, double tol, const std::string& what) {
    REQUIRE(gpu_value.device() == Device::cuda());
    const auto a = cpu_value.to_vector(), b = gpu_value.to(Device::cpu()).to_vector();
    REQUIRE(a.size() == b.size());
    double scale = 1.0, worst = 0.0;
    for (double v : a) scale = std::max(scale, std::abs(v));
    REQUIRE(std::isfinite(scale));  // an infinite scale would let any difference pass
    for (std::size_t i = 0; i < a.size(); ++i) worst = bplab::test::nan_max(worst, std::abs(a[i] - b[i]));
    INFO(what << ": max |cpu − cuda| = " << worst << ", scale " << scale);
    CHECK(worst <= tol * scale);
}

/// Runs fn on CPU leaves and on their GPU copies, backpropagates the same random weighting of the output,
/// and compares the outputs and the gradients of every input that requires grad.
/// Under a bf16 autocast guard when `autocast`, with tolerance `tol` (default: by dtype).
void compare(const std::string& name, const Fn& fn, const std::vector<Tensor>& inputs, DType dtype,
             bool autocast = false, double tol = 0) {
    INFO(name << " in " << dtype_name(dtype) << (autocast ? " under bf16 autocast" : ""));
    if (tol == 0) tol = dtype == DType::f64 ? 1e-10 : 2e-5;
    std::vector<Tensor> on_cpu, on_gpu;
    for (const Tensor& t : inputs) {
        Tensor c = is_floating(t.dtype()) ? t.to(dtype) : t;
        Tensor g = c.to(Device::cuda());
        if (t.requires_grad()) {
            c = c.clone().set_requires_grad(true);
            g.set_requires_grad(true);
        }
        on_cpu.push_back(c);
        on_gpu.push_back(g);
    }
    Tensor y_cpu, y_gpu;
    {
        const AutocastGuard guard(autocast ? std::optional<DType>(DType::bf16) : std::nullopt);
        y_cpu = fn(on_cpu);
        y_gpu = fn(on_gpu);
    }
    check_close(y_cpu, y_gpu, tol, "output");
    if (!y_cpu.requires_grad()) return;
    const Tensor w = random_tensor(y_cpu.shape(), 99, dtype);
    backward(sum(mul(y_cpu, w)));
    backward(sum(mul(y_gpu, w.to(Device::cuda()))));
    for (std::size_t i = 0; i < inputs.size(); ++i)
        if (inputs[i].requires_grad()) check_close(on_cpu[i].grad(), on_gpu[i].grad(), tol, "grad of input " + std::to_string(i));
}

void compare_both(const std::string& name, const Fn& fn, const std::vector<Tensor>& inputs) {
    compare(name, fn, inputs, DType::f64);
    compare(name, fn, inputs, DType::f32);
}

Tensor leaf(const Shape& shape, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
    Tensor t = random_tensor(shape, seed, DType::f64, lo, hi);
    t.set_requires_grad(true);
    return t;
}

Tensor labels(std::int64_t n, std::int64_t classes) {
    std::vector<std::int64_t> v(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = (7 * i + 3) % classes;
    return Tensor::from_indices(v, {n});
}

}  // namespace

TEST_CASE("cuda ops: matmul (every transpose, batched, shared b), linear, transpose, permute", "[cuda]") {
    require_gpu();
    for (bool ta : {false, true})
        for (bool tb : {false, true}) {
            const Shape a = ta ? Shape{3, 37, 19} : Shape{3, 19, 37}, b = tb ? Shape{3, 23, 37} : Shape{3, 37, 23};
            compare_both("matmul", [=](const auto& in) { return matmul(in[0], in[1], ta, tb); }, {leaf(a, 1), leaf(b, 2)});
            const Shape b2 = tb ? Shape{23, 37} : Shape{37, 23};
            compare_both("matmul shared b", [=](const auto& in) { return matmul(in[0], in[1], ta, tb); }, {leaf(a, 3), leaf(b2, 4)});
        }
    compare_both("linear", [](const auto& in) { return linear(in[0], in[1], in[2]); }, {leaf({5, 7, 33}, 5), leaf({17, 33}, 6), leaf({17}, 7)});
    compare_both("linear, one row (cuBLASLt is not asked: it refuses a dimension of 1)",
                 [](const auto& in) { return linear(in[0], in[1], in[2]); }, {leaf({1, 33}, 14), leaf({17, 33}, 15), leaf({17}, 16)});
    compare_both("linear, one output", [](const auto& in) { return linear(in[0], in[1], in[2]); },
                 {leaf({6, 33}, 17), leaf({1, 33}, 18), leaf({1}, 19)});
    compare_both("linear no bias", [](const auto& in) { return linear(in[0], in[1], Tensor()); }, {leaf({9, 33}, 8), leaf({17, 33}, 9)});
    compare_both("transpose", [](const auto& in) { return transpose(in[0]); }, {leaf({3, 45, 70}, 10)});
    compare_both("permute", [](const auto& in) { return permute(in[0], {2, 0, 3, 1}); }, {leaf({2, 3, 5, 7}, 11)});
    compare_both("permute, attention's head split", [](const auto& in) { return permute(in[0], {2, 0, 3, 1, 4}); },
                 {leaf({2, 5, 3, 2, 7}, 12)});
    compare_both("permute_unbind (q, k, v out of the packed projection, and their gradients back in)",
                 [](const auto& in) {
                     const std::vector<Tensor> s = permute_unbind(in[0], {2, 0, 3, 1, 4});
                     return add(add(s[0], scale(s[1], 2.0)), scale(s[2], -3.0));
                 },
                 {leaf({2, 5, 3, 2, 7}, 20)});
    compare_both("permute, 8 dims", [](const auto& in) { return permute(in[0], {7, 0, 6, 1, 5, 2, 4, 3}); },
                 {leaf({2, 1, 3, 2, 1, 3, 2, 3}, 13)});
}

TEST_CASE("cuda ops: elementwise with broadcasting, activations, reductions", "[cuda]") {
    require_gpu();
    using Bin = Tensor (*)(const Tensor&, const Tensor&);
    for (Bin op : {static_cast<Bin>(add), static_cast<Bin>(sub), static_cast<Bin>(mul), static_cast<Bin>(div)}) {
        compare_both("binary full", [op](const auto& in) { return op(in[0], in[1]); }, {leaf({1000, 3}, 12), leaf({1000, 3}, 13, 0.5, 1.5)});
        compare_both("binary trailing", [op](const auto& in) { return op(in[0], in[1]); }, {leaf({7, 11, 13}, 14), leaf({13}, 15, 0.5, 1.5)});
        compare_both("binary scalar", [op](const auto& in) { return op(in[0], in[1]); }, {leaf({7, 11}, 16), leaf({1}, 17, 0.5, 1.5)});
    }
    compare_both("scale", [](const auto& in) { return scale(in[0], -1.7); }, {leaf({1001}, 18)});
    compare_both("relu", [](const auto& in) { return relu(in[0]); }, {leaf({3, 1001}, 19)});
    compare_both("gelu", [](const auto& in) { return gelu(in[0]); }, {leaf({3, 1001}, 20, -4, 4)});
    for (std::int64_t axis : {0, 1, 2})
        compare_both("sum axis", [axis](const auto& in) { return sum(in[0], axis); }, {leaf({5, 300, 7}, 21)});
    compare_both("mean all", [](const auto& in) { return mean(in[0]); }, {leaf({70001}, 22)});
    compare_both("sum, more rows than a grid dimension", [](const auto& in) { return sum(in[0], 1); }, {leaf({70001, 3}, 60)});
    compare_both("sum, one long column axis", [](const auto& in) { return sum(in[0], 0); }, {leaf({50000, 5}, 61)});
    compare_both("sum, a bias gradient's shape", [](const auto& in) { return sum(in[0], 0); }, {leaf({20000, 96}, 67)});
    compare_both("sum, long middle axis", [](const auto& in) { return sum(in[0], 1); }, {leaf({3, 4000, 40}, 68)});
    compare_both("sum, more outer rows than a grid dimension", [](const auto& in) { return sum(in[0], 1); }, {leaf({70000, 2, 3}, 78)});
    compare_both("scale_rows", [](const auto& in) { return scale_rows(in[0], in[1]); }, {leaf({9, 5, 3}, 23), random_tensor({9}, 24)});
    const Tensor x = random_tensor({37, 1001}, 25);
    CHECK(argmax(x).to_vector() == argmax(x.to(Device::cuda())).to(Device::cpu()).to_vector());
    CHECK(std::abs(l2_norm(x) - l2_norm(x.to(Device::cuda()))) <= 1e-10 * l2_norm(x));
    // f32 values whose squares overflow f32: the sum is f64 on the GPU too.
    const Tensor big = Tensor::from_vector(std::vector<double>(1000, 1e20), {1000}, DType::f32).to(Device::cuda());
    CHECK(l2_norm(big) == Approx(std::sqrt(1000.0) * 1e20).epsilon(1e-6));
}

TEST_CASE("cuda ops: softmax, log-softmax, cross-entropy with label smoothing", "[cuda]") {
    require_gpu();
    compare_both("softmax", [](const auto& in) { return softmax(in[0]); }, {leaf({13, 1000}, 26, -5, 5)});
    compare_both("softmax short rows", [](const auto& in) { return softmax(in[0]); }, {leaf({300, 7}, 27, -5, 5)});
    compare_both("log_softmax", [](const auto& in) { return log_softmax(in[0]); }, {leaf({13, 1000}, 28, -5, 5)});
    for (double eps : {0.0, 0.1}) {
        const Tensor y = labels(37, 10);
        compare_both("cross_entropy", [&, eps](const auto& in) { return cross_entropy(in[0], in[1], eps); },
                     {leaf({37, 10}, 29, -3, 3), y});
    }
}

TEST_CASE("cuda ops: rows (gather, scatter), layer norm, attention", "[cuda]") {
    require_gpu();
    const Tensor keep = Tensor::from_indices({0, 3, 4, 9, 12}, {5}), drop = Tensor::from_indices({1, 2, 5, 6, 7, 8, 10, 11}, {8});
    // Indices on the GPU are copied back for their check; indices on the CPU are checked there and uploaded.
    compare_both("gather_rows", [&](const auto& in) { return gather_rows(in[0], keep.to(in[0].device()), 1); },
                 {leaf({3, 13, 7}, 30)});
    compare_both("gather_rows, CPU indices", [&](const auto& in) { return gather_rows(in[0], keep, 1); }, {leaf({3, 13, 7}, 30)});
    compare_both("scatter_rows", [&](const auto& in) { return scatter_rows(in[0], in[1], drop.to(in[0].device()), 1); },
                 {leaf({3, 13, 7}, 31), leaf({3, 8, 7}, 32)});
    compare_both("interleave_rows, CPU indices", [&](const auto& in) { return interleave_rows({in[0], in[1]}, {keep, drop}, 1); },
                 {leaf({3, 5, 7}, 65), leaf({3, 8, 7}, 66)});
    compare_both("layer_norm", [](const auto& in) { return layer_norm(in[0], in[1], in[2]); },
                 {leaf({7, 11, 37}, 33), leaf({37}, 34), leaf({37}, 35)});
    compare_both("layer_norm no affine", [](const auto& in) { return layer_norm(in[0], Tensor(), Tensor()); }, {leaf({300, 1000}, 36)});
    compare_both("layer_norm ConvNeXt rows", [](const auto& in) { return layer_norm(in[0], in[1], in[2]); },
                 {leaf({5003, 96}, 69), leaf({96}, 70), leaf({96}, 71)});
    compare_both("layer_norm one row", [](const auto& in) { return layer_norm(in[0], in[1], in[2]); },
                 {leaf({1, 50}, 79), leaf({50}, 80), leaf({50}, 81)});
    compare_both("attention", [](const auto& in) { return attention(in[0], in[1], in[2], 0.37); },
                 {leaf({2, 3, 7, 6}, 37), leaf({2, 3, 11, 6}, 38), leaf({2, 3, 11, 6}, 39)});
    // SBP's query mode: q and k of the dropped rows are detached, only v wants a gradient.
    compare_both("attention, gradient for v only", [](const auto& in) { return attention(in[0], in[1], in[2], 0.37); },
                 {random_tensor({2, 3, 7, 6}, 62), random_tensor({2, 3, 11, 6}, 63), leaf({2, 3, 11, 6}, 64)});
    compare_both("attention ViT-Tiny sized", [](const auto& in) { return attention(in[0], in[1], in[2], 0.125); },
                 {leaf({2, 3, 197, 64}, 40), leaf({2, 3, 197, 64}, 41), leaf({2, 3, 197, 64}, 42)});
}

TEST_CASE("cuda ops: bf16 casts bit for bit, and the linear ops, convolutions and attention under bf16 autocast",
          "[cuda]") {
    require_gpu();
    const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<double> values = {0.0, -0.0, 1.0 + std::ldexp(1.0, -8), 1.0 + 3 * std::ldexp(1.0, -8), 3.4e38, -3.39e38,
                                  1e-40, inf, -inf, nan};
    for (double v : random_tensor({2000}, 40, DType::f64, -1e3, 1e3).to_vector()) values.push_back(v);
    const Tensor f32 = Tensor::from_vector(values, {static_cast<std::int64_t>(values.size())}, DType::f32);
    const Tensor on_cpu = f32.to(DType::bf16), on_gpu = f32.to(Device::cuda()).to(DType::bf16).to(Device::cpu());
    REQUIRE(std::memcmp(on_cpu.raw_data(), on_gpu.raw_data(), on_cpu.nbytes()) == 0);
    CHECK(on_gpu.to_vector().size() == values.size());
    const Tensor back = on_cpu.to(Device::cuda()).to(DType::f32).to(Device::cpu());
    REQUIRE(std::memcmp(back.raw_data(), on_cpu.to(DType::f32).raw_data(), back.nbytes()) == 0);
    // Ops that only move elements move bf16 ones as 2-byte units on both devices.
    const auto same_bytes = [](const Tensor& a, const Tensor& b) {
        return a.nbytes() == b.nbytes() && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
    };
    const Tensor moved = random_tensor({2, 6, 4, 3}, 42, DType::f32).to(DType::bf16), rows = Tensor::from_indices({0, 3, 5}, {3});
    CHECK(same_bytes(gather_rows(moved, rows, 1), gather_rows(moved.to(Device::cuda()), rows, 1).to(Device::cpu())));
    CHECK(same_bytes(space_to_depth(moved, 2), space_to_depth(moved.to(Device::cuda()), 2).to(Device::cpu())));
    CHECK(same_bytes(transpose(moved), transpose(moved.to(Device::cuda())).to(Device::cpu())));

    // Leaves into linear: both devices round the same values, so only the f32 sums' order differs.
    const auto both = [](const std::string& name, const Fn& fn, const std::vector<Tensor>& in, double tol) {
        compare(name, fn, in, DType::f32, true, tol);
    };
    both("linear", [](const auto& in) { return linear(in[0], in[1], in[2]); }, {leaf({5, 7, 33}, 50), leaf({17, 33}, 51), leaf({17}, 52)},
         2e-5);
    both("linear, one row", [](const auto& in) { return linear(in[0], in[1], in[2]); }, {leaf({1, 33}, 53), leaf({17, 33}, 54), leaf({17}, 55)},
         2e-5);
    // Sizes of 16-byte rows in bf16, which cuBLASLt's bf16 kernels are likeliest to take (the odd ones above may go
    // to cublasGemmStridedBatchedEx instead).
    both("linear, aligned sizes", [](const auto& in) { return linear(in[0], in[1], in[2]); },
         {leaf({5, 8, 64}, 74), leaf({32, 64}, 75), leaf({32}, 76)}, 2e-5);
    both("linear no bias", [](const auto& in) { return linear(in[0], in[1], Tensor()); }, {leaf({9, 33}, 56), leaf({17, 33}, 57)}, 2e-5);
    both("linear, no rows", [](const auto& in) { return linear(in[0], in[1], in[2]); }, {leaf({0, 33}, 58), leaf({17, 33}, 59), leaf({17}, 60)},
         2e-5);
    both("conv2d", [](const auto& in) { return conv2d(in[0], in[1], in[2], {2, 1}, {1, 0}); },
         {leaf({2, 9, 7, 5}, 77), leaf({6, 5, 3, 2}, 78), leaf({6}, 79)}, 2e-5);
    both("depthwise 7x7", [](const auto& in) { return depthwise_conv2d(in[0], in[1], in[2], {1, 1}, {3, 3}); },
         {leaf({2, 9, 11, 40}, 80), leaf({40, 1, 7, 7}, 81), leaf({40}, 82)}, 2e-5);
    // Computed operands (a LayerNorm's or GELU's output) can be an f32 ulp apart on the two devices and round to
    // neighbouring bf16 values: a looser bound.
    // So can attention's probabilities and dS, which it rounds to bf16 for their products (test_autocast pins how).
    both("attention", [](const auto& in) { return attention(in[0], in[1], in[2], 0.37); },
         {leaf({2, 3, 7, 6}, 83), leaf({2, 3, 11, 6}, 84), leaf({2, 3, 11, 6}, 85)}, 1e-2);
    both("attention, 16-byte rows", [](const auto& in) { return attention(in[0], in[1], in[2], 0.125); },
         {leaf({2, 2, 24, 64}, 86), leaf({2, 2, 40, 64}, 87), leaf({2, 2, 40, 64}, 88)}, 1e-2);
    both("attention, q and k without gradient (keeps no v)", [](const auto& in) { return attention(in[0], in[1], in[2], 0.37); },
         {random_tensor({2, 3, 7, 6}, 89), random_tensor({2, 3, 11, 6}, 90), leaf({2, 3, 11, 6}, 91)}, 1e-2);
    both("layer_norm_linear", [](const auto& in) { return layer_norm_linear(in[0], in[1], in[2], 1e-6, in[3], in[4]); },
         {leaf({3, 13, 37}, 61), leaf({37}, 62), leaf({37}, 63), leaf({19, 37}, 64), leaf({19}, 65)}, 1e-2);
    both("gelu_linear with γ", [](const auto& in) { return gelu_linear(in[0], in[1], in[2], in[3]); },
         {leaf({3, 13, 41}, 66, -3, 3), leaf({23, 41}, 67), leaf({23}, 68), leaf({23}, 69)}, 1e-2);
    both("scaled_linear with γ", [](const auto& in) { return scaled_linear(in[0], in[1], in[2], in[3]); },
         {leaf({3, 13, 41}, 70, -3, 3), leaf({23, 41}, 71), leaf({23}, 72), leaf({23}, 73)}, 1e-2);
}

TEST_CASE("cuda ops: the recompute ops (layer_norm_linear, gelu_linear with and without γ), with rows and with none",
          "[cuda]") {
    require_gpu();
    for (const std::int64_t rows : {std::int64_t{13}, std::int64_t{0}}) {  // 0: an SBP part that keeps no rows
        INFO("rows " << rows);
        compare_both("layer_norm_linear", [](const auto& in) { return layer_norm_linear(in[0], in[1], in[2], 1e-6, in[3], in[4]); },
                     {leaf({3, rows, 37}, 90), leaf({37}, 91), leaf({37}, 92), leaf({19, 37}, 93), leaf({19}, 94)});
        compare_both("gelu_linear with γ", [](const auto& in) { return gelu_linear(in[0], in[1], in[2], in[3]); },
                     {leaf({3, rows, 41}, 95, -3, 3), leaf({23, 41}, 96), leaf({23}, 97), leaf({23}, 98)});
        compare_both("gelu_linear", [](const auto& in) { return gelu_linear(in[0], in[1], in[2]); },
                     {leaf({3, rows, 41}, 99, -3, 3), leaf({23, 41}, 100), leaf({23}, 101)});
    }
}

TEST_CASE("cuda ops: conv2d, depthwise conv2d (stride, padding edges), space-to-depth", "[cuda]") {
    require_gpu();
    using StridePad = std::vector<std::pair<std::int64_t, std::int64_t>>;
    for (auto [stride, pad] : StridePad{{1, 1}, {2, 1}, {2, 0}, {3, 2}})
        compare_both("conv2d 3x3", [=](const auto& in) { return conv2d(in[0], in[1], in[2], {stride, stride}, {pad, pad}); },
                     {leaf({2, 9, 11, 5}, 43), leaf({7, 5, 3, 3}, 44), leaf({7}, 45)});
    compare_both("conv2d 4x4 stem", [](const auto& in) { return conv2d(in[0], in[1], in[2], {4, 4}, {0, 0}); },
                 {leaf({2, 16, 12, 3}, 46), leaf({8, 3, 4, 4}, 47), leaf({8}, 48)});
    for (auto [stride, pad] : StridePad{{1, 3}, {2, 3}, {1, 0}})
        compare_both("depthwise 7x7", [=](const auto& in) { return depthwise_conv2d(in[0], in[1], in[2], {stride, stride}, {pad, pad}); },
                     {leaf({2, 9, 11, 5}, 49), leaf({5, 1, 7, 7}, 50), leaf({5}, 51)});
    compare_both("depthwise 7x7, more channels than a warp", [](const auto& in) { return depthwise_conv2d(in[0], in[1], in[2], {1, 1}, {3, 3}); },
                 {leaf({3, 14, 13, 40}, 72), leaf({40, 1, 7, 7}, 73), leaf({40}, 74)});
    compare_both("depthwise 7x7, rows in several chunks of the weight gradient", [](const auto& in) { return depthwise_conv2d(in[0], in[1], in[2], {1, 1}, {3, 3}); },
                 {leaf({4, 40, 9, 36}, 102), leaf({36, 1, 7, 7}, 103), leaf({36}, 104)});
    compare_both("depthwise 3x3, padding beyond the kernel", [](const auto& in) { return depthwise_conv2d(in[0], in[1], in[2], {1, 1}, {3, 2}); },
                 {leaf({2, 5, 6, 3}, 75), leaf({3, 1, 3, 3}, 76), leaf({3}, 77)});
    compare_both("depthwise 5x5 (a run kernel of its own)", [](const auto& in) { return depthwise_conv2d(in[0], in[1], in[2], {1, 1}, {2, 2}); },
                 {leaf({2, 6, 9, 33}, 85), leaf({33, 1, 5, 5}, 86), leaf({33}, 87)});
    compare_both("depthwise 3x3, strides (1, 2)", [](const auto& in) { return depthwise_conv2d(in[0], in[1], in[2], {1, 2}, {1, 1}); },
                 {leaf({2, 7, 9, 4}, 82), leaf({4, 1, 3, 3}, 83), leaf({4}, 84)});
    compare_both("space_to_depth", [](const auto& in) { return space_to_depth(in[0], 2); }, {leaf({2, 6, 4, 3}, 52)});
    compare_both("depth_to_space", [](const auto& in) { return depth_to_space(in[0], 2); }, {leaf({2, 3, 2, 12}, 53)});
    // Augmentation (place_images): the same draws on both devices, from a generator made anew for each.
    const auto augmented = [](AugmentOptions o) {
        return [o](const auto& in) {
            Rng rng(4);
            return augment_images(in[0], o, rng);
        };
    };
    compare_both("augment, offsets past the whole image", augmented({.size = 11, .pad = 8, .flip = true, .fill = 2.0}),
                 {random_tensor({5, 9, 13, 3}, 105)});
    compare_both("augment, MNIST to convnext-mini", augmented({.size = 32, .pad = 2, .flip = true, .fill = -0.5}),
                 {random_tensor({37, 28, 28, 1}, 106)});
    compare_both("augment, crop", augmented({.size = 6, .pad = 1, .flip = false, .fill = 0.0}),
                 {random_tensor({3, 8, 7, 2}, 107)});
}

TEST_CASE("cuda ops: a NaN in any float input of an op reaches its output (tests/nan_cases.h)", "[cuda]") {
    require_gpu();
    bplab::test::check_nan_reaches_output(Device::cuda());
}

TEST_CASE("cuda ops: attention made in passes of a few groups (BPLAB_CUDA_ATTENTION_MAP_BYTES) equals the CPU's", "[cuda]") {
    require_gpu();
    // 7 groups of (5, 6) maps: 240 bytes each in f64 and 120 in f32, the sums' types. Budgets of one byte (one
    // group per pass) and of three f64 maps (passes of 3, 3 and 1 groups; of 6 and 1 in f32).
    const auto attend = [](const auto& in) { return attention(in[0], in[1], in[2], 0.4); };
    struct Unset {  // even when a check below stops the case: later cases make their maps in one pass again
        ~Unset() { unsetenv("BPLAB_CUDA_ATTENTION_MAP_BYTES"); }
    } unset;
    for (const char* budget : {"1", "720"}) {
        INFO("BPLAB_CUDA_ATTENTION_MAP_BYTES=" << budget);
        REQUIRE(setenv("BPLAB_CUDA_ATTENTION_MAP_BYTES", budget, 1) == 0);
        const std::vector<Tensor> in{leaf({7, 5, 4}, 130), leaf({7, 6, 4}, 131), leaf({7, 6, 4}, 132)};
        compare_both("attention", attend, in);
        compare("attention", attend, in, DType::f32, true, 1e-2);
        const std::vector<Tensor> no_qk{random_tensor({7, 5, 4}, 133), random_tensor({7, 6, 4}, 134), leaf({7, 6, 4}, 135)};
        compare_both("attention, q and k need no gradient", attend, no_qk);
    }
}

TEST_CASE("cuda ops: every op on a dimension of 0 (tests/empty_cases.h) gives the CPU's values and gradients", "[cuda]") {
    require_gpu();
    for (const bplab::test::EmptyCase& c : bplab::test::empty_cases()) compare_both(c.name, c.fn, c.inputs);
}

TEST_CASE("cuda ops: fused SGD and AdamW updates equal the CPU's", "[cuda]") {
    require_gpu();
    Backend& cpu = backend_for(Device::cpu());
    Backend& gpu = backend_for(Device::cuda());
    for (DType dtype : {DType::f64, DType::f32}) {
        const double tol = dtype == DType::f64 ? 1e-12 : 1e-6;
        Tensor p = random_tensor({1001}, 54).to(dtype), g = random_tensor({1001}, 55).to(dtype);
        Tensor m = random_tensor({1001}, 56).to(dtype), v = random_tensor({1001}, 57, DType::f64, 0, 1).to(dtype);
        Tensor pg = p.to(Device::cuda()), gg = g.to(Device::cuda()), mg = m.to(Device::cuda()), vg = v.to(Device::cuda());
        cpu.adamw_update(p, g, m, v, 1e-3, 0.9, 0.999, 1e-8, 0.05, 3);
        gpu.adamw_update(pg, gg, mg, vg, 1e-3, 0.9, 0.999, 1e-8, 0.05, 3);
        check_close(p, pg, tol, "adamw param");
        check_close(m, mg, tol, "adamw m");
        check_close(v, vg, tol, "adamw v");
        for (bool nesterov : {false, true}) {
            cpu.sgd_update(p, g, m, 0.1, 0.9, 1e-4, nesterov);
            gpu.sgd_update(pg, gg, mg, 0.1, 0.9, 1e-4, nesterov);
            check_close(p, pg, tol, "sgd param");
            check_close(m, mg, tol, "sgd momentum");
        }
    }
}

TEST_CASE("cuda ops: with TF32 on, f32 products are within TF32's error of the exact ones and not f32's, and f64 stays exact",
          "[cuda]") {
    require_gpu();
    cuda::CudaBackend& gpu = cuda::install();
    struct Off {  // every other test in this process expects exact f32
        cuda::CudaBackend& b;
        ~Off() { b.set_tf32(false); }
    } off{gpu};
    const std::int64_t m = 64, n = 32, k = 128;  // multiples of 16, which cuBLAS's TF32 kernels take
    const Tensor a = random_tensor({m, k}, 31, DType::f32), w = random_tensor({n, k}, 32, DType::f32), bias = random_tensor({n}, 33, DType::f32);
    // y = a wᵀ + bias exactly (f64), and each element's bound Σ_k |a| |w|.
    const auto av = a.to_vector(), wv = w.to_vector(), bv = bias.to_vector();
    std::vector<double> exact(static_cast<std::size_t>(m * n)), magnitude(exact.size());
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
            double s = bv[static_cast<std::size_t>(j)], mag = 0.0;
            for (std::int64_t q = 0; q < k; ++q) {
                s += av[static_cast<std::size_t>(i * k + q)] * wv[static_cast<std::size_t>(j * k + q)];
                mag += std::abs(av[static_cast<std::size_t>(i * k + q)] * wv[static_cast<std::size_t>(j * k + q)]);
            }
            exact[static_cast<std::size_t>(i * n + j)] = s;
            magnitude[static_cast<std::size_t>(i * n + j)] = mag;
        }
    // Each TF32 operand is off by at most 2^-11 relative (rounded) or 2^-10 (truncated): a product by 2^-9.
    const auto worst_ratio = [&](const Tensor& y) {
        const auto v = y.to(Device::cpu()).to_vector();
        double worst = 0.0;
        for (std::size_t i = 0; i < v.size(); ++i) worst = bplab::test::nan_max(worst, std::abs(v[i] - exact[i]) / (magnitude[i] + 1e-30));
        return worst;
    };
    const Tensor ga = a.to(Device::cuda()), gw = w.to(Device::cuda()), gb = bias.to(Device::cuda());
    const Tensor f32_linear = linear(ga, gw, gb), f32_matmul = matmul(ga, gw, false, true);
    CHECK(worst_ratio(f32_linear) < 1e-6);
    gpu.set_tf32(true);
    CHECK(gpu.tf32());
    const Tensor tf32_linear = linear(ga, gw, gb);  // cuBLASLt with its bias epilogue
    const Tensor tf32_matmul = add(matmul(ga, gw, false, true), gb);  // cuBLAS
    CHECK(worst_ratio(tf32_linear) < std::ldexp(1.0, -9));
    CHECK(worst_ratio(tf32_matmul) < std::ldexp(1.0, -9));
    // TF32 was used (f32 is a hundred times closer), where tensor cores have it (compute 8.0 on) and the driver
    // is not told to refuse it.
    cudaDeviceProp p{};
    REQUIRE(cudaGetDeviceProperties(&p, 0) == cudaSuccess);
    const char* override_tf32 = std::getenv("NVIDIA_TF32_OVERRIDE");
    if (p.major >= 8 && !(override_tf32 && std::string(override_tf32) == "0")) {
        CHECK(worst_ratio(tf32_linear) > 1e-5);
        CHECK(worst_ratio(tf32_matmul) > 1e-5);
    } else {
        WARN("TF32 unavailable here (compute " << p.major << "." << p.minor << ", NVIDIA_TF32_OVERRIDE): not checked that it acts");
    }
    const Tensor a64 = a.to(DType::f64), w64 = w.to(DType::f64);
    check_close(matmul(a64, w64, false, true), matmul(a64.to(Device::cuda()), w64.to(Device::cuda()), false, true), 1e-12,
                "f64 matmul with TF32 on");
    gpu.set_tf32(false);
    CHECK(worst_ratio(linear(ga, gw, gb)) < 1e-6);
    CHECK(bplab::test::max_abs_diff(matmul(ga, gw, false, true).to(Device::cpu()), f32_matmul.to(Device::cpu())) == 0.0);
}
