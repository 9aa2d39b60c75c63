// experiments/cli/run.h — one training run as a value: what to train, how, and where to write it.
// `bplab train` runs one; `bplab compare` runs a grid of them on the same data and prints a table.
#pragma once
#include <string>
#include <vector>

#include "core/data/mnist.h"
#include "core/train/trainer.h"
#include "experiments/cli/flags.h"

namespace bplab::cli {

struct RunSpec {
    std::string method = "backprop";
    std::vector<std::int64_t> hidden = {256};
    double lr = 0.1, momentum = 0.0, weight_decay = 0.0;
    bool nesterov = false;
    std::int64_t batch = 128;
    int epochs = 5;
    std::uint64_t seed = 2525;
    std::string out;       ///< folder for config.json, metrics.jsonl, checkpoint.safetensors
    bool progress = true;  ///< progress bar on a terminal
    bool print_epochs = true;
};

/// Declares the flags shared by train and compare (model, data, batch, epochs, seed, optimiser, threads).
void add_run_flags(Flags& flags);
/// Reads them into a spec (method, lr and out are the caller's).
RunSpec run_spec_from(const Flags& flags);
/// Loads the dataset named by --data / --data-dir.
TrainTest load_data(const Flags& flags);

/// Trains one run, writing <out>/config.json, <out>/metrics.jsonl and <out>/checkpoint.safetensors.
std::vector<EpochMetrics> run_training(const RunSpec& spec, const TrainTest& data);

}  // namespace bplab::cli
