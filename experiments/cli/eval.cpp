// experiments/cli/eval.cpp — `bplab eval`: a run's checkpoint evaluated on its test set (ImageNet's val/ for image
// folders): loss, top-1 and top-5, with the model's weights and, when the run kept them, the EMA's.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "core/io/json.h"
#include "core/train/evaluate.h"
#include "core/train/trainer.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/progress.h"
#include "experiments/cli/run.h"

namespace bplab::cli {
namespace {

json::Value read_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in || !std::filesystem::is_regular_file(path))
        throw std::runtime_error(path + " cannot be read (--run: the folder of a `bplab train` run, holding its config.json)");
    const json::Value v = json::parse(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()), path);
    if (!v.is_object()) throw std::runtime_error(path + " is not a JSON object of the run's settings");
    return v;
}

/// The run's model and data, as its config.json names them.
RunSpec spec_from_config(const json::Value& config) {
    RunSpec s;
    s.model = config.at("model").as_string();
    s.data = config.at("data").as_string();
    s.hidden.clear();
    const std::string hidden = config.at("hidden").as_string();
    for (std::size_t at = 0; at < hidden.size();) {
        const std::size_t comma = hidden.find(',', at);
        s.hidden.push_back(std::stoll(hidden.substr(at, comma - at)));
        at = comma == std::string::npos ? hidden.size() : comma + 1;
    }
    if (const json::Value* f = config.find("interpolation")) s.interpolation = parse_filter(f->as_string(), "config.json's interpolation");
    return s;
}

/// Refuses test data whose classes are not the run's (count, and the names of folder classes).
void require_same_classes(const json::Value& config, const TrainTest& data, const std::string& config_path) {
    const std::int64_t classes = data.train.files ? static_cast<std::int64_t>(data.train.files->classes().size()) : 10;
    if (const json::Value* c = config.find("classes"); c && c->as_int() != classes)
        throw std::invalid_argument("--data-dir: " + std::to_string(classes) + " classes, but the run in " + config_path + " has " +
                                    std::to_string(c->as_int()) + " (another dataset?)");
    if (const json::Value* d = config.find("class_names"); d && !d->as_string().empty() && d->as_string() != class_names_digest(data))
        throw std::invalid_argument("--data-dir: the class folders are named otherwise than the run's (" + config_path +
                                    ": class_names); labels would not match");
}

}  // namespace

int eval_command(int argc, char** argv) {
    Flags flags("bplab eval",
                "Evaluates a run's checkpoint on its test set (val/ for image folders) with the evaluation transform:\n"
                "loss, top-1 and top-5 accuracy, with the model's weights and with the EMA's if the run kept them.\n"
                "The model and data come from <run>/config.json; give --data-dir where they are on this machine.");
    flags.add("run", "", "the folder of a `bplab train` run (config.json, checkpoint.safetensors)")
        .add("checkpoint", "", "the checkpoint to evaluate (default: <run>/checkpoint.safetensors)")
        .add("data-dir", "", "the dataset's folder (default: the IDX set's default; needed for --data folder runs)")
        .add("batch", "500", "evaluation batch size")
        .add("device", "cpu", "device: cpu | cuda | cuda:N")
        .add_switch("json", "print one JSON line instead of the table")
        .add_switch("no-progress", "no progress bar (it is drawn only on a terminal anyway)");
    add_tf32_flag(flags);
    add_thread_flag(flags);
    if (!flags.parse(argc, argv, 2)) return 0;
    if (flags.str("run").empty()) throw std::invalid_argument("--run: give the folder of a `bplab train` run");
    const std::int64_t batch = flags.integer("batch");
    if (batch < 1) throw std::invalid_argument("--batch " + flags.str("batch") + ": expected >= 1");
    apply_threads(flags);
    const Device device = use_device(flags.str("device"));
    use_tf32(device, flags.on("tf32"));
    const std::string config_path = flags.str("run") + "/config.json";
    const std::string checkpoint = flags.str("checkpoint").empty() ? flags.str("run") + "/checkpoint.safetensors" : flags.str("checkpoint");
    const json::Value config = read_config(config_path);
    const RunSpec spec = spec_from_config(config);
    const NamedTensors file = load_safetensors(checkpoint);
    for (const auto& [key, mine] : {std::pair<std::string, std::string>{"model", spec.model}, {"data", spec.data}})
        if (file.metadata.count(key) && file.metadata.at(key) != mine)
            throw std::invalid_argument("--checkpoint: " + checkpoint + " was written by a run with " + key + " " + file.metadata.at(key) +
                                        ", not " + mine + " as " + config_path + " says");
    const TrainTest data = load_dataset(spec.data, flags.str("data-dir"), spec.model, spec.interpolation);
    require_same_classes(config, data, config_path);
    const auto model = build_model(spec, data);
    model->to(device);
    BatchTransform fit;
    if (const AugmentOptions o = in_memory_image_options(spec, data); o.size > 0)
        fit = [o](const Tensor& x) { return fit_images(x, o.size, o.fill); };
    ProgressBar bar(!flags.on("no-progress"));
    const auto run = [&](const char* name, const NamedTensors& weights) {
        model->load_parameters(weights.tensors, checkpoint);
        const EvalResult r = evaluate(*model, data.test, batch, fit, [&](std::int64_t done, std::int64_t total) {
            bar.update(std::string("eval ") + name, done, total, std::nan(""));
        });
        bar.clear();
        return r;
    };
    std::vector<std::pair<std::string, EvalResult>> results{{"model", run("model", model_weights(file))}};
    if (const NamedTensors ema = ema_weights(file); !ema.tensors.empty()) results.emplace_back("ema", run("ema", ema));
    const std::string epoch = file.metadata.count("epoch") ? file.metadata.at("epoch") : "?";
    const std::string step = file.metadata.count("epoch_step") ? file.metadata.at("epoch_step") : "0";
    if (flags.on("json")) {
        json::Object line{{"checkpoint", checkpoint}, {"epoch", static_cast<std::int64_t>(std::stoll(epoch == "?" ? "-1" : epoch))},
                          {"epoch_step", static_cast<std::int64_t>(std::stoll(step))},
                          {"examples", data.test.size()}};
        for (const auto& [name, r] : results)
            line.emplace_back(name, json::Object{{"loss", r.loss}, {"top1", r.accuracy}, {"top5", r.top5}});
        std::printf("%s\n", json::dump(line).c_str());
        return 0;
    }
    std::printf("bplab eval: %s on %s (%lld examples), %s (%s)\n", spec.model.c_str(), data.test.name.c_str(),
                static_cast<long long>(data.test.size()), checkpoint.c_str(),
                step == "0" ? ("after epoch " + epoch).c_str() : ("inside epoch " + std::to_string(std::stoll(epoch) + 1) + ", after step " + step).c_str());
    std::printf("%-8s %10s %8s %8s\n", "weights", "loss", "top-1", "top-5");
    for (const auto& [name, r] : results) std::printf("%-8s %10.5f %8.4f %8.4f\n", name.c_str(), r.loss, r.accuracy, r.top5);
    return 0;
}

}  // namespace bplab::cli
