// experiments/cli/run.cpp — one training run: model, optimiser, recipe, metrics file, checkpoints.
// The checkpoint is replaced atomically after every epoch, so a crash never loses the last one.
#include "experiments/cli/run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "core/data/folder_dataset.h"
#include "core/io/json.h"
#include "core/ops.h"
#include "core/optim/adamw.h"
#include "core/optim/sgd.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/interrupt.h"
#include "experiments/cli/progress.h"
#include "models/mlp.h"
#include "models/registry.h"

namespace bplab::cli {
namespace {

std::string join(const std::vector<std::int64_t>& v) {
    std::string s;
    for (auto x : v) {  // appended piecewise: GCC 12 misreads `"," + std::to_string(x)` as an overlapping copy
        if (!s.empty()) s += ',';
        s += std::to_string(x);
    }
    return s;
}

std::unique_ptr<Optimizer> build_optimizer(const RunSpec& s, const Model& model) {
    std::unique_ptr<Optimizer> o;
    if (s.optimizer == "sgd")
        o = std::make_unique<Sgd>(model.parameters(), SgdOptions{.lr = s.lr, .momentum = s.momentum, .weight_decay = s.weight_decay,
                                                                 .nesterov = s.nesterov});
    else if (s.optimizer == "adamw")
        o = std::make_unique<AdamW>(model.parameters(), weight_decay_mask(model.named_parameters()),
                                    AdamWOptions{.lr = s.lr, .weight_decay = s.weight_decay});
    else
        throw std::invalid_argument("--optimizer " + s.optimizer + ": expected sgd or adamw");
    o->set_max_grad_norm(s.clip);
    return o;
}

/// The L2 norm of every weight's gradient (tensors of rank >= 2, as in the paper's Figs. 9-10) after a step.
json::Object weight_grad_norms(const Model& model, std::int64_t step, int epoch, double loss) {
    json::Object norms;
    for (const auto& [name, p] : model.named_parameters())
        if (p.dim() >= 2 && p.grad().defined()) norms.emplace_back(name, l2_norm(p.grad()));
    return {{"step", step}, {"epoch", epoch}, {"loss", loss}, {"grad_norms", json::Value(std::move(norms))}};
}

json::Object config_json(const RunSpec& s, const Model& model, const TrainTest& data) {
    return {{"model", s.model},
            {"hidden", join(s.hidden)},
            {"data", s.data},
            {"data_dir", s.data_dir},
            {"classes", data.train.files ? static_cast<std::int64_t>(data.train.files->classes().size()) : std::int64_t{10}},
            {"class_names", class_names_digest(data)},
            {"method", s.method},
            {"optimizer", s.optimizer},
            {"device", s.device.str()},
            {"tf32", s.tf32},
            {"amp", s.amp ? "bf16" : ""},
            {"lr", s.lr},
            {"momentum", s.momentum},
            {"nesterov", s.nesterov},
            {"weight_decay", s.weight_decay},
            {"schedule", s.schedule},
            {"warmup_epochs", s.warmup_epochs},
            {"min_lr", s.min_lr},
            {"clip", s.clip},
            {"ema", s.ema},
            {"label_smoothing", s.label_smoothing},
            {"drop_path", s.drop_path},
            {"recompute", s.recompute},
            {"augment", s.augment},
            {"mixup", s.mixup},
            {"cutmix", s.cutmix},
            {"random_erase", s.random_erase},
            {"rand_augment", s.rand_augment ? s.rand_augment->spec : ""},
            {"interpolation", filter_name(s.interpolation)},
            {"grad_norms_every", s.grad_norms_every},
            {"sbp_keep", s.sbp.keep},
            {"sbp_mask", sbp::to_string(s.sbp.mask)},
            {"sbp_blocks", s.sbp.blocks},
            {"sbp_schedule", sbp::ratio_schedule_name(s.sbp.schedule)},
            {"sbp_attn", sbp::attn_mode_name(s.sbp.attn)},
            {"sbp_independent", s.sbp.independent},
            {"sbp_split_proj", s.sbp.split_proj},
            {"batch", s.batch},
            {"epochs", s.epochs},
            {"seed", static_cast<std::int64_t>(s.seed)},
            {"parameters", model.parameter_count()},
            {"train_examples", data.train.size()},
            {"test_examples", data.test.size()}};
}

/// Throws unless `path` (a run's config.json) was written with the same settings as `now`. Only the device and
/// the gradient-norm logging may change when a run is resumed, and the epochs under a constant schedule (the
/// cosine one spans the epochs of the run). A key that runs made before it existed lack must be at `defaults`.
void require_same_run(const std::string& path, const json::Object& now, const json::Object& defaults, bool cosine) {
    std::ifstream in(path, std::ios::binary);
    if (!in || !std::filesystem::is_regular_file(path))
        throw std::runtime_error("--resume: " + path + " cannot be read (the run's settings are checked against it)");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const json::Value saved = json::parse(text, path);
    if (!saved.is_object()) throw std::runtime_error("--resume: " + path + " is not a JSON object of the run's settings");
    std::string changed;
    for (std::size_t i = 0; i < now.size(); ++i) {
        const auto& [key, value] = now[i];
        if (key == "device" || key == "tf32" || key == "data_dir" || key == "grad_norms_every" || (key == "epochs" && !cosine)) continue;
        const json::Value* was = saved.find(key);
        const std::string before = json::dump(was ? *was : defaults[i].second), after = json::dump(value);
        if (before != after)
            changed += (changed.empty() ? "" : ", ") + key + " " + (was ? before : "absent (so " + before + ")") + " -> " + after;
    }
    if (!changed.empty())
        throw std::invalid_argument("--resume: these settings differ from the run in " + path + ": " + changed +
                                    " (give the run's flags and data; only --device, --tf32, --data-dir and --grad-norms-every may change, and "
                                    "--epochs with a constant schedule)");
}

/// Keeps the lines of a JSONL log whose `field` is at most `last` (a resumed run rewrites what came after its
/// checkpoint), and drops a line cut short by a crash; returns how many lines it kept (0 without a file).
std::int64_t trim_jsonl(const std::string& path, const char* field, std::int64_t last) {
    std::ifstream in(path);
    if (!in) return 0;
    std::string kept, line;
    std::int64_t count = 0;
    while (std::getline(in, line)) {
        try {
            if (json::parse(line, path).at(field).as_int() <= last) kept += line + "\n", ++count;
        } catch (const std::runtime_error&) {  // not a whole line
        }
    }
    write_text_atomic(path, kept);
    return count;
}

/// `<file of a run>.tmp.<pid>`: what write_text_atomic and save_safetensors leave when killed before their rename.
bool is_run_temp_file(const std::string& name) {
    for (const std::string base : {"checkpoint.safetensors", "config.json", "metrics.jsonl", "grad_norms.jsonl"}) {
        const std::string prefix = base + ".tmp.";
        if (name.size() > prefix.size() && name.rfind(prefix, 0) == 0 &&
            name.find_first_not_of("0123456789", prefix.size()) == std::string::npos)
            return true;
    }
    return false;
}

}  // namespace

std::unique_ptr<Model> build_model(const RunSpec& s, const TrainTest& data) {
    if (s.model == "mlp") {
        MlpConfig c;
        c.hidden = s.hidden;
        c.seed = s.seed;
        return std::make_unique<Mlp>(c);
    }
    const auto& files = data.train.files;  // RGB folders of any number of classes, or the 10 grey IDX classes
    return make_model(s.model, {.classes = files ? static_cast<std::int64_t>(files->classes().size()) : 10,
                                .in_channels = files ? 3 : 1, .drop_path = s.drop_path, .recompute = s.recompute, .seed = s.seed});
}

std::string class_names_digest(const TrainTest& data) {
    if (!data.train.files) return "";
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const auto& name : data.train.files->classes())
        for (const char ch : name + '\n') h = (h ^ static_cast<unsigned char>(ch)) * 0x100000001b3ULL;
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
    return text;
}

