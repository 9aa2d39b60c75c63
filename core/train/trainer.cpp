// core/train/trainer.cpp — the epoch loop and its checkpoints.
// Batch order, augmentation and model noise each have their own Rng, saved with the weights, so
// methods see identical batches and a resumed run draws exactly what an uninterrupted one would.
#include "core/train/trainer.h"

#include <chrono>
#include <cmath>
#include <stdexcept>

#include "backends/backend.h"
#include "core/autocast.h"
#include "core/io/safetensors.h"
#include "core/ops.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace bplab {
namespace {

/// The calling thread's OpenMP team size (--threads), which a decoding thread would not inherit.
int omp_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

Tensor rng_tensor(const Rng& rng) {
    const auto s = rng.state();
    std::vector<std::int64_t> v;
    for (auto x : s) v.push_back(static_cast<std::int64_t>(x));
    return Tensor::from_indices(v, {4});
}

void restore_rng(Rng& rng, const Tensor& t, const std::string& source) {
    if (t.dtype() != DType::i64 || t.numel() != 4)
        throw std::runtime_error(source + ": generator state of shape " + shape_str(t.shape()) + " (expected 4 I64)");
    std::array<std::uint64_t, 4> s;
    for (std::size_t i = 0; i < 4; ++i) s[i] = static_cast<std::uint64_t>(t.data<std::int64_t>()[i]);
    rng.set_state(s);
}

std::vector<std::pair<std::string, Tensor>> with_prefix(const std::string& prefix,
                                                        const std::vector<std::pair<std::string, Tensor>>& list) {
    std::vector<std::pair<std::string, Tensor>> out;
    for (const auto& [name, t] : list) out.emplace_back(prefix + name, t);
    return out;
}

std::vector<std::pair<std::string, Tensor>> strip_prefix(const std::string& prefix,
                                                         const std::vector<std::pair<std::string, Tensor>>& list) {
    std::vector<std::pair<std::string, Tensor>> out;
    for (const auto& [name, t] : list)
        if (name.rfind(prefix, 0) == 0) out.emplace_back(name.substr(prefix.size()), t);
    return out;
}

}  // namespace

Trainer::Trainer(Model& model, Optimizer& optimizer, const TrainTest& data, StepFn step, FitOptions options)
    : model_(model), optimizer_(optimizer), data_(data), step_(std::move(step)), options_(std::move(options)),
      base_lr_(optimizer.lr()), batch_rng_(options_.seed), augment_rng_(options_.seed ^ 0xa06e47ULL) {
    if (options_.ema_decay > 0) ema_ = std::make_unique<Ema>(model_.named_parameters(), options_.ema_decay);
    // Here rather than in run(): a caller can build the trainer before it touches a run's files.
    const std::int64_t n = data_.train.size();
    if (options_.batch_size < 1)
        throw std::invalid_argument("train: batch size " + std::to_string(options_.batch_size) + " (expected >= 1)");
    if (steps_per_epoch() == 0 && options_.epochs > 0)
        throw std::invalid_argument("train: batch size " + std::to_string(options_.batch_size) + " with " + std::to_string(n) +
                                    " training examples gives no full batch (expected a batch of at most " +
                                    std::to_string(n) + ")");
}

std::int64_t Trainer::steps_per_epoch() const {
    const std::int64_t n = data_.train.size(), b = options_.batch_size;
    return options_.drop_last ? n / b : (n + b - 1) / b;
}

