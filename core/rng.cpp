// core/rng.cpp — xoshiro256** seeded through splitmix64, plus uniform, normal, gamma, beta and permutations.
// Written out here (not <random>'s distributions) so results do not depend on the C++ library.
#include "core/rng.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace bplab {
namespace {
std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(std::uint64_t seed) {
    for (auto& v : s_) v = splitmix64(seed);
}

std::uint64_t Rng::next_u64() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

double Rng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

std::uint64_t Rng::below(std::uint64_t n) {
    // Rejection sampling: no modulo bias.
    const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % n);
    std::uint64_t v;
    do v = next_u64();
    while (v >= limit);
    return v % n;
}

double Rng::normal() {
    double u1;
    do u1 = uniform();
    while (u1 <= 0.0);
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
}

double Rng::log_gamma_draw(double shape) {
    if (!(shape > 0.0)) throw std::invalid_argument("rng: Gamma shape " + std::to_string(shape) + " (expected > 0)");
    if (shape < 1.0) {  // Gamma(a) = Gamma(a + 1) · U^(1/a), in logs: U^(1/a) underflows for small a
        double u;
        do u = uniform();
        while (u <= 0.0);
        return log_gamma_draw(shape + 1.0) + std::log(u) / shape;
    }
    const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = normal();
            v = 1.0 + c * x;
        } while (v <= 0.0);
        v = v * v * v;
        const double u = uniform();
        if (u < 1.0 - 0.0331 * x * x * x * x || (u > 0.0 && std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))))
            return std::log(d * v);
    }
}

double Rng::gamma(double shape) { return std::exp(log_gamma_draw(shape)); }

double Rng::beta(double a, double b) {
    const double la = log_gamma_draw(a), lb = log_gamma_draw(b);
    return 1.0 / (1.0 + std::exp(lb - la));  // G_a / (G_a + G_b), without 0 / 0 when both underflow
}

std::vector<std::int64_t> Rng::permutation(std::int64_t n) {
    std::vector<std::int64_t> p(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) p[static_cast<std::size_t>(i)] = i;
    for (std::int64_t i = n - 1; i > 0; --i)
        std::swap(p[static_cast<std::size_t>(i)], p[below(static_cast<std::uint64_t>(i + 1))]);
    return p;
}

}  // namespace bplab
