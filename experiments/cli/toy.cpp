// experiments/cli/toy.cpp — `bplab toy`: the abstract's toy check. One batch of a few real MNIST digits,
// one update at a large learning rate: the loss on that batch before and after, per method, size and seed.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "core/io/json.h"
#include "core/ops.h"
#include "core/optim/sgd.h"
#include "core/train/backprop.h"
#include "core/train/method.h"
#include "experiments/cli/commands.h"
#include "core/data/mnist.h"
#include "experiments/cli/run.h"
#include "models/mlp.h"

namespace bplab::cli {

int toy_command(int argc, char** argv) {
    Flags flags("bplab toy",
                "For each hidden size, batch size, seed and method: draw `batch` training digits with the seed,\n"
                "initialise the MLP with the seed, take one step at --lr, and report the loss on that batch\n"
                "before and after. Writes <out>/toy.jsonl and prints, per setting, the median loss after the step and\n"
                "how many seeds reached a loss below 1e-3.");
    flags.add("data-dir", "data/mnist", "folder with the MNIST IDX files")
        .add("hidden", "256,1024", "hidden sizes to try (one hidden layer each)")
        .add("batches", "2,4,8", "batch sizes to try")
        .add("seeds", "5", "number of seeds (1..N)")
        .add("lr", "1.0", "learning rate of the single step")
        .add("methods", "backprop,backforward", "methods: " + choices(method_names()))
        .add("out", "runs/toy", "output folder")
        .add("device", "cpu", "cpu | cuda");
    add_thread_flag(flags);
    if (!flags.parse(argc, argv, 2)) return 0;
    apply_threads(flags);
    const auto hidden = flags.integers("hidden"), batches = flags.integers("batches");
    const auto methods = flags.words("methods");
    for (const auto& m : methods) step_method(m);
    const std::int64_t seeds = flags.integer("seeds");
    if (seeds < 1) throw std::invalid_argument("--seeds " + flags.str("seeds") + ": expected >= 1");
    const double lr = flags.real("lr");
    if (lr < 0) throw std::invalid_argument("--lr " + flags.str("lr") + ": expected >= 0");
    const Device device = use_device(flags.str("device"));
    const TrainTest data = load_mnist(flags.str("data-dir"));
    for (std::int64_t b : batches)
        if (b > data.train.size())
            throw std::invalid_argument("--batches " + flags.str("batches") + ": " + std::to_string(b) + " is more than the " +
                                        std::to_string(data.train.size()) + " training images");
    std::filesystem::create_directories(flags.str("out"));
    std::ofstream jsonl(flags.str("out") + "/toy.jsonl", std::ios::trunc);

    std::printf("| hidden | batch | method                  | loss before (mean) | loss after (median) | after < 1e-3 | after: min .. max |\n");
    std::printf("|-------:|------:|-------------------------|-------------------:|--------------------:|-------------:|------------------:|\n");
    for (std::int64_t h : hidden)
        for (std::int64_t b : batches)
            for (const auto& method : methods) {
                double before_sum = 0;
                std::vector<double> after_all;
                for (std::int64_t seed = 1; seed <= seeds; ++seed) {
                    Rng pick(static_cast<std::uint64_t>(seed));
                    const auto order = pick.permutation(data.train.size());
                    Batch batch = make_batch(data.train, Tensor::from_indices({order.begin(), order.begin() + b}, {b}));
                    batch.x = batch.x.to(device);
                    batch.y = batch.y.to(device);
                    MlpConfig config;
                    config.hidden = {h};
                    config.seed = static_cast<std::uint64_t>(seed);
                    Mlp model(config);
                    model.to(device);
                    Sgd sgd(model.parameters(), {.lr = lr});
                    const double before = step_method(method)(model, batch, sgd);
                    double after;
                    {
                        NoGradGuard no_grad;
                        after = batch_loss(model, batch).item();
                    }
                    before_sum += before;
                    after_all.push_back(after);
                    jsonl << json::dump(json::Object{{"hidden", h}, {"batch", b}, {"seed", seed}, {"method", method},
                                                     {"lr", lr}, {"loss_before", before}, {"loss_after", after}})
                          << '\n';
                }
                std::sort(after_all.begin(), after_all.end());
                const std::size_t n = after_all.size();
                const double median = n % 2 ? after_all[n / 2] : 0.5 * (after_all[n / 2 - 1] + after_all[n / 2]);
                const auto solved = std::count_if(after_all.begin(), after_all.end(), [](double v) { return v < 1e-3; });
                std::printf("| %6lld | %5lld | %-23s | %18.4f | %19.4g | %6lld of %-3zu | %8.4g .. %-6.4g |\n",
                            static_cast<long long>(h), static_cast<long long>(b), method.c_str(),
                            before_sum / static_cast<double>(n), median, static_cast<long long>(solved), n,
                            after_all.front(), after_all.back());
                std::fflush(stdout);
            }
    return 0;
}

}  // namespace bplab::cli
