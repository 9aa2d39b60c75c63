// experiments/cli/progress.cpp — the progress bar, redrawn at most ten times a second.
// Output goes to stderr so that stdout stays clean for tables and pipes.
#include "experiments/cli/progress.h"

#include <cmath>
#include <cstdio>
#include <unistd.h>

namespace bplab::cli {

ProgressBar::ProgressBar(bool enabled) : active_(enabled && isatty(STDERR_FILENO)) {}

void ProgressBar::update(const std::string& label, std::int64_t done, std::int64_t total, double loss) {
    if (!active_) return;
    const auto now = std::chrono::steady_clock::now();
    if (total != last_total_ || done == 1) {
        start_ = now;
        last_total_ = total;
    }
    if (done < total && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0.0;
    constexpr int width = 30;
    const int filled = total ? static_cast<int>(width * done / total) : width;
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(width, '.');
    char shown[32] = "";
    if (std::isfinite(loss)) std::snprintf(shown, sizeof shown, " loss %.4f", loss);
    std::fprintf(stderr, "\r%s [%s] %lld/%lld%s  %.1f it/s  ETA %.0fs   ", label.c_str(), bar.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total), shown, rate, eta);
    std::fflush(stderr);
}

void ProgressBar::clear() {
    if (!active_) return;
    std::fprintf(stderr, "\r%100s\r", "");
    std::fflush(stderr);
}

}  // namespace bplab::cli
