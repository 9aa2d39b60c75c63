// tests/test_tensor.cpp — tensor basics: views, copies, dtypes, the allocator's counts, clear errors.
// Error texts are part of the interface: tests check that they name the op, the shapes and the fix.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <string>

#include "backends/backend.h"
#include "core/allocator.h"
#include "core/autograd.h"
#include "core/ops.h"
#include "tests/test_helpers.h"

using namespace bplab;
using bplab::test::random_tensor;

TEST_CASE("tensor: reshape is a view, transpose is a copy", "[tensor]") {
    const Tensor x = random_tensor({2, 6}, 1);
    const Tensor v = x.reshape({3, -1});
    REQUIRE(v.shape() == Shape{3, 4});
    REQUIRE(v.raw_data() == x.raw_data());
    const Tensor t = transpose(x);
    REQUIRE(t.shape() == Shape{6, 2});
    REQUIRE(t.raw_data() != x.raw_data());
    const auto xv = x.to_vector(), tv = t.to_vector();
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 6; ++j) REQUIRE(tv[static_cast<std::size_t>(j * 2 + i)] == xv[static_cast<std::size_t>(i * 6 + j)]);
    REQUIRE_THROWS_WITH(x.reshape({5, -1}), Catch::Contains("cannot view (2, 6)"));
}

TEST_CASE("tensor: the allocator counts every byte and its peak", "[tensor][memory]") {
    const std::int64_t base = memory_stats().current_bytes;
    reset_peak();
    {
        const Tensor a = Tensor::zeros({100}, DType::f32);
        const Tensor b = Tensor::zeros({10}, DType::f64);
        REQUIRE(memory_stats().current_bytes - base == 400 + 80);
    }
    REQUIRE(memory_stats().current_bytes == base);
    REQUIRE(memory_stats().peak_bytes - base == 480);
    reset_peak();
    REQUIRE(memory_stats().peak_bytes == base);
}

TEST_CASE("tensor: dtype conversion and element access", "[tensor]") {
    const Tensor x = Tensor::from_vector({1.5, -2.25, 3.0}, {3}, DType::f64);
    const Tensor f = x.to(DType::f32);
    REQUIRE(f.dtype() == DType::f32);
    REQUIRE(f.to_vector() == std::vector<double>{1.5, -2.25, 3.0});
    REQUIRE_THROWS_WITH(f.data<double>(), Catch::Contains("holds F32, asked for F64"));
}

TEST_CASE("ops: mismatched inputs give errors that name the op and the shapes", "[tensor]") {
    const Tensor a = random_tensor({64, 192}, 1, DType::f32), b = random_tensor({768, 192}, 2, DType::f32);
    REQUIRE_THROWS_WITH(matmul(a, b), Catch::Contains("matmul: shapes (64, 192) x (768, 192)") &&
                                          Catch::Contains("inner dimension (192 vs 768)"));
    REQUIRE_NOTHROW(matmul(a, b, false, true));
    REQUIRE_THROWS_WITH(add(a, random_tensor({64, 192}, 3, DType::f64)), Catch::Contains("F32 and F64"));
    REQUIRE_THROWS_WITH(add(a, random_tensor({3}, 4, DType::f32)), Catch::Contains("cannot broadcast (3,) to (64, 192)"));
    REQUIRE_THROWS_WITH(cross_entropy(a, Tensor::from_indices({1}, {1})), Catch::Contains("labels must be I64 of shape (64,)"));
    REQUIRE_THROWS_WITH(cross_entropy(a.reshape({2, -1}), Tensor::from_indices({0, 200000}, {2})),
                        Catch::Contains("label 200000 out of range"));
    REQUIRE_THROWS_WITH(gather_rows(a, Tensor::from_indices({1, 1}, {2}), 0), Catch::Contains("appears twice"));
    REQUIRE_THROWS_WITH(gather_rows(a, Tensor::from_indices({64}, {1}), 0), Catch::Contains("out of range [0, 64)"));
    const Tensor top = random_tensor({2, 192}, 7, DType::f32), bottom = random_tensor({1, 192}, 8, DType::f32);
    const auto rows = [](std::vector<std::int64_t> v) { return Tensor::from_indices(v, {static_cast<std::int64_t>(v.size())}); };
    REQUIRE_THROWS_WITH(interleave_rows({top, bottom}, {rows({0, 2}), rows({2})}, 0), Catch::Contains("index 2 appears twice"));
    REQUIRE_THROWS_WITH(interleave_rows({top, bottom}, {rows({0, 1}), rows({3})}, 0),
                        Catch::Contains("interleave_rows: index 3 out of range [0, 3)"));
    REQUIRE_THROWS_WITH(interleave_rows({top, bottom}, {rows({0, 2}), rows({1, 3})}, 0),
                        Catch::Contains("part 1 of shape (1, 192) (expected (2, 192)"));
    REQUIRE_THROWS_WITH(interleave_rows({top}, {rows({0, 1}), rows({2})}, 0), Catch::Contains("1 parts and 2 index tensors"));
}

