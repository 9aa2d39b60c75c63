// experiments/bench/bench_mlp_step.cpp — times one MLP training step (forward, loss, backward, SGD) in bplab.
// Twin of mlp_step_torch.py (same model, batch, data shape, threads); --method times Backforward's steps too.
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "core/allocator.h"
#include "core/optim/sgd.h"
#include "core/train/method.h"
#include "experiments/cli/commands.h"
#include "models/mlp.h"

using namespace bplab;

int main(int argc, char** argv) try {
    cli::Flags flags("bench_mlp_step",
                     "Times training steps of an MLP on a random MNIST-sized batch with one training method; twin of\n"
                     "mlp_step_torch.py.");
    flags.add("method", "backprop", "training method: " + cli::choices(method_names()))
        .add("hidden", "256", "hidden widths, comma-separated (e.g. 100,100,100)")
        .add("batch", "128", "batch size")
        .add("steps", "300", "timed steps")
        .add("warmup", "30", "untimed steps first");
    cli::add_thread_flag(flags);
    if (!flags.parse(argc, argv, 1)) return 0;
    const std::string method = flags.str("method");
    const std::vector<std::int64_t> hidden = flags.integers("hidden");
    const std::int64_t batch = flags.integer("batch"), steps = flags.integer("steps"), warmup = flags.integer("warmup");
    if (batch < 1 || steps < 1 || warmup < 0)
        throw std::invalid_argument("--batch " + flags.str("batch") + ", --steps " + flags.str("steps") + ", --warmup " +
                                    flags.str("warmup") + ": expected batch and steps >= 1, warmup >= 0");
    const int threads = cli::apply_threads(flags);
    MlpConfig config;
    config.hidden = hidden;
    Mlp model(config);
    Sgd sgd(model.parameters(), {.lr = 0.01});
    Rng rng(1);
    std::vector<double> xs(static_cast<std::size_t>(batch * 784));
    for (auto& v : xs) v = rng.uniform();
    std::vector<std::int64_t> ys(static_cast<std::size_t>(batch));
    for (auto& v : ys) v = static_cast<std::int64_t>(rng.below(10));
    const Batch b{Tensor::from_vector(xs, {batch, 784}), Tensor::from_indices(ys, {batch})};

    const StepFn step = step_method(method);
    for (std::int64_t i = 0; i < warmup; ++i) step(model, b, sgd);
    reset_peak();
    const std::int64_t base = memory_stats().current_bytes;
    std::vector<double> ms;
    for (std::int64_t i = 0; i < steps; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        step(model, b, sgd);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    const double median = ms[ms.size() / 2], mean = std::accumulate(ms.begin(), ms.end(), 0.0) / static_cast<double>(ms.size());
    std::string sizes;
    for (auto h : hidden) sizes += std::to_string(h) + "-";
    std::printf("bplab: %s, MLP 784-%s10, batch %lld, %d threads: median %.3f ms/step, mean %.3f ms/step, peak step memory %.1f KiB\n",
                method.c_str(), sizes.c_str(), static_cast<long long>(batch), threads, median, mean,
                static_cast<double>(memory_stats().peak_bytes - base) / 1024.0);
    std::printf("RESULT framework=bplab threads=%d ms_median=%.4f ms_mean=%.4f\n", threads, median, mean);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_mlp_step: %s\n", e.what());
    return 1;
}