std::future<Batch> Trainer::start_batch(const Tensor& idx) {
    const Device device = model_.device();
    std::future<Batch> rows;  // the batch on the CPU, at the data's size
    if (data_.train.files) {
        std::vector<std::uint64_t> seeds;
        if (options_.augment)
            for (std::int64_t i = 0; i < idx.numel(); ++i) seeds.push_back(augment_rng_.next_u64());
        // On a CPU device the step's threads would share the cores with decoding's: by default it decodes at get().
        const auto when = options_.decode_ahead.value_or(!device.is_cpu()) ? std::launch::async : std::launch::deferred;
        rows = std::async(when, [files = data_.train.files, list = index_list(idx), seeds = std::move(seeds),
                                 augment = options_.folder_augment, threads = omp_threads()] {
            return files->load(list, seeds, augment, threads);
        });
    } else {
        rows = std::async(std::launch::deferred, [this, idx] { return make_batch(data_.train, idx); });
    }
    return std::async(std::launch::deferred, [rows = std::move(rows), device, this]() mutable {
        Batch b = rows.get();
        b.x = b.x.to(device);  // on this thread, the device's; what follows runs on the device
        b.y = b.y.to(device);
        if (!data_.train.files && b.x.dim() == 4 && (options_.augment || options_.augment_options.size))
            b.x = options_.augment ? augment_images(b.x, options_.augment_options, augment_rng_)
                                   : fit_images(b.x, options_.augment_options.size, options_.augment_options.fill);
        b.label_smoothing = options_.label_smoothing;
        mix_batch(b, options_.mix, augment_rng_);
        return b;
    });
}

EvalResult Trainer::evaluate_with(const std::vector<std::pair<std::string, Tensor>>* weights) {
    std::vector<std::pair<std::string, Tensor>> saved;
    if (weights) {
        for (const auto& [name, p] : model_.named_parameters()) saved.emplace_back(name, p.detach().clone());
        model_.load_parameters(*weights, "ema");
    }
    BatchTransform fit;  // per batch: the whole test set at the model's size can take gigabytes
    if (!data_.test.files && data_.test.x.dim() == 4 && options_.augment_options.size)
        fit = [this](const Tensor& x) { return fit_images(x, options_.augment_options.size, options_.augment_options.fill); };
    const EvalResult r = evaluate(model_, data_.test, options_.eval_batch, fit, options_.on_eval_batch);
    if (weights) model_.load_parameters(saved, "saved weights");
    return r;
}