TEST_CASE("ops: f32 results agree with f64 on the same inputs", "[tensor]") {
    const Tensor a = random_tensor({33, 70}, 5), b = random_tensor({70, 17}, 6);
    const Tensor ref = softmax(gelu(matmul(a, b)));
    const Tensor f = softmax(gelu(matmul(a.to(DType::f32), b.to(DType::f32))));
    REQUIRE(bplab::test::max_abs_diff(f.to(DType::f64), ref) < 1e-5);
}

TEST_CASE("ops: attention equals softmax(q kᵀ · scale) v built from matmul and softmax", "[tensor]") {
    const Tensor q = random_tensor({2, 3, 7, 4}, 1), k = random_tensor({2, 3, 5, 4}, 2), v = random_tensor({2, 3, 5, 4}, 3);
    const Tensor ref = matmul(softmax(scale(matmul(q, k, false, true), 0.5)), v);
    REQUIRE(bplab::test::max_abs_diff(attention(q, k, v, 0.5), ref) < 1e-14);
}

TEST_CASE("ops: layer_norm rows have zero mean and unit variance before the affine part", "[tensor]") {
    const Tensor y = layer_norm(random_tensor({5, 64}, 4, DType::f64, -3, 7), Tensor(), Tensor(), 1e-12);
    const Tensor m = mean(y, 1), v = mean(mul(y, y), 1);
    for (double x : m.to_vector()) REQUIRE(std::abs(x) < 1e-12);
    for (double x : v.to_vector()) REQUIRE(std::abs(x - 1.0) < 1e-9);
}

TEST_CASE("ops: permute moves every element where its index says", "[tensor]") {
    const Tensor x = random_tensor({2, 3, 4}, 5);
    const auto xv = x.to_vector(), pv = permute(x, {1, 2, 0}).to_vector();
    for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 3; ++b)
            for (int c = 0; c < 4; ++c) REQUIRE(pv[static_cast<std::size_t>((b * 4 + c) * 2 + a)] == xv[static_cast<std::size_t>((a * 3 + b) * 4 + c)]);
    const Tensor scalar = Tensor::full({}, 2.5, DType::f64);  // 0-d: nothing to reorder, one element to copy
    CHECK(permute(scalar, {}).to_vector() == std::vector<double>{2.5});
}

