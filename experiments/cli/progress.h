// experiments/cli/progress.h — a one-line progress bar for long runs (only on a terminal).
// Shows steps done, the running loss, speed and the time left in the epoch.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace bplab::cli {

class ProgressBar {
public:
    /// Draws to stderr only if it is a terminal and `enabled`.
    explicit ProgressBar(bool enabled);
    /// `loss` is shown when finite (pass NaN for a phase without one, such as evaluation).
    void update(const std::string& label, std::int64_t done, std::int64_t total, double loss);
    /// Clears the line (call before printing anything else).
    void clear();

private:
    bool active_;
    std::int64_t last_total_ = -1;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace bplab::cli