std::vector<EpochMetrics> Trainer::run() {
    const AutocastGuard autocast(options_.autocast);  // steps and evaluations run on this thread
    std::vector<EpochMetrics> history;
    const std::int64_t n = data_.train.size(), total_steps = steps_per_epoch() * options_.epochs;
    stopped_ = false;
    if (options_.cosine && global_step_ > 0)  // the rate of the last step taken (a resumed epoch may evaluate first)
        optimizer_.set_lr(cosine_lr(global_step_ - 1, total_steps, options_.warmup_steps, base_lr_, options_.min_lr));
    while (epoch_ < options_.epochs) {
        const int epoch = epoch_ + 1;
        model_.train();
        const auto start = std::chrono::steady_clock::now();
        if (epoch_step_ == 0) epoch_batch_rng_ = batch_rng_;  // else restored: the order is drawn again
        batch_rng_ = epoch_batch_rng_;
        const auto batches = epoch_batches(n, options_.batch_size, true, options_.drop_last, batch_rng_);
        const auto first = static_cast<std::size_t>(epoch_step_);  // at most batches.size(): load_checkpoint checks
        double data_seconds = 0.0;
        std::future<Batch> next;  // batch i, started during step i − 1; a pending one is waited for if a step throws
        resume_augment_rng_ = augment_rng_;
        if (first < batches.size()) next = start_batch(batches[first]);
        for (std::size_t i = first; i < batches.size(); ++i) {
            if (options_.cosine)
                optimizer_.set_lr(cosine_lr(global_step_, total_steps, options_.warmup_steps, base_lr_, options_.min_lr));
            const auto made = std::chrono::steady_clock::now();
            const Batch batch = next.get();
            resume_augment_rng_ = augment_rng_;
            if (i + 1 < batches.size()) next = start_batch(batches[i + 1]);
            data_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - made).count();
            model_.begin_step();  // draws this step's SBP plan, if any
            const double loss = step_(model_, batch, optimizer_);
            if (!std::isfinite(loss))
                throw std::runtime_error("train: loss is " + (std::isnan(loss) ? std::string("nan") : std::to_string(loss)) +
                                         " at epoch " + std::to_string(epoch) + ", step " + std::to_string(i + 1) +
                                         " (stopped; a checkpoint this run wrote before is kept as it was; try a smaller learning rate)");
            ++global_step_;
            if (ema_) ema_->update(model_.named_parameters());
            epoch_loss_sum_ += loss;
            epoch_step_ = static_cast<std::int64_t>(i + 1);
            if (options_.on_step)
                options_.on_step(epoch, static_cast<std::int64_t>(i), static_cast<std::int64_t>(batches.size()), loss);
            // The last step checkpoints before evaluating (which a resumed run then does first): a run stopped or
            // killed while it evaluates loses no training.
            const bool last = i + 1 == batches.size();
            const bool stop = options_.stop_requested && options_.stop_requested();
            if (stop || last || (options_.checkpoint_every > 0 && global_step_ % options_.checkpoint_every == 0))
                if (options_.on_checkpoint) options_.on_checkpoint();
            if (stop) {
                augment_rng_ = resume_augment_rng_;  // the batch started ahead is dropped (`next`), its draws undone
                stopped_ = true;
                return history;
            }
        }
        EpochMetrics m;
        m.epoch = epoch;
        m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        m.data_seconds = data_seconds;
        m.train_loss = batches.empty() ? 0.0 : epoch_loss_sum_ / static_cast<double>(batches.size());
        m.lr = optimizer_.lr();
        epoch_step_ = 0;
        epoch_loss_sum_ = 0.0;
        const EvalResult test = evaluate_with(nullptr);
        m.test_loss = test.loss;
        m.test_accuracy = test.accuracy;
        m.test_top5 = test.top5;
        if (ema_) {
            const EvalResult averaged = evaluate_with(&ema_->averages());
            m.ema_test_accuracy = averaged.accuracy;
            m.ema_test_top5 = averaged.top5;
        }
        m.model_norm = model_norm(model_);
        epoch_ = epoch;
        history.push_back(m);
        if (options_.on_epoch && !options_.on_epoch(m)) break;
        if (epoch_ < options_.epochs && options_.stop_requested && options_.stop_requested()) {
            stopped_ = true;
            break;
        }
    }
    return history;
}

void Trainer::save_checkpoint(const std::string& path, const std::map<std::string, std::string>& metadata) const {
    auto tensors = with_prefix("model.", model_.named_parameters());
    for (auto& t : with_prefix("optim.", optimizer_.state())) tensors.push_back(t);
    if (ema_)
        for (auto& t : with_prefix("ema.", ema_->averages())) tensors.push_back(t);
    const bool inside = epoch_step_ > 0;  // inside an epoch: its order is drawn again and its next batch remade
    tensors.emplace_back("rng.batch", rng_tensor(inside ? epoch_batch_rng_ : batch_rng_));
    tensors.emplace_back("rng.augment", rng_tensor(inside ? resume_augment_rng_ : augment_rng_));
    if (Rng* noise = model_.noise_rng()) tensors.emplace_back("rng.noise", rng_tensor(*noise));
    tensors.emplace_back("trainer.progress", Tensor::from_indices({epoch_, global_step_, epoch_step_}, {3}));
    tensors.emplace_back("trainer.epoch_loss_sum", Tensor::from_vector({epoch_loss_sum_}, {1}, DType::f64));
    std::map<std::string, std::string> meta = metadata;
    meta["epoch"] = std::to_string(epoch_);
    meta["epoch_step"] = std::to_string(epoch_step_);
    meta["format"] = "bplab-checkpoint";
    meta["lr"] = std::to_string(optimizer_.lr());
    save_safetensors(path, tensors, meta);
}

