// experiments/bench/bench_mlp_step.cpp — times one MLP training step (forward, loss, backward, SGD) in bplab.
// Twin of mlp_step_torch.py (same model, batch, data shape, threads); --method times Backforward's steps too.
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/allocator.h"
#include "core/optim/sgd.h"
#include "core/train/method.h"
#include "models/mlp.h"

using namespace bplab;

int main(int argc, char** argv) {
    std::int64_t batch = 128, steps = 300, warmup = 30;
    std::vector<std::int64_t> hidden{256};
    std::string method = "backprop";
    int threads = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--method") {
            method = argv[i + 1];
            continue;
        }
        if (flag == "--hidden") {
            hidden.clear();
            for (std::size_t start = 0, end; start <= std::string(argv[i + 1]).size(); start = end + 1) {
                const std::string text = argv[i + 1];
                end = text.find(',', start);
                if (end == std::string::npos) end = text.size();
                hidden.push_back(std::stoll(text.substr(start, end - start)));
            }
            continue;
        }
        const long long v = std::stoll(argv[i + 1]);
        if (flag == "--batch") batch = v;
        else if (flag == "--steps") steps = v;
        else if (flag == "--warmup") warmup = v;
        else if (flag == "--threads") threads = static_cast<int>(v);
        else {
            std::fprintf(stderr, "bench_mlp_step: unknown flag %s (flags: --method --hidden 256[,..] --batch --steps --warmup --threads)\n", argv[i]);
            return 2;
        }
    }
#ifdef _OPENMP
    if (threads > 0) omp_set_num_threads(threads);
    threads = omp_get_max_threads();
#else
    threads = 1;
#endif
    Eigen::setNbThreads(threads);
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
}
