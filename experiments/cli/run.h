// experiments/cli/run.h — one training run as a value: what to train, how, and where to write it.
// `bplab train` runs one; `bplab compare` runs a grid of them on the same data and prints a table.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/data/idx_dataset.h"
#include "core/data/rand_augment.h"
#include "core/data/resize.h"
#include "core/train/trainer.h"
#include "experiments/cli/flags.h"

namespace bplab::cli {

struct RunSpec {
    std::string model = "mlp", data = "mnist", method = "backprop";
    std::string data_dir;  ///< absolute, as --data-dir gave it (empty: the IDX set's default folder)
    std::vector<std::int64_t> hidden = {256};  ///< MLP only
    std::string optimizer = "sgd";              ///< sgd | adamw
    Device device = Device::cpu();
    bool tf32 = false;  ///< cuda: f32 matrix products on TF32 tensor cores
    std::optional<DType> amp;  ///< bf16: mixed precision (core/autocast.h: linear layers, convolutions, attention, GELU); none: f32
    double lr = 0.1, momentum = 0.0, weight_decay = 0.0;
    bool nesterov = false;
    std::string schedule = "constant";  ///< constant | cosine
    double warmup_epochs = 0.0, min_lr = 0.0;
    double clip = 0.0, ema = 0.0, label_smoothing = 0.0, drop_path = 0.0;
    bool recompute = false;  ///< ViT/ConvNeXt: LayerNorm and GELU outputs recomputed in backward, not saved
    bool augment = false;  ///< image models: random crop (padding 2; folders: RandomResizedCrop) and flip
    double mixup = 0.0, cutmix = 0.0;  ///< Mixup's and CutMix's Beta α (0: off), image models
    double random_erase = 0.0;         ///< RandomErasing's probability (0: off), image folders with augment
    std::optional<RandAugment> rand_augment;  ///< timm's RandAugment (none: off), image folders with augment
    Filter interpolation = Filter::bilinear;  ///< image folders: the resize filter (and RandAugment's)
    std::int64_t grad_norms_every = 0;  ///< log every weight gradient's L2 norm every N steps (0: off)
    sbp::SbpConfig sbp;    ///< Stochastic Backpropagation (keep = 1: off)
    std::int64_t batch = 128;
    int epochs = 5;
    std::uint64_t seed = 2525;
    std::string out;       ///< folder for config.json, metrics.jsonl, checkpoint.safetensors
    bool resume = false;   ///< continue from <out>/checkpoint.safetensors
    bool overwrite = false;  ///< without resume: replace a run already in <out> (else that is an error)
    std::int64_t checkpoint_every = 0;  ///< also checkpoint inside epochs every N steps (0: epochs' ends only)
    bool progress = true;  ///< progress bar on a terminal
    bool print_epochs = true;
};

/// Declares the --sbp-* flags (train, compare, mem, grads, grad-sim) and reads them into a config.
void add_sbp_flags(Flags& flags, const std::string& default_keep);
sbp::SbpConfig sbp_config_from(const Flags& flags);

/// Declares the flags shared by train and compare (model, data, recipe, seed, threads).
void add_run_flags(Flags& flags);
/// Throws "<what> <name>: expected one of mlp, vit-tiny, ..." for a name that is no model of bplab's.
void require_known_model(const std::string& name, const std::string& what);
/// Reads them into a spec (method, lr and out are the caller's).
RunSpec run_spec_from(const Flags& flags);
/// Refuses a new run's settings that would change nothing (--warmup or --min-lr without the cosine schedule,
/// --momentum or --nesterov with AdamW) or do harm (a learning rate below 0 or below --min-lr). Not asked of a
/// resumed run, whose settings are its saved ones.
void require_meaningful(const RunSpec& spec, const std::vector<double>& lrs);
/// Loads the dataset named by --data / --data-dir, shaped for the model (flat for the MLP).
TrainTest load_data(const Flags& flags);
/// The same from values: `name` mnist, fashion-mnist or folder; `data_dir` empty for an IDX set's default
/// folder; `train_size` 0 for all. Throws naming the flag when a value does not fit the data.
TrainTest load_dataset(const std::string& name, const std::string& data_dir, const std::string& model, Filter filter,
                       std::int64_t train_size = 0);
/// The run's model, freshly initialised from its seed, for the data's classes and channels.
std::unique_ptr<Model> build_model(const RunSpec& spec, const TrainTest& data);
/// In-memory image data (IDX) for an image model: how its images are fitted to the model's size (and, with
/// --augment, cropped); size 0 for the MLP and for image folders, which are made at the model's size.
AugmentOptions in_memory_image_options(const RunSpec& spec, const TrainTest& data);
/// A folder dataset's class names, which fix its labels, as a 64-bit FNV-1a digest (hex): a run resumed or
/// evaluated on renamed or other classes of the same count is refused. Empty for the IDX sets (digits).
std::string class_names_digest(const TrainTest& data);

/// Where a checkpoint stands in its run: "after epoch 3", or "inside epoch 4, after step 120" (epoch: epochs
/// completed; epoch_step: steps of the next one done).
std::string run_position(std::int64_t epoch, std::int64_t epoch_step);
/// Throws, starting with `flag`, when the checkpoint's metadata name another value for one of `expected`'s keys
/// (method, model, data): a checkpoint copied from another run.
void require_checkpoint_of(const std::map<std::string, std::string>& metadata,
                           const std::vector<std::pair<std::string, std::string>>& expected, const std::string& checkpoint,
                           const std::string& flag);

struct RunResult {
    std::vector<EpochMetrics> epochs;  ///< those trained by this call
    bool stopped = false;              ///< by SIGINT or SIGTERM, before the last epoch ended
};
/// Trains one run, writing <out>/config.json, <out>/metrics.jsonl and <out>/checkpoint.safetensors
/// (replaced atomically after every epoch, every checkpoint_every steps, and where SIGINT or SIGTERM stops the
/// run, if catch_stop_signals was called; with resume, continued from it).
RunResult run_training(const RunSpec& spec, const TrainTest& data);

}  // namespace bplab::cli