std::string run_position(std::int64_t epoch, std::int64_t epoch_step) {
    if (epoch_step == 0) return "after epoch " + std::to_string(epoch);
    return "inside epoch " + std::to_string(epoch + 1) + ", after step " + std::to_string(epoch_step);
}

void require_checkpoint_of(const std::map<std::string, std::string>& metadata,
                           const std::vector<std::pair<std::string, std::string>>& expected, const std::string& checkpoint,
                           const std::string& flag) {
    for (const auto& [key, mine] : expected)
        if (const auto found = metadata.find(key); found != metadata.end() && found->second != mine)
            throw std::invalid_argument(flag + ": " + checkpoint + " was written by a run with " + key + " " + found->second + ", not " +
                                        mine + " (a checkpoint copied from another run?)");
}

void add_run_flags(Flags& flags) {
    std::string models = "mlp";
    for (const auto& n : model_names()) models += " | " + n;
    flags.add("model", "mlp", "model: " + models)
        .add("hidden", "256", "MLP hidden sizes, comma-separated (e.g. 100,100,100)")
        .add("data", "mnist", "dataset: mnist | fashion-mnist | folder (JPEG/PNG class folders in ImageNet's layout)")
        .add("data-dir", "", "folder with the IDX files (default: data/mnist, /usr/share/datasets/fashion-mnist); for "
                             "--data folder, the one holding train/<class>/*.JPEG and val/<class>/*.JPEG")
        .add("batch", "128", "minibatch size (the last incomplete batch is dropped)")
        .add("epochs", "5", "number of epochs")
        .add("seed", "2525", "seed for the weights, the batch order, augmentation and drop path")
        .add("optimizer", "sgd", "sgd | adamw")
        .add("momentum", "0", "SGD momentum (0: plain SGD)")
        .add("weight-decay", "0", "weight decay (SGD: coupled; AdamW: decoupled, not on norms/biases/tokens)")
        .add_switch("nesterov", "Nesterov momentum (SGD)")
        .add("schedule", "constant", "learning-rate schedule: constant | cosine (with linear warm-up)")
        .add("warmup", "0", "warm-up epochs for the cosine schedule")
        .add("min-lr", "0", "final learning rate of the cosine schedule")
        .add("clip", "0", "clip gradients to this global L2 norm (0: off)")
        .add("ema", "0", "decay of an exponential moving average of the weights, evaluated too (0: off)")
        .add("label-smoothing", "0", "label smoothing of the cross-entropy")
        .add("drop-path", "0", "stochastic depth rate of the last block (ViT/ConvNeXt)")
        .add_switch("augment", "random crop (padding 2; folders: RandomResizedCrop) and horizontal flip (image models)")
        .add("mixup", "0", "Mixup: each batch mixed with its mirror, lambda ~ Beta(a, a) (0: off; the SBP paper's recipe: 0.8)")
        .add("cutmix", "0", "CutMix: a box of the mirror image pasted, lambda ~ Beta(a, a) (0: off; recipe: 1.0); with "
                            "--mixup, one of the two per batch")
        .add("random-erase", "0", "--data folder with --augment: probability of erasing a random box of each training "
                                  "image with noise, as timm's RandomErasing (0: off; the recipe: 0.25)")
        .add("rand-augment", "", "--data folder with --augment: timm's RandAugment spec, its pixels Pillow's (off when empty; "
                                 "the recipe: rand-m9-mstd0.5-inc1)")
        .add("interpolation", "bilinear", "--data folder: the resize filter of crops and evaluation, and of RandAugment's "
                                          "rotations, shears and translations: bilinear (torchvision's) | bicubic (the recipe's)")
        .add("train-size", "0", "train on the first N training examples only (0: all), for short studies")
        .add("grad-norms-every", "0", "every N steps, append each weight gradient's L2 norm to <out>/grad_norms.jsonl (0: off)")
        .add("device", "cpu", "device: cpu | cuda | cuda:N (cuda needs a build with CUDA and a GPU)")
        .add_switch("no-progress", "no progress bar (it is drawn only on a terminal anyway)");
    add_sbp_flags(flags, "1");
    add_recompute_flag(flags);
    add_tf32_flag(flags);
    add_amp_flag(flags);
    add_thread_flag(flags);
}