std::map<std::string, std::string> Trainer::load_checkpoint(const std::string& path) {
    const NamedTensors c = load_safetensors(path);
    if (!c.contains("trainer.progress"))
        throw std::runtime_error(path + ": not a bplab training checkpoint (no trainer.progress)");
    // Checked before anything is loaded: a refused checkpoint leaves the trainer as it was.
    const auto progress = c.get("trainer.progress").to_vector();  // (epoch, global step[, step in the epoch])
    if (progress.size() != 2 && progress.size() != 3)
        throw std::runtime_error(path + ": trainer.progress has " + std::to_string(progress.size()) + " values (expected 2 or 3)");
    for (const double v : progress)  // whole numbers in range before any cast (a cast of NaN or 1e300 is undefined)
        if (!(v >= 0 && v <= 1e15 && v == std::floor(v)))
            throw std::runtime_error(path + ": trainer.progress holds " + std::to_string(v) + " (expected step counts)");
    const std::int64_t epoch = static_cast<std::int64_t>(progress[0]), global_step = static_cast<std::int64_t>(progress[1]),
                       epoch_step = progress.size() == 3 ? static_cast<std::int64_t>(progress[2]) : 0, per_epoch = steps_per_epoch();
    // The step within the epoch may equal its length: the last step checkpoints before the evaluation.
    if (epoch > 1000000 || epoch_step > per_epoch || global_step != epoch * per_epoch + epoch_step)
        throw std::runtime_error(path + ": trainer.progress says epoch " + std::to_string(epoch) + ", step " +
                                 std::to_string(global_step) + ", step " + std::to_string(epoch_step) +
                                 " in the epoch, which does not fit epochs of " + std::to_string(per_epoch) +
                                 " steps (a checkpoint of another dataset or batch size, or a damaged one)");
    model_.load_parameters(strip_prefix("model.", c.tensors), path);
    optimizer_.load_state(strip_prefix("optim.", c.tensors), path);
    if (ema_) {
        const auto averages = strip_prefix("ema.", c.tensors);
        if (averages.empty()) throw std::runtime_error(path + ": checkpoint has no EMA weights but EMA is on");
        auto& mine = ema_->averages();
        for (auto& [name, t] : mine)
            for (const auto& [n2, v] : averages)
                if (n2 == name) t = v.to(t.dtype()).to(t.device()).clone();
    }
    restore_rng(batch_rng_, c.get("rng.batch"), path);
    restore_rng(augment_rng_, c.get("rng.augment"), path);
    if (Rng* noise = model_.noise_rng()) restore_rng(*noise, c.get("rng.noise"), path);
    epoch_ = static_cast<int>(epoch);
    global_step_ = global_step;
    epoch_step_ = epoch_step;
    epoch_loss_sum_ = c.contains("trainer.epoch_loss_sum") ? c.get("trainer.epoch_loss_sum").to_vector().at(0) : 0.0;
    if (epoch_step_ > 0) epoch_batch_rng_ = batch_rng_;  // the epoch's order, drawn again by run()
    return c.metadata;
}

NamedTensors model_weights(NamedTensors file) {
    const auto format = file.metadata.find("format");
    if (format != file.metadata.end() && format->second == "bplab-checkpoint") file.tensors = strip_prefix("model.", file.tensors);
    return file;
}

NamedTensors ema_weights(const NamedTensors& checkpoint) {
    NamedTensors out;
    out.tensors = strip_prefix("ema.", checkpoint.tensors);
    out.metadata = checkpoint.metadata;
    out.path = checkpoint.path;
    return out;
}

std::vector<EpochMetrics> fit(Model& model, Optimizer& optimizer, const TrainTest& data, const StepFn& step,
                              const FitOptions& options) {
    Trainer trainer(model, optimizer, data, step, options);
    return trainer.run();
}

}  // namespace bplab
