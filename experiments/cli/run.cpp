// experiments/cli/run.cpp — one training run: model, optimiser, metrics file, checkpoints, progress.
// The checkpoint is replaced atomically after every epoch, so a crash never loses the last one.
#include "experiments/cli/run.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "core/io/json.h"
#include "core/io/safetensors.h"
#include "core/optim/sgd.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/progress.h"
#include "models/mlp.h"

namespace bplab::cli {
namespace {

std::string join(const std::vector<std::int64_t>& v) {
    std::string s;
    for (auto x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
    return s;
}

}  // namespace

void add_run_flags(Flags& flags) {
    flags.add("model", "mlp", "model name (mlp)")
        .add("hidden", "256", "MLP hidden sizes, comma-separated (e.g. 100,100,100)")
        .add("data", "mnist", "dataset (mnist)")
        .add("data-dir", "data/mnist", "folder with the IDX files (see experiments/data/make_mnist_idx.py)")
        .add("batch", "128", "minibatch size (the last incomplete batch is dropped)")
        .add("epochs", "5", "number of epochs")
        .add("seed", "2525", "seed for the weights and the batch order")
        .add("device", "cpu", "device: cpu")
        .add_switch("no-progress", "no progress bar (it is drawn only on a terminal anyway)");
    flags.add("momentum", "0", "SGD momentum (0: plain SGD)")
        .add("weight-decay", "0", "SGD weight decay (coupled, as torch.optim.SGD)")
        .add_switch("nesterov", "Nesterov momentum");
    add_thread_flag(flags);
}

RunSpec run_spec_from(const Flags& flags) {
    if (flags.str("model") != "mlp") throw std::invalid_argument("--model " + flags.str("model") + ": expected mlp");
    if (flags.str("device") != "cpu")
        throw std::invalid_argument("--device " + flags.str("device") + ": this build trains on cpu only");
    RunSpec s;
    s.hidden = flags.integers("hidden");
    s.batch = flags.integer("batch");
    if (s.batch < 1) throw std::invalid_argument("--batch " + flags.str("batch") + ": expected >= 1");
    const std::int64_t epochs = flags.integer("epochs");
    if (epochs < 1 || epochs > 100000) throw std::invalid_argument("--epochs " + flags.str("epochs") + ": expected 1..100000");
    s.epochs = static_cast<int>(epochs);
    s.seed = static_cast<std::uint64_t>(flags.integer("seed"));
    s.momentum = flags.real("momentum");
    s.weight_decay = flags.real("weight-decay");
    s.nesterov = flags.on("nesterov");
    s.progress = !flags.on("no-progress");
    return s;
}

TrainTest load_data(const Flags& flags) {
    if (flags.str("data") != "mnist") throw std::invalid_argument("--data " + flags.str("data") + ": expected mnist");
    return load_mnist(flags.str("data-dir"));
}

std::vector<EpochMetrics> run_training(const RunSpec& spec, const TrainTest& data) {
    const StepFn step = step_method(spec.method);
    std::filesystem::create_directories(spec.out);
    MlpConfig config;
    config.hidden = spec.hidden;
    config.seed = spec.seed;
    Mlp model(config);
    Sgd optimizer(model.parameters(), {.lr = spec.lr, .momentum = spec.momentum, .weight_decay = spec.weight_decay,
                                       .nesterov = spec.nesterov});

    const json::Object cfg{{"model", "mlp"},
                           {"hidden", join(spec.hidden)},
                           {"method", spec.method},
                           {"lr", spec.lr},
                           {"momentum", spec.momentum},
                           {"weight_decay", spec.weight_decay},
                           {"batch", spec.batch},
                           {"epochs", spec.epochs},
                           {"seed", static_cast<std::int64_t>(spec.seed)},
                           {"parameters", model.parameter_count()},
                           {"train_examples", data.train.size()},
                           {"test_examples", data.test.size()}};
    write_text_atomic(spec.out + "/config.json", json::dump(cfg) + "\n");
    const std::string metrics_path = spec.out + "/metrics.jsonl";
    std::ofstream metrics(metrics_path, std::ios::trunc);
    if (!metrics) throw std::runtime_error(metrics_path + ": cannot open for writing");

    ProgressBar bar(spec.progress);
    FitOptions options;
    options.epochs = spec.epochs;
    options.batch_size = spec.batch;
    options.seed = spec.seed;
    options.on_step = [&](int epoch, std::int64_t i, std::int64_t n, double loss) {
        bar.update(spec.method + " lr " + json::dump(spec.lr) + " epoch " + std::to_string(epoch) + "/" +
                       std::to_string(spec.epochs),
                   i + 1, n, loss);
    };
    options.on_epoch = [&](const EpochMetrics& m) {
        bar.clear();
        if (spec.print_epochs) {
            std::printf("%5d %11.5f %10.5f %9.4f %11.4f %8.2f\n", m.epoch, m.train_loss, m.test_loss, m.test_accuracy,
                        m.model_norm, m.seconds);
            std::fflush(stdout);
        }
        const json::Object line{{"epoch", m.epoch},         {"method", spec.method},  {"lr", spec.lr},
                                {"train_loss", m.train_loss}, {"test_loss", m.test_loss}, {"test_acc", m.test_accuracy},
                                {"model_norm", m.model_norm}, {"seconds", m.seconds}};
        metrics << json::dump(line) << '\n' << std::flush;
        save_safetensors(spec.out + "/checkpoint.safetensors", model.named_parameters(),
                         {{"epoch", std::to_string(m.epoch)}, {"method", spec.method}, {"model", "mlp"},
                          {"hidden", join(spec.hidden)}});
        return true;
    };
    if (spec.print_epochs)
        std::printf("%5s %11s %10s %9s %11s %8s\n", "epoch", "train_loss", "test_loss", "test_acc", "model_norm", "seconds");
    return fit(model, optimizer, data, step, options);
}

}  // namespace bplab::cli