void add_sbp_flags(Flags& flags, const std::string& default_keep) {
    flags.add("sbp-keep", default_keep, "SBP keep ratio r in (0, 1]; 1 = plain backprop")
        .add("sbp-mask", "grid", "SBP mask: grid | random | fixed")
        .add("sbp-blocks", "", "SBP blocks: all, none, first:N, last:N, I, I-J, sK/... per stage (default: the paper's)")
        .add("sbp-schedule", "uniform", "keep ratio over the SBP blocks: uniform | increasing | decreasing (same mean)")
        .add_switch("sbp-independent", "one mask per SBP block instead of one shared mask")
        .add("sbp-attn", "qkv", "ViT attention under SBP: qkv | qkv-exact | query | head")
        .add_switch("sbp-split-proj", "also split attention's output projection (changes dW_proj)");
}

sbp::SbpConfig sbp_config_from(const Flags& flags) {
    return sbp::make_config(flags.real("sbp-keep"), flags.str("sbp-mask"), flags.str("sbp-blocks"), flags.str("sbp-schedule"),
                            flags.on("sbp-independent"), flags.str("sbp-attn"), flags.on("sbp-split-proj"));
}

void require_known_model(const std::string& name, const std::string& what) {
    if (const auto& names = model_names(); name != "mlp" && std::find(names.begin(), names.end(), name) == names.end()) {
        std::string valid = "mlp";
        for (const auto& n : names) valid += ", " + n;
        throw std::invalid_argument(what + " " + name + ": expected one of " + valid);
    }
}

