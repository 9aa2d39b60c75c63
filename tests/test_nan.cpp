// tests/test_nan.cpp — on the CPU, the forward of every op carries a NaN input to its output (tests/nan_cases.h;
// the CUDA op test runs the same cases on the GPU). ReLU hid one until 2026-11-28: NaN weights, finite loss.
#include "tests/nan_cases.h"

TEST_CASE("NaN: a NaN in any float input of an op reaches its output, on the CPU", "[nan]") {
    bplab::test::check_nan_reaches_output(bplab::Device::cpu());
}
