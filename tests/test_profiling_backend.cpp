// tests/test_profiling_backend.cpp — the per-op profiler of the benchmarks: it sees every backend call on its
// device, changes no result, nests, and puts the device's own backend back when it goes.
#include <catch2/catch.hpp>

#include "backends/profiling_backend.h"
#include "core/ops.h"
#include "tests/test_helpers.h"

using namespace bplab;
using bplab::test::random_tensor;

namespace {

/// x (6, 5) -> gelu(linear(x, w, b)) summed; returns the loss and the gradients of w and b.
std::vector<Tensor> linear_gelu_step() {
    const Tensor x = random_tensor({6, 5}, 1);
    Tensor w = random_tensor({4, 5}, 2), b = random_tensor({4}, 3);
    w.set_requires_grad(true);
    b.set_requires_grad(true);
    const Tensor loss = sum(gelu(linear(x, w, b)));
    backward(loss);
    return {loss, w.grad(), b.grad()};
}

std::int64_t calls_of(const BackendProfiler& profiler, const std::string& op) {
    for (const OpTime& row : profiler.report())
        if (row.op == op) return row.calls;
    return 0;
}

}  // namespace

TEST_CASE("profiler: counts each backend op of a step and changes none of its results", "[profiler]") {
    const std::vector<Tensor> plain = linear_gelu_step();
    Backend* const cpu = &backend_for(Device::cpu());
    std::vector<Tensor> profiled;
    {
        BackendProfiler profiler(Device::cpu());
        REQUIRE(&backend_for(Device::cpu()) != cpu);
        profiled = linear_gelu_step();
        CHECK(calls_of(profiler, "linear_forward") == 1);
        CHECK(calls_of(profiler, "linear_backward") == 1);
        CHECK(calls_of(profiler, "gelu_forward") == 1);
        CHECK(calls_of(profiler, "gelu_backward") == 1);
        CHECK(calls_of(profiler, "attention_forward") == 0);
        const std::vector<OpTime> rows = profiler.report();
        for (std::size_t i = 1; i < rows.size(); ++i) CHECK(rows[i - 1].seconds >= rows[i].seconds);
        for (const OpTime& row : rows) CHECK(row.seconds >= 0);
        profiler.reset();
        CHECK(profiler.report().empty());
    }
    REQUIRE(&backend_for(Device::cpu()) == cpu);
    for (std::size_t i = 0; i < plain.size(); ++i) REQUIRE(profiled[i].to_vector() == plain[i].to_vector());
}

TEST_CASE("profiler: nested profilers both see the calls and unwind in order", "[profiler]") {
    Backend* const cpu = &backend_for(Device::cpu());
    BackendProfiler outer(Device::cpu());
    Backend* const outer_backend = &backend_for(Device::cpu());
    {
        BackendProfiler inner(Device::cpu());
        linear_gelu_step();
        CHECK(calls_of(inner, "linear_forward") == 1);
    }
    REQUIRE(&backend_for(Device::cpu()) == outer_backend);
    linear_gelu_step();
    CHECK(calls_of(outer, "linear_forward") == 2);
    REQUIRE(outer_backend != cpu);
}

TEST_CASE("profiler: a backend call made inside another op counts as that op's time, not twice", "[profiler]") {
    // The CPU's conv2d backward zero-fills its weight-gradient buffer through Tensor::zeros, i.e. a nested fill.
    Tensor x = random_tensor({2, 6, 6, 3}, 4), w = random_tensor({4, 3, 3, 3}, 5);
    x.set_requires_grad(true);
    w.set_requires_grad(true);
    const Tensor y = conv2d(x, w, Tensor(), {1, 1}, {1, 1});
    const Tensor dy = random_tensor(y.shape(), 6);  // an explicit seed: backward itself fills nothing
    BackendProfiler profiler(Device::cpu());
    backward(y, dy);
    CHECK(calls_of(profiler, "conv2d_backward") == 1);
    CHECK(calls_of(profiler, "fill") == 0);
}