RunSpec run_spec_from(const Flags& flags) {
    RunSpec s;
    s.device = use_device(flags.str("device"));
    s.tf32 = flags.on("tf32");
    use_tf32(s.device, s.tf32);
    s.amp = amp_from(flags);
    s.model = flags.str("model");
    require_known_model(s.model, "--model");
    s.data = flags.str("data");
    const std::string dir = flags.str("data-dir").empty() && s.data != "folder" ? default_data_dir(s.data) : flags.str("data-dir");
    if (!dir.empty()) s.data_dir = std::filesystem::absolute(dir).lexically_normal().string();  // eval finds the data from anywhere
    if (s.data != "folder") {
        try {
            idx_dataset_spec(s.data);
        } catch (const std::invalid_argument&) {
            throw std::invalid_argument("--data " + s.data + ": expected mnist, fashion-mnist or folder");
        }
    }
    if (s.data == "folder" && s.model == "mlp")
        throw std::invalid_argument("--data folder: for the image models (ViT, ConvNeXt); the MLP takes 28x28 grey digits");
    s.hidden = flags.integers("hidden");
    s.batch = flags.integer("batch");
    if (s.batch < 1) throw std::invalid_argument("--batch " + flags.str("batch") + ": expected >= 1");
    const std::int64_t epochs = flags.integer("epochs");
    if (epochs < 1 || epochs > 100000) throw std::invalid_argument("--epochs " + flags.str("epochs") + ": expected 1..100000");
    s.epochs = static_cast<int>(epochs);
    s.seed = static_cast<std::uint64_t>(flags.integer("seed"));
    s.optimizer = flags.str("optimizer");
    s.momentum = flags.real("momentum");
    s.weight_decay = flags.real("weight-decay");
    s.nesterov = flags.on("nesterov");
    s.schedule = flags.str("schedule");
    if (s.schedule != "constant" && s.schedule != "cosine")
        throw std::invalid_argument("--schedule " + s.schedule + ": expected constant or cosine");
    s.warmup_epochs = flags.real("warmup");
    s.min_lr = flags.real("min-lr");
    s.clip = flags.real("clip");
    for (const char* name : {"weight-decay", "warmup", "min-lr", "clip"})
        if (flags.real(name) < 0) throw std::invalid_argument("--" + std::string(name) + " " + flags.str(name) + ": expected >= 0");
    if (s.warmup_epochs > s.epochs)
        throw std::invalid_argument("--warmup " + flags.str("warmup") + ": expected at most --epochs (" + std::to_string(s.epochs) + ")");
    s.ema = flags.real("ema");
    if (s.ema < 0 || s.ema >= 1)
        throw std::invalid_argument("--ema " + flags.str("ema") + ": expected 0 (off) or a decay in (0, 1)");
    s.label_smoothing = flags.real("label-smoothing");
    s.drop_path = flags.real("drop-path");
    if (s.drop_path < 0 || s.drop_path >= 1)
        throw std::invalid_argument("--drop-path " + flags.str("drop-path") + ": expected 0 <= rate < 1");
    s.mixup = flags.real("mixup");
    s.cutmix = flags.real("cutmix");
    for (const char* name : {"mixup", "cutmix"})
        if (flags.real(name) < 0) throw std::invalid_argument("--" + std::string(name) + " " + flags.str(name) + ": expected >= 0");
    if (s.model == "mlp")
        for (const auto& [name, used] : {std::pair<const char*, bool>{"drop-path", s.drop_path > 0}, {"augment", flags.on("augment")},
                                         {"mixup", s.mixup > 0}, {"cutmix", s.cutmix > 0}})
            if (used)
                throw std::invalid_argument("--" + std::string(name) +
                                            ": for the image models (ViT, ConvNeXt); the MLP has no blocks and takes flat images");
    s.recompute = flags.on("recompute");
    if (s.recompute && s.model == "mlp")
        throw std::invalid_argument("--recompute: it recomputes the LayerNorm and GELU outputs of ViT and ConvNeXt blocks; the MLP has none");
    s.augment = flags.on("augment");
    s.random_erase = flags.real("random-erase");
    if (s.random_erase < 0 || s.random_erase > 1)
        throw std::invalid_argument("--random-erase " + flags.str("random-erase") + ": expected a probability in [0, 1]");
    if (s.random_erase > 0 && (s.data != "folder" || !s.augment))
        throw std::invalid_argument("--random-erase " + flags.str("random-erase") +
                                    ": for --data folder with --augment (it follows RandomResizedCrop, per image)");
    if (const std::string spec = flags.str("rand-augment"); !spec.empty()) {
        s.rand_augment = parse_rand_augment(spec, "--rand-augment");
        if (s.data != "folder" || !s.augment)
            throw std::invalid_argument("--rand-augment " + spec + ": for --data folder with --augment (it follows RandomResizedCrop, per image)");
    }
    s.interpolation = parse_filter(flags.str("interpolation"), "--interpolation");
    if (s.interpolation != Filter::bilinear && s.data != "folder")
        throw std::invalid_argument("--interpolation " + flags.str("interpolation") + ": for --data folder (the IDX images are not resized)");
    s.grad_norms_every = flags.integer("grad-norms-every");
    if (s.grad_norms_every < 0)
        throw std::invalid_argument("--grad-norms-every " + flags.str("grad-norms-every") + ": expected >= 0");
    s.sbp = sbp_config_from(flags);
    if (s.sbp.enabled() && s.model == "mlp")
        throw std::invalid_argument("--sbp-keep " + flags.str("sbp-keep") + ": SBP splits ViT and ConvNeXt blocks; the MLP has none");
    s.progress = !flags.on("no-progress");
    return s;
}

