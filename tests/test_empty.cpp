// tests/test_empty.cpp — on the CPU, every op takes operands with a dimension of 0 (tests/empty_cases.h; the CUDA
// op test runs the same cases on the GPU): PyTorch's shapes, the values where the output has any, f64 gradients.
#include <catch2/catch.hpp>

#include "core/autograd.h"
#include "tests/empty_cases.h"

using namespace bplab;
using namespace bplab::test;

TEST_CASE("empty: every op on a dimension of 0 gives its shape, its values and finite-difference gradients", "[empty]") {
    for (const EmptyCase& c : empty_cases()) DYNAMIC_SECTION(c.name) {
        const std::vector<Tensor> in = empty_case_inputs(c, DType::f64, Device::cpu());
        const Tensor y = c.fn(in);
        CHECK(y.shape() == c.out_shape);
        REQUIRE((y.numel() == 0 || c.reference));  // a case with values says what they are
        if (c.reference) CHECK(max_abs_diff(y, c.reference(in)) == 0.0);
        check_gradients(c.fn, in);
    }
}

TEST_CASE("empty: argmax of no rows is empty, and of rows with no columns an error that says so", "[empty]") {
    CHECK(argmax(Tensor::zeros({0, 0})).shape() == Shape{0});
    CHECK(argmax(Tensor::zeros({2, 0, 5})).shape() == Shape{0});
    CHECK_THROWS_WITH(argmax(Tensor::zeros({2, 3, 0})),
                      Catch::Contains("argmax") && Catch::Contains("(2, 3, 0)") && Catch::Contains("no columns"));
}
