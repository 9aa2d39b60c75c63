// core/round.h — round half to even, as numpy's np.round and Python's round() do, for code that follows them
// (SBP's grid stride, torchvision's crop sizes); independent of the floating-point rounding mode.
#pragma once
#include <cmath>
#include <cstdint>

namespace bplab {

inline std::int64_t round_half_even(double x) {
    double f = std::floor(x);
    const double frac = x - f;
    if (frac > 0.5 || (frac == 0.5 && std::fmod(f, 2.0) != 0.0)) f += 1.0;
    return static_cast<std::int64_t>(f);
}

}  // namespace bplab