TrainTest load_dataset(const std::string& name, const std::string& data_dir, const std::string& model, Filter filter,
                       std::int64_t train_size) {
    if (name == "folder") {
        if (data_dir.empty())
            throw std::invalid_argument("--data folder: give --data-dir, the folder holding train/<class>/*.JPEG and val/<class>/*.JPEG");
        if (train_size != 0)
            throw std::invalid_argument("--train-size " + std::to_string(train_size) + ": not for --data folder (make a smaller folder)");
        return load_image_folders(data_dir, model_image_size(model), filter);
    }
    const std::string dir = data_dir.empty() ? default_data_dir(name) : data_dir;
    TrainTest d = load_idx_dataset(dir, idx_dataset_spec(name));
    if (train_size < 0 || train_size > d.train.size())
        throw std::invalid_argument("--train-size " + std::to_string(train_size) + ": expected 0 (all) to " +
                                    std::to_string(d.train.size()) + " (the examples in " + dir + ")");
    if (train_size > 0) d.train = take(d.train, train_size);
    if (model == "mlp") {
        d.train.x = d.train.x.reshape({d.train.size(), -1});
        d.test.x = d.test.x.reshape({d.test.size(), -1});
    }
    return d;
}

TrainTest load_data(const Flags& flags) {
    return load_dataset(flags.str("data"), flags.str("data-dir"), flags.str("model"), parse_filter(flags.str("interpolation"), "--interpolation"),
                        flags.integer("train-size"));
}

