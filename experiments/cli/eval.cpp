// experiments/cli/eval.cpp — `bplab eval`: a run's checkpoint evaluated on its test set (ImageNet's val/ for image
// folders): loss, top-1 and top-5, with the model's weights and, when the run kept them, the EMA's.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>

#include "core/autocast.h"
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

/// The run's model and data, as its config.json names them; throws naming the file and the key.
RunSpec spec_from_config(const json::Value& config, const std::string& path) {
    RunSpec s;
    std::string key;
    try {
        s.model = config.at(key = "model").as_string();
        require_known_model(s.model, "model");
        s.data = config.at(key = "data").as_string();
        if (const json::Value* d = config.find(key = "data_dir")) s.data_dir = d->as_string();
        s.hidden.clear();
        const std::string hidden = config.at(key = "hidden").as_string();
        for (std::size_t at = 0; at < hidden.size();) {
            const std::size_t comma = hidden.find(',', at);
            std::size_t used = 0;
            const std::string item = hidden.substr(at, comma - at);
            const long long width = item.empty() ? 0 : std::stoll(item, &used);
            if (item.empty() || used != item.size() || width < 1) throw std::invalid_argument("'" + item + "' is not a width >= 1");
            s.hidden.push_back(width);
            at = comma == std::string::npos ? hidden.size() : comma + 1;
        }
        if (const json::Value* f = config.find(key = "interpolation")) s.interpolation = parse_filter(f->as_string(), "interpolation");
        if (const json::Value* a = config.find(key = "amp"); a && !a->as_string().empty())
            s.amp = parse_autocast_dtype("amp", a->as_string());
    } catch (const std::exception& e) {
        throw std::runtime_error(path + ": " + key + ": " + e.what() + " (a config.json written by `bplab train`?)");
    }
    return s;
}

/// Refuses test data that is not the run's: another class count, other folder class names, another test set size.
void require_same_data(const json::Value& config, const TrainTest& data, const std::string& dir, const std::string& config_path) {
    const std::int64_t classes = data.train.files ? static_cast<std::int64_t>(data.train.files->classes().size()) : 10;
    const auto number = [&](const char* key) -> std::optional<std::int64_t> {
        const json::Value* v = config.find(key);
        if (!v) return std::nullopt;
        if (!v->is_integer()) throw std::runtime_error(config_path + ": " + key + " is not a whole number");
        return v->as_int();
    };
    if (const auto c = number("classes"); c && *c != classes)
        throw std::invalid_argument("--data-dir " + dir + ": " + std::to_string(classes) + " classes, but the run in " + config_path +
                                    " has " + std::to_string(*c) + " (another dataset?)");
    if (const json::Value* d = config.find("class_names");
        d && data.train.files && d->is_string() && !d->as_string().empty() && d->as_string() != class_names_digest(data))
        throw std::invalid_argument("--data-dir " + dir + ": the class folders of " + data.train.files->root() +
                                    " are named otherwise than the run's (class_names in " + config_path + "): labels would not match");
    if (const auto n = number("test_examples"); n && *n != data.test.size())
        throw std::invalid_argument("--data-dir " + dir + ": a test set of " + std::to_string(data.test.size()) + " examples, but the run's had " +
                                    std::to_string(*n) + " (test_examples in " + config_path + "): another dataset?");
}

}  // namespace

int eval_command(int argc, char** argv) {
    Flags flags("bplab eval",
                "Evaluates a run's checkpoint on its test set (val/ for image folders) with the evaluation transform:\n"
                "loss, top-1 and top-5 accuracy, with the model's weights and with the EMA's if the run kept them.\n"
                "The model and data come from <run>/config.json, the data folder too unless --data-dir gives another;\n"
                "a run trained with --amp bf16 is evaluated with it too.");
    flags.add("run", "", "the folder of a `bplab train` run (config.json, checkpoint.safetensors)")
        .add("checkpoint", "", "the checkpoint to evaluate (default: <run>/checkpoint.safetensors)")
        .add("data-dir", "", "the dataset's folder (default: the run's, as its config.json records it)")
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
    const RunSpec spec = spec_from_config(config, config_path);
    const NamedTensors file = load_safetensors(checkpoint);
    require_checkpoint_of(file.metadata, {{"model", spec.model}, {"data", spec.data}}, checkpoint, "--checkpoint");
    const std::string data_dir = flags.str("data-dir").empty() ? spec.data_dir : flags.str("data-dir");  // the run's by default
    const TrainTest data = load_dataset(spec.data, data_dir, spec.model, spec.interpolation);
    require_same_data(config, data, data_dir.empty() ? "(the default)" : data_dir, config_path);
    const auto model = build_model(spec, data);
    model->to(device);
    BatchTransform fit;
    if (const AugmentOptions o = in_memory_image_options(spec, data); o.size > 0)
        fit = [o](const Tensor& x) { return fit_images(x, o.size, o.fill); };
    ProgressBar bar(!flags.on("no-progress"));
    const auto run = [&](const char* name, const NamedTensors& weights) {
        model->load_parameters(weights.tensors, checkpoint);
        const AutocastGuard autocast(spec.amp);  // evaluated as the run evaluated it
        const EvalResult r = evaluate(*model, data.test, batch, fit, [&](std::int64_t done, std::int64_t total) {
            bar.update(std::string("eval ") + name, done, total, std::nan(""));
        });
        bar.clear();
        return r;
    };
    std::vector<std::pair<std::string, EvalResult>> results{{"model", run("model", model_weights(file))}};
    if (const NamedTensors ema = ema_weights(file); !ema.tensors.empty()) results.emplace_back("ema", run("ema", ema));
    // Where the checkpoint stands in its run (a plain weights file, such as `bplab grads` writes, has no place).
    const bool trained = file.metadata.count("format") && file.metadata.at("format") == "bplab-checkpoint";
    const auto meta_int = [&](const char* key) -> long long {
        try {
            return file.metadata.count(key) ? std::stoll(file.metadata.at(key)) : 0;
        } catch (const std::exception&) {
            throw std::runtime_error(checkpoint + ": metadata " + key + " '" + file.metadata.at(key) + "' is not a number");
        }
    };
    const std::int64_t epoch = meta_int("epoch"), step = meta_int("epoch_step");
    if (flags.on("json")) {
        json::Object line{{"checkpoint", checkpoint},
                          {"epoch", trained ? json::Value(epoch) : json::Value(nullptr)},
                          {"epoch_step", trained ? json::Value(step) : json::Value(nullptr)},
                          {"examples", data.test.size()}};
        for (const auto& [name, r] : results)
            line.emplace_back(name, json::Object{{"loss", r.loss}, {"top1", r.accuracy}, {"top5", r.top5}});
        std::printf("%s\n", json::dump(line).c_str());
        return 0;
    }
    const std::string where = trained ? run_position(epoch, step) : "a weights file";
    std::printf("bplab eval: %s on %s (%lld examples), %s (%s)%s\n", spec.model.c_str(), data.test.name.c_str(),
                static_cast<long long>(data.test.size()), checkpoint.c_str(), where.c_str(),
                spec.amp ? ", bf16 autocast as the run" : "");
    std::printf("%-8s %10s %8s %8s\n", "weights", "loss", "top-1", "top-5");
    for (const auto& [name, r] : results) std::printf("%-8s %10.5f %8.4f %8.4f\n", name.c_str(), r.loss, r.accuracy, r.top5);
    return 0;
}

}  // namespace bplab::cli
