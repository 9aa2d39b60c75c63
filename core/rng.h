// core/rng.h — the seeded random generator behind every random choice in bplab.
// xoshiro256** with our own normal sampler, so a seed gives the same numbers on every platform.
#pragma once
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

namespace bplab {

class Rng {
public:
    explicit Rng(std::uint64_t seed = 0);
    std::uint64_t next_u64();
    /// Uniform in [0, 1).
    double uniform();
    /// Uniform integer in [0, n).
    std::uint64_t below(std::uint64_t n);
    /// Standard normal (Box–Muller).
    double normal();
    /// Gamma(shape, 1), shape > 0 (Marsaglia and Tsang; below 1 through Gamma(shape + 1) · U^(1/shape)).
    double gamma(double shape);
    /// The log of a Gamma(shape, 1) draw (not log Γ): the same draw as gamma(), finite where gamma() would
    /// underflow to 0. Throws unless shape > 0.
    double log_gamma_draw(double shape);
    /// Beta(a, b) = G_a / (G_a + G_b), a, b > 0.
    double beta(double a, double b);
    /// A uniformly random permutation of 0..n-1 (Fisher–Yates).
    std::vector<std::int64_t> permutation(std::int64_t n);

    /// The full state, for checkpoints.
    std::array<std::uint64_t, 4> state() const { return s_; }
    void set_state(const std::array<std::uint64_t, 4>& s) { s_ = s; }

private:
    std::array<std::uint64_t, 4> s_;
};

}  // namespace bplab