AugmentOptions in_memory_image_options(const RunSpec& spec, const TrainTest& data) {
    if (spec.model == "mlp" || data.train.files) return {};
    const double black = (0.0 - idx_dataset_spec(spec.data).mean) / idx_dataset_spec(spec.data).std;
    return {.size = model_image_size(spec.model), .pad = 2, .flip = true, .fill = black};
}

void require_meaningful(const RunSpec& s, const std::vector<double>& lrs) {
    if (s.schedule != "cosine")
        for (const auto& [name, set] : {std::pair<const char*, bool>{"warmup", s.warmup_epochs > 0}, {"min-lr", s.min_lr > 0}})
            if (set) throw std::invalid_argument("--" + std::string(name) + ": for --schedule cosine (the rate is constant)");
    if (s.optimizer != "sgd")
        for (const auto& [name, set] : {std::pair<const char*, bool>{"momentum", s.momentum > 0}, {"nesterov", s.nesterov}})
            if (set) throw std::invalid_argument("--" + std::string(name) + ": for --optimizer sgd (" + s.optimizer + " keeps its own moments)");
    for (const double lr : lrs) {
        if (lr < 0) throw std::invalid_argument("learning rate " + json::dump(lr) + ": expected >= 0");
        if (s.schedule == "cosine" && s.min_lr > lr)
            throw std::invalid_argument("--min-lr " + json::dump(s.min_lr) + ": above the learning rate " + json::dump(lr) +
                                        " (the cosine schedule decays from the rate to --min-lr)");
    }
}

