// tests/cuda/test_cuda_device.cpp — the CUDA runtime answers, and names the device when there is one.
// Without a GPU the case exits with CTest's skip code (77), so it shows as skipped, not passed.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "backends/cuda/device.h"

TEST_CASE("cuda: a present GPU is described by name and compute capability", "[cuda]") {
    const int n = bplab::cuda::device_count();
    if (n == 0) std::exit(77);
    const std::string d = bplab::cuda::device_description(0);
    INFO(d);
    CHECK(d.find("compute") != std::string::npos);
    CHECK_THROWS_WITH(bplab::cuda::device_description(n), Catch::Contains("device " + std::to_string(n)));
}
