// core/train/trainer.h — the epoch loop: seeded batches, augmentation, a method's steps, schedule,
// EMA, evaluation, metrics, and checkpoints that resume bit-identically.
#pragma once
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/data/augment.h"
#include "core/data/image_folder.h"
#include "core/data/mix.h"
#include "core/data/idx_dataset.h"
#include "core/io/safetensors.h"
#include "core/optim/schedule.h"
#include "core/train/evaluate.h"
#include "core/train/method.h"

namespace bplab {

struct EpochMetrics {
    int epoch = 0;
    double train_loss = 0.0;  ///< mean of the batch losses seen during the epoch
    double test_loss = 0.0;
    double test_accuracy = 0.0;  ///< top-1
    double test_top5 = 0.0;
    double ema_test_accuracy = -1.0;  ///< with the EMA weights; −1 without EMA
    double ema_test_top5 = -1.0;
    double model_norm = 0.0;
    double lr = 0.0;          ///< at the epoch's last step
    double seconds = 0.0;     ///< training time of the epoch (evaluation excluded)
    double data_seconds = 0.0;  ///< of `seconds`, the time spent waiting for batches (made, or decoded ahead, and uploaded)
};

struct FitOptions {
    int epochs = 5;
    std::int64_t batch_size = 128;
    bool drop_last = true;
    std::uint64_t seed = 2525;
    double label_smoothing = 0.0;
    /// Cosine schedule with linear warm-up from the optimiser's lr at construction; off keeps it constant.
    bool cosine = false;
    std::int64_t warmup_steps = 0;
    double min_lr = 0.0;
    double ema_decay = 0.0;  ///< 0: no EMA
    /// bf16: mixed precision (core/autocast.h: linear layers, convolutions, attention, GELU), in training and evaluation alike.
    std::optional<DType> autocast;
    /// Images (B, H, W, C) in memory: the training transform; eval batches are only fit to augment.size.
    /// Image folders: RandomResizedCrop and flip (augment_options are not used); without it, the centre crop.
    bool augment = false;
    AugmentOptions augment_options;
    /// Image folders with augment: timm's RandAugment and RandomErasing, per image after the crop.
    TrainAugment folder_augment;
    /// Mixup / CutMix of each training batch (images), after augmentation, drawn from the augmentation's Rng.
    MixOptions mix;
    /// Image folders: decode batch i + 1 on a host thread during step i (default: when the model is on a GPU).
    std::optional<bool> decode_ahead;
    std::int64_t eval_batch = 500;
    /// After every step: (epoch, step index, steps in the epoch, loss of the step).
    std::function<void(int, std::int64_t, std::int64_t, double)> on_step;
    /// During evaluation, after each test batch: (batches done, batches in all).
    BatchProgress on_eval_batch;
    /// After every epoch's evaluation; return false to stop.
    std::function<bool(const EpochMetrics&)> on_epoch;
    /// Asked after every step: true stops the run there, after on_checkpoint.
    std::function<bool()> stop_requested;
    /// Called every checkpoint_every steps (counted over the run; 0: never), at every epoch's last step before
    /// its evaluation (a resumed run then evaluates first), and where a stop is asked: the trainer's state can
    /// be saved there (save_checkpoint) and resumed at that step, bit for bit.
    std::int64_t checkpoint_every = 0;
    std::function<void()> on_checkpoint;
};

class Trainer {
public:
    Trainer(Model& model, Optimizer& optimizer, const TrainTest& data, StepFn step, FitOptions options);
    /// Trains from where it stands (the start, or a checkpoint's epoch and step) up to options.epochs, or until
    /// stop_requested. Throws if a loss turns NaN or infinite (naming the epoch and step); nothing is written
    /// then, so the last checkpoint stays good.
    std::vector<EpochMetrics> run();
    /// Epochs completed, and steps of the next one done (0 at an epoch's end).
    int epoch() const { return epoch_; }
    std::int64_t epoch_step() const { return epoch_step_; }
    std::int64_t global_step() const { return global_step_; }
    /// Whether the last run() ended at stop_requested rather than after options.epochs.
    bool stopped() const { return stopped_; }

    /// Writes model, optimiser, EMA and every generator's state, atomically (safetensors): at an epoch's end, or
    /// inside one (from on_checkpoint), with the epoch's progress.
    void save_checkpoint(const std::string& path, const std::map<std::string, std::string>& metadata = {}) const;
    /// Restores a checkpoint written by save_checkpoint; the next run() continues after its epoch and step.
    /// Returns the checkpoint's metadata (what the caller passed to save_checkpoint, and the epoch).
    std::map<std::string, std::string> load_checkpoint(const std::string& path);

private:
    /// Batches per epoch (a last partial one counted unless options.drop_last).
    std::int64_t steps_per_epoch() const;
    EvalResult evaluate_with(const std::vector<std::pair<std::string, Tensor>>* weights);
    /// Starts making the training batch of `idx`; get() gives it on the model's device. In memory: deferred to
    /// get(), where its rows are gathered on the CPU, uploaded at the dataset's size, then augmented (or fitted)
    /// there. From files: decoded at get(), or on a host thread at once with options.decode_ahead (run() starts
    /// batch i + 1 before step i), with crop seeds drawn here, in batch order, so that both draw the same.
    std::future<Batch> start_batch(const Tensor& idx);

    Model& model_;
    Optimizer& optimizer_;
    const TrainTest& data_;
    StepFn step_;
    FitOptions options_;
    double base_lr_;
    Rng batch_rng_, augment_rng_;
    std::unique_ptr<Ema> ema_;
    int epoch_ = 0;
    std::int64_t global_step_ = 0;
    // Inside an epoch: steps done and their summed loss; the batch generator as the epoch began (its order is
    // drawn again on resume), and the augmentation generator before the next batch was started (run() starts
    // batch i + 1, drawing from it, before step i).
    std::int64_t epoch_step_ = 0;
    double epoch_loss_sum_ = 0.0;
    Rng epoch_batch_rng_, resume_augment_rng_;
    bool stopped_ = false;
};

/// The model weights a file holds: the `model.` entries of a checkpoint written by save_checkpoint, without
/// that prefix, or every tensor of any other file (weights saved by name, as `bplab step` and `grads` take them).
NamedTensors model_weights(NamedTensors file);
/// A checkpoint's EMA weights: its `ema.` entries without that prefix (none when the run kept no EMA).
NamedTensors ema_weights(const NamedTensors& checkpoint);

/// Convenience: a Trainer run from scratch.
std::vector<EpochMetrics> fit(Model& model, Optimizer& optimizer, const TrainTest& data, const StepFn& step,
                              const FitOptions& options);

}  // namespace bplab