RunResult run_training(const RunSpec& spec, const TrainTest& data) {
    const StepFn step = step_method(spec.method);
    const auto model = build_model(spec, data);
    model->to(spec.device);  // before the optimiser, whose state follows the parameters
    model->set_sbp(spec.sbp);
    if (spec.print_epochs && spec.sbp.enabled()) std::printf("SBP: %s\n", model->sbp_summary().c_str());
    if (spec.print_epochs && spec.rand_augment) std::printf("RandAugment: %s\n", spec.rand_augment->describe().c_str());
    if (spec.print_epochs && spec.amp)
        std::printf("Mixed precision: the linear layers, convolutions, attention and GELU read their operands "
                    "rounded to bf16, sum in f32 and keep their inputs in bf16\n");
    const auto optimizer = build_optimizer(spec, *model);
    const std::string checkpoint = spec.out + "/checkpoint.safetensors", metrics_path = spec.out + "/metrics.jsonl",
                      grad_norms_path = spec.out + "/grad_norms.jsonl";
    // Before any file of the folder is touched: a run there is continued only as itself, replaced only if asked.
    if (std::filesystem::exists(spec.out) && !std::filesystem::is_directory(spec.out))
        throw std::invalid_argument("--out " + spec.out + ": a file is there (expected a folder for the run, or a new path)");
    const json::Object config = config_json(spec, *model, data);
    if (spec.resume) {
        if (!std::filesystem::exists(checkpoint))
            throw std::runtime_error("--resume: " + checkpoint + " does not exist (nothing to resume)");
        require_same_run(spec.out + "/config.json", config, config_json(RunSpec{}, *model, data), spec.schedule == "cosine");
    } else if (std::filesystem::exists(checkpoint) && !spec.overwrite) {
        throw std::invalid_argument(spec.out + " already holds a run (" + checkpoint +
                                    "): pass --resume to continue it, --overwrite to replace it, or another --out");
    }

    FitOptions options;
    options.epochs = spec.epochs;
    options.batch_size = spec.batch;
    options.seed = spec.seed;
    options.label_smoothing = spec.label_smoothing;
    options.cosine = spec.schedule == "cosine";
    options.warmup_steps = static_cast<std::int64_t>(spec.warmup_epochs * static_cast<double>(data.train.size() / spec.batch));
    options.min_lr = spec.min_lr;
    options.ema_decay = spec.ema;
    options.autocast = spec.amp;
    options.augment = spec.augment;
    options.mix = {.mixup_alpha = spec.mixup, .cutmix_alpha = spec.cutmix, .switch_prob = 0.5};
    options.folder_augment.erase_prob = spec.random_erase;
    options.folder_augment.rand_augment = spec.rand_augment;
    options.augment_options = in_memory_image_options(spec, data);
    ProgressBar bar(spec.progress);
    std::ofstream grad_norms;
    options.on_step = [&](int epoch, std::int64_t i, std::int64_t n, double loss) {
        bar.update(spec.method + " " + spec.model + " epoch " + std::to_string(epoch) + "/" + std::to_string(spec.epochs), i + 1, n, loss);
        const std::int64_t step = (epoch - 1) * n + i + 1;
        if (spec.grad_norms_every > 0 && step % spec.grad_norms_every == 0)
            grad_norms << json::dump(weight_grad_norms(*model, step, epoch, loss)) << '\n' << std::flush;
    };
    options.on_eval_batch = [&](std::int64_t done, std::int64_t total) {
        bar.update(spec.method + " " + spec.model + " evaluating", done, total, std::nan(""));
    };
    std::ofstream metrics;
    std::vector<EpochMetrics> history;
    const Trainer* self = nullptr;
    const std::map<std::string, std::string> checkpoint_meta{{"method", spec.method}, {"model", spec.model}, {"data", spec.data}};
    // Each epoch is printed, logged and checkpointed as soon as it ends.
    options.on_epoch = [&](const EpochMetrics& m) {
        bar.clear();
        if (spec.print_epochs) {
            char ema[16] = "-";
            if (m.ema_test_accuracy >= 0) std::snprintf(ema, sizeof ema, "%.4f", m.ema_test_accuracy);
            std::printf("%5d %11.5f %10.5f %9.4f %9s %11.4f %10.3g %8.2f\n", m.epoch, m.train_loss, m.test_loss,
                        m.test_accuracy, ema, m.model_norm, m.lr, m.seconds);
            std::fflush(stdout);
        }
        json::Object line{{"epoch", m.epoch},            {"method", spec.method},      {"model", spec.model},
                          {"lr", m.lr},                  {"train_loss", m.train_loss}, {"test_loss", m.test_loss},
                          {"test_acc", m.test_accuracy}, {"test_top5", m.test_top5}, {"model_norm", m.model_norm}, {"seconds", m.seconds},
                          {"data_seconds", m.data_seconds}};
        if (m.ema_test_accuracy >= 0) {
            line.emplace_back("ema_test_acc", m.ema_test_accuracy);
            line.emplace_back("ema_test_top5", m.ema_test_top5);
        }
        metrics << json::dump(line) << '\n' << std::flush;
        self->save_checkpoint(checkpoint, checkpoint_meta);
        history.push_back(m);
        return true;
    };
    options.checkpoint_every = spec.checkpoint_every;
    options.on_checkpoint = [&] { self->save_checkpoint(checkpoint, checkpoint_meta); };
    options.stop_requested = [] { return stop_signal() != 0; };
    Trainer trainer(*model, *optimizer, data, step, options);  // refuses a batch larger than the data: no folder yet
    self = &trainer;
    std::filesystem::create_directories(spec.out);
    for (const auto& entry : std::filesystem::directory_iterator(spec.out))  // a killed run's half-written files
        if (is_run_temp_file(entry.path().filename().string())) std::filesystem::remove(entry.path());
    if (spec.resume) {
        require_checkpoint_of(trainer.load_checkpoint(checkpoint), {{"method", spec.method}, {"model", spec.model}, {"data", spec.data}},
                              checkpoint, "--resume");
        if (trainer.epoch() >= spec.epochs)
            throw std::invalid_argument("--epochs " + std::to_string(spec.epochs) + ": the run in " + spec.out +
                                        " has already trained " + std::to_string(trainer.epoch()) +
                                        " epochs (give more to continue it)");
        // Lines written after the checkpoint (a run stopped during an epoch, or before the checkpoint's rename)
        // are written again by the resumed run.
        if (const std::int64_t lines = trim_jsonl(metrics_path, "epoch", trainer.epoch()); lines != trainer.epoch())
            std::fprintf(stderr, "bplab train: warning: %s holds %lld lines for the %d epochs before the checkpoint\n",
                         metrics_path.c_str(), static_cast<long long>(lines), trainer.epoch());
        trim_jsonl(grad_norms_path, "step", trainer.global_step());
        std::printf("resumed from %s %s\n", checkpoint.c_str(), run_position(trainer.epoch(), trainer.epoch_step()).c_str());
    } else {  // a replaced run's files, together with its config below: a failed replacement leaves no old checkpoint
        std::filesystem::remove(grad_norms_path);
        std::filesystem::remove(checkpoint);
    }
    write_text_atomic(spec.out + "/config.json", json::dump(config) + "\n");  // resumed: the epochs and device now
    const auto mode = spec.resume ? std::ios::app : std::ios::trunc;
    metrics.open(metrics_path, mode);
    if (spec.grad_norms_every > 0) {
        grad_norms.open(grad_norms_path, mode);
        if (!grad_norms) throw std::runtime_error(grad_norms_path + ": cannot open for writing");
    }
    if (!metrics) throw std::runtime_error(metrics_path + ": cannot open for writing");
    if (spec.print_epochs)
        std::printf("%5s %11s %10s %9s %9s %11s %10s %8s\n", "epoch", "train_loss", "test_loss", "test_acc", "ema_acc",
                    "model_norm", "lr", "seconds");
    trainer.run();
    if (trainer.stopped()) {
        bar.clear();
        std::printf("stopped by %s %s: %s holds the run there; the same command with --resume (not --overwrite) "
                    "continues it\n", stop_signal_name(stop_signal()), run_position(trainer.epoch(), trainer.epoch_step()).c_str(), checkpoint.c_str());
        std::fflush(stdout);
    }
    return {history, trainer.stopped()};
}

}  // namespace bplab::cli
