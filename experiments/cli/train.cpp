// experiments/cli/train.cpp — `bplab train`: trains a model, writing config, JSONL metrics and checkpoints.
// The checkpoint is replaced atomically after every epoch, so a crash never loses the last one.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "core/io/json.h"
#include "core/io/safetensors.h"
#include "core/train/trainer.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/progress.h"

namespace bplab::cli {
namespace {

std::string method_list() {
    std::string s;
    for (const auto& n : method_names()) s += (s.empty() ? "" : " | ") + n;
    return s;
}

json::Value metrics_json(const EpochMetrics& m, const std::string& method, double lr) {
    return json::Object{{"epoch", m.epoch},           {"method", method},
                        {"lr", lr},                   {"train_loss", m.train_loss},
                        {"test_loss", m.test_loss},   {"test_acc", m.test_accuracy},
                        {"model_norm", m.model_norm}, {"seconds", m.seconds}};
}

}  // namespace

int train_command(int argc, char** argv) {
    Flags flags("train", "Trains a model with one training method; writes <out>/config.json, <out>/metrics.jsonl\n"
                         "(one line per epoch) and <out>/checkpoint.safetensors (replaced after every epoch).");
    flags.add("model", "mlp", "model name (mlp)")
        .add("hidden", "256", "MLP hidden sizes, comma-separated (e.g. 100,100,100)")
        .add("data", "mnist", "dataset (mnist)")
        .add("data-dir", "data/mnist", "folder with the IDX files (see experiments/data/make_mnist_idx.py)")
        .add("method", "backprop", "training method: " + method_list())
        .add("batch", "128", "minibatch size (the last incomplete batch is dropped)")
        .add("epochs", "5", "number of epochs")
        .add("seed", "2525", "seed for the weights and the batch order")
        .add("out", "", "output folder (default: runs/<data>-<model>-<method>-lr<lr>)")
        .add("device", "cpu", "device: cpu")
        .add_switch("no-progress", "no progress bar (it is drawn only on a terminal anyway)");
    add_optimizer_flags(flags, "0.1");
    add_thread_flag(flags);
    if (!flags.parse(argc, argv, 2)) return 0;
    apply_threads(flags);

    if (flags.str("model") != "mlp") throw std::invalid_argument("--model " + flags.str("model") + ": expected mlp");
    if (flags.str("data") != "mnist") throw std::invalid_argument("--data " + flags.str("data") + ": expected mnist");
    if (flags.str("device") != "cpu")
        throw std::invalid_argument("--device " + flags.str("device") + ": this build trains on cpu only");
    const std::int64_t epochs = flags.integer("epochs"), batch = flags.integer("batch");
    if (epochs < 1) throw std::invalid_argument("--epochs " + flags.str("epochs") + ": expected >= 1");
    if (batch < 1) throw std::invalid_argument("--batch " + flags.str("batch") + ": expected >= 1");
    const StepFn step = step_method(flags.str("method"));

    std::string out = flags.str("out");
    if (out.empty()) out = "runs/" + flags.str("data") + "-" + flags.str("model") + "-" + flags.str("method") + "-lr" + flags.str("lr");
    std::filesystem::create_directories(out);

    const TrainTest data = load_mnist(flags.str("data-dir"));
    MlpConfig config;
    config.hidden = flags.integers("hidden");
    config.seed = static_cast<std::uint64_t>(flags.integer("seed"));
    Mlp model(config);
    auto optimizer = make_optimizer(flags, model.parameters());

    json::Object cfg;
    for (const char* name : {"model", "hidden", "data", "data-dir", "method", "lr", "momentum", "weight-decay", "batch",
                             "epochs", "seed", "threads"})
        cfg.emplace_back(name, flags.str(name));
    cfg.emplace_back("parameters", model.parameter_count());
    cfg.emplace_back("train_examples", data.train.size());
    cfg.emplace_back("test_examples", data.test.size());
    write_text_atomic(out + "/config.json", json::dump(cfg) + "\n");

    std::ofstream metrics(out + "/metrics.jsonl", std::ios::trunc);
    if (!metrics) throw std::runtime_error(out + "/metrics.jsonl: cannot open for writing");
    std::cout << "bplab train: " << flags.str("method") << " on " << flags.str("data") << " (" << data.train.size()
              << " train / " << data.test.size() << " test), mlp " << model.parameter_count() << " parameters, lr "
              << flags.str("lr") << ", batch " << batch << ", " << epochs << " epochs -> " << out << "\n";
    std::printf("%5s %11s %10s %9s %11s %8s\n", "epoch", "train_loss", "test_loss", "test_acc", "model_norm", "seconds");

    ProgressBar bar(!flags.on("no-progress"));
    FitOptions options;
    options.epochs = static_cast<int>(epochs);
    options.batch_size = batch;
    options.seed = config.seed;
    options.on_step = [&](int epoch, std::int64_t i, std::int64_t n, double loss) {
        bar.update("epoch " + std::to_string(epoch) + "/" + std::to_string(epochs), i + 1, n, loss);
    };
    options.on_epoch = [&](const EpochMetrics& m) {
        bar.clear();
        std::printf("%5d %11.5f %10.5f %9.4f %11.4f %8.2f\n", m.epoch, m.train_loss, m.test_loss, m.test_accuracy,
                    m.model_norm, m.seconds);
        std::fflush(stdout);
        metrics << json::dump(metrics_json(m, flags.str("method"), optimizer->lr())) << '\n' << std::flush;
        save_safetensors(out + "/checkpoint.safetensors", model.named_parameters(),
                         {{"epoch", std::to_string(m.epoch)}, {"method", flags.str("method")}, {"model", "mlp"},
                          {"hidden", flags.str("hidden")}});
        return true;
    };
    fit(model, *optimizer, data, step, options);
    return 0;
}

}  // namespace bplab::cli