TEST_CASE("ops: permute_unbind gives unbind(permute)'s slices and gradient, without the whole permuted tensor", "[tensor]") {
    // Attention's split: x (B, N, 3, h, d) -> q, k, v (B, h, N, d), as a packed qkv projection gives them.
    const std::vector<std::int64_t> dims{2, 0, 3, 1, 4};
    Tensor a = random_tensor({2, 5, 3, 2, 4}, 7), b = a.clone();
    a.set_requires_grad(true);
    b.set_requires_grad(true);
    reset_peak();
    const std::int64_t before = memory_stats().current_bytes;
    const std::vector<Tensor> fused = permute_unbind(a, dims);
    CHECK(memory_stats().peak_bytes - before == static_cast<std::int64_t>(a.nbytes()));  // the three slices alone
    const std::vector<Tensor> plain = unbind(permute(b, dims), 0);
    REQUIRE(fused.size() == 3);
    Tensor loss_a, loss_b;
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(fused[i].shape() == Shape{2, 2, 5, 4});
        CHECK(fused[i].to_vector() == plain[i].to_vector());
        const Tensor w = random_tensor(fused[i].shape(), 20 + i);  // a different weight per slice
        loss_a = i ? add(loss_a, sum(mul(fused[i], w))) : sum(mul(fused[i], w));
        loss_b = i ? add(loss_b, sum(mul(plain[i], w))) : sum(mul(plain[i], w));
    }
    backward(loss_a);
    backward(loss_b);
    CHECK(a.grad().to_vector() == b.grad().to_vector());
    // A slice without a gradient contributes zeros.
    Tensor c = random_tensor({3, 2, 4}, 8);
    c.set_requires_grad(true);
    backward(sum(permute_unbind(c, {1, 0, 2})[1]));
    const auto g = c.grad().to_vector();  // c (3, 2, 4): ones where dim 1 is 1, zeros elsewhere
    for (std::size_t i = 0; i < g.size(); ++i) CHECK(g[i] == ((i / 4) % 2 == 1 ? 1.0 : 0.0));
    // Slices of one element: the backward's runs along dx's dim 0 cross the slices' gradients one by one.
    Tensor e = random_tensor({1, 3}, 10), f = e.clone();
    e.set_requires_grad(true);
    f.set_requires_grad(true);
    const std::vector<Tensor> ef = permute_unbind(e, {1, 0}), ff = unbind(permute(f, {1, 0}), 0);
    backward(add(add(ef[0], scale(ef[1], 2.0)), scale(ef[2], 3.0)));
    backward(add(add(ff[0], scale(ff[1], 2.0)), scale(ff[2], 3.0)));
    CHECK(e.grad().to_vector() == std::vector<double>{1.0, 2.0, 3.0});
    CHECK(e.grad().to_vector() == f.grad().to_vector());
    CHECK_THROWS_WITH(permute_unbind(random_tensor({5, 2}, 9), {0, 1}), Catch::Contains("1 to 4 slices"));
    CHECK_THROWS_WITH(permute_unbind(random_tensor({2, 3}, 9), {0, 0}), Catch::Contains("permute_unbind"));
}

TEST_CASE("allocator: with BPLAB_POISON=1 (the 'poisoned memory' runs) a new tensor reads NaN until written", "[tensor]") {
    const char* poison = std::getenv("BPLAB_POISON");
    const Tensor t = Tensor::empty({5}, DType::f64), z = Tensor::zeros({5}, DType::f64);
    for (double v : z.to_vector()) CHECK(v == 0.0);  // writing still works as usual
    if (!poison || std::string(poison) != "1") return;
    for (double v : t.to_vector()) CHECK(std::isnan(v));
    CHECK(Tensor::empty({3}, DType::i64).to_vector() == std::vector<double>{-1.0, -1.0, -1.0});
}

TEST_CASE("allocator: the CPU keeps freed blocks for reuse until empty_cache gives them back", "[tensor]") {
    constexpr std::int64_t k4MiB = 4 << 20;
    const std::int64_t allocations = memory_stats().allocations;
    { const Tensor t = Tensor::empty({k4MiB / 4}, DType::f32); }  // freed at once
    CHECK(memory_stats().allocations == allocations + 1);
    const std::int64_t held = memory_stats().reserved_bytes;
    empty_cache();
    const std::int64_t after = memory_stats().reserved_bytes;
#ifdef __SANITIZE_ADDRESS__
    CHECK(after == held);  // AddressSanitizer builds keep nothing: the block went back when the tensor died
#else
    CHECK(held - after >= k4MiB);
#endif
    CHECK(after >= memory_stats().current_bytes);
}

TEST_CASE("tensor: transpose moves the elements of every dtype, integers and bf16 too", "[tensor]") {
    const Tensor x = random_tensor({2, 3, 5}, 3, DType::f64, -50.0, 50.0), xt = transpose(x);
    for (DType dtype : {DType::f32, DType::i32, DType::i64, DType::bf16}) {
        INFO(dtype_name(dtype));
        const Tensor t = transpose(x.to(dtype));
        CHECK(t.dtype() == dtype);
        CHECK(t.to_vector() == xt.to(dtype).to_vector());
    }
}

TEST_CASE("backend: a float kernel given integers names the backend, the op and the dtype", "[tensor]") {
    const Tensor ints = Tensor::from_indices({1, 2, 3}, {3});
    Tensor out = Tensor::empty({3}, DType::i64);
    REQUIRE_THROWS_WITH(backend_for(Device::cpu()).gelu_forward(out, ints),
                        Catch::Contains("cpu gelu_forward: I64 is not a float type"));
}
