// tests/test_trainer.cpp — the training loop: a resumed run is bit-identical to an uninterrupted one,
// a NaN loss stops with a clear message and leaves the last checkpoint intact; evaluation; DropPath/dropout modes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <filesystem>

#include "core/data/folder_dataset.h"
#include "core/io/safetensors.h"
#include "core/ops.h"
#include "core/optim/adamw.h"
#include "core/optim/sgd.h"
#include "core/train/trainer.h"
#include "layers/regularize.h"
#include "models/registry.h"
#include "tests/test_helpers.h"

using namespace bplab;
using bplab::test::max_abs_diff;
using bplab::test::random_tensor;

namespace {

TrainTest tiny_images() {
    std::vector<std::int64_t> labels(48);
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int64_t>(i % 10);
    TrainTest d;
    d.train = {"tiny/train", random_tensor({48, 28, 28, 1}, 1, DType::f32), Tensor::from_indices(labels, {48})};
    d.test = {"tiny/test", random_tensor({16, 28, 28, 1}, 2, DType::f32),
              Tensor::from_indices({labels.begin(), labels.begin() + 16}, {16})};
    return d;
}

struct Run {
    std::unique_ptr<Model> model;
    std::unique_ptr<AdamW> optimizer;
    std::unique_ptr<Trainer> trainer;
};

Run make_run(const TrainTest& data, int epochs, const std::function<void(FitOptions&)>& tweak = {}) {
    Run r;
    r.model = make_model("convnext-mini", {.classes = 10, .in_channels = 1, .drop_path = 0.2, .seed = 7});
    const auto named = r.model->named_parameters();
    r.optimizer = std::make_unique<AdamW>(r.model->parameters(), weight_decay_mask(named), AdamWOptions{.lr = 2e-3});
    r.optimizer->set_max_grad_norm(1.0);
    FitOptions o;
    o.epochs = epochs;
    o.batch_size = 16;
    o.cosine = true;
    o.warmup_steps = 2;
    o.ema_decay = 0.9;
    o.label_smoothing = 0.1;
    o.augment = true;
    o.augment_options = {.size = 32, .pad = 2, .flip = true, .fill = -1.0};
    if (tweak) tweak(o);
    r.trainer = std::make_unique<Trainer>(*r.model, *r.optimizer, data, step_method("backprop"), o);
    return r;
}

/// Sets `o` to stop once, after `at` steps, saving a checkpoint to `path` there (through `*trainer`).
void stop_after(FitOptions& o, std::int64_t at, const std::string& path, std::int64_t& steps, Trainer*& trainer) {
    o.on_step = [&steps](int, std::int64_t, std::int64_t, double) { ++steps; };
    o.stop_requested = [&steps, at, asked = false]() mutable {  // once: a run called again goes on
        if (asked || steps != at) return false;
        return asked = true;
    };
    o.on_checkpoint = [&trainer, path] { trainer->save_checkpoint(path); };
}

void require_same_weights(const Model& a, const Model& b) {
    const auto x = a.named_parameters(), y = b.named_parameters();
    REQUIRE(x.size() == y.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        INFO(x[i].first);
        CHECK(max_abs_diff(x[i].second, y[i].second) == 0.0);
    }
}

}  // namespace

TEST_CASE("trainer: 1 epoch + resume + 1 epoch equals 2 epochs straight, bit for bit", "[train]") {
    const TrainTest data = tiny_images();
    bplab::test::TempDir dir;
    Run straight = make_run(data, 2);
    const auto full = straight.trainer->run();

    Run first = make_run(data, 1);
    const auto first_epoch = first.trainer->run();
    REQUIRE(first_epoch.size() == 1);
    CHECK(first_epoch[0].train_loss == full[0].train_loss);
    CHECK(first_epoch[0].data_seconds > 0.0);
    CHECK(first_epoch[0].data_seconds <= first_epoch[0].seconds);
    first.trainer->save_checkpoint(dir.path("ckpt.safetensors"));
    Run resumed = make_run(data, 2);
    resumed.trainer->load_checkpoint(dir.path("ckpt.safetensors"));
    CHECK(resumed.trainer->epoch() == 1);
    const auto rest = resumed.trainer->run();
    REQUIRE(rest.size() == 1);
    CHECK(rest[0].train_loss == full[1].train_loss);
    CHECK(rest[0].ema_test_accuracy == full[1].ema_test_accuracy);
    const auto a = straight.model->named_parameters(), b = resumed.model->named_parameters();
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO(a[i].first);
        CHECK(max_abs_diff(a[i].second, b[i].second) == 0.0);
    }
}

TEST_CASE("trainer: stopped after any step, resumed from that step's checkpoint: the run straight, bit for bit", "[train]") {
    const TrainTest data = tiny_images();  // 3 steps an epoch
    bplab::test::TempDir dir;
    const auto mixed = [](FitOptions& o) { o.mix = {.mixup_alpha = 0.8, .cutmix_alpha = 1.0, .switch_prob = 0.5}; };
    Run straight = make_run(data, 2, mixed);
    const auto full = straight.trainer->run();
    REQUIRE(full.size() == 2);
    const auto same_epochs = [&](const std::vector<EpochMetrics>& rest, std::size_t from) {
        REQUIRE(from + rest.size() == full.size());
        for (std::size_t e = 0; e < rest.size(); ++e) {
            CHECK(rest[e].train_loss == full[from + e].train_loss);  // a stopped epoch's losses are carried over
            CHECK(rest[e].test_loss == full[from + e].test_loss);
            CHECK(rest[e].ema_test_accuracy == full[from + e].ema_test_accuracy);
            CHECK(rest[e].lr == full[from + e].lr);  // the cosine schedule's, also for an epoch that evaluates first
        }
    };
    for (const std::int64_t at : {1, 3, 5}) {  // inside epoch 1; its last step (not yet evaluated); inside epoch 2
        INFO("stopped after step " << at);
        std::int64_t steps = 0;
        Trainer* self = nullptr;
        const std::string path = dir.path("stop" + std::to_string(at) + ".safetensors");
        Run stopped = make_run(data, 2, [&](FitOptions& o) {
            mixed(o);
            stop_after(o, at, path, steps, self);
        });
        self = stopped.trainer.get();
        const auto before = stopped.trainer->run();
        CHECK(stopped.trainer->stopped());
        REQUIRE(before.size() == static_cast<std::size_t>((at - 1) / 3));
        CHECK(stopped.trainer->epoch_step() == (at - 1) % 3 + 1);
        Run resumed = make_run(data, 2, mixed);
        resumed.trainer->load_checkpoint(path);
        CHECK(resumed.trainer->epoch() == static_cast<int>(before.size()));
        CHECK(resumed.trainer->epoch_step() == (at - 1) % 3 + 1);
        CHECK(resumed.trainer->global_step() == at);
        const auto rest = resumed.trainer->run();
        CHECK(!resumed.trainer->stopped());
        same_epochs(rest, before.size());
        require_same_weights(*straight.model, *resumed.model);
        const auto again = stopped.trainer->run();  // the stopped trainer itself goes on from where it stands
        same_epochs(again, before.size());
        require_same_weights(*straight.model, *stopped.model);
    }
    int checkpoints = 0;  // every 2 steps over the run (2, 4) and at each epoch's last step (3, 6)
    Run every = make_run(data, 2, [&](FitOptions& o) {
        o.checkpoint_every = 2;
        o.on_checkpoint = [&checkpoints] { ++checkpoints; };
    });
    every.trainer->run();
    CHECK(checkpoints == 4);
    CHECK(!every.trainer->stopped());
    checkpoints = 0;  // a stop where a checkpoint is due anyway checkpoints once
    std::int64_t steps = 0;
    Run both = make_run(data, 2, [&](FitOptions& o) {
        o.checkpoint_every = 2;
        o.on_step = [&steps](int, std::int64_t, std::int64_t, double) { ++steps; };
        o.stop_requested = [&steps] { return steps == 2; };
        o.on_checkpoint = [&checkpoints] { ++checkpoints; };
    });
    both.trainer->run();
    CHECK(both.trainer->stopped());
    CHECK(checkpoints == 1);
}

TEST_CASE("trainer: image folders with random crops, RandAugment, erasing, Mixup and CutMix: decoding ahead changes nothing, resume bit for bit", "[train]") {
    bplab::test::TempDir dir;
    for (const char* split : {"train", "val"})
        for (int k = 0; k < 2; ++k) {
            const std::string folder = dir.path(std::string("d/") + split + "/class" + std::to_string(k));
            std::filesystem::create_directories(folder);
            for (int i = 0; i < (split[0] == 't' ? 10 : 3); ++i) {
                Image img{.height = 30 + 3 * i, .width = 40 - 2 * i, .channels = 3, .pixels = {}};
                for (std::int64_t p = 0; p < img.height * img.width * 3; ++p)
                    img.pixels.push_back(static_cast<std::uint8_t>((p * (k ? 7 : 3) + i) % 251));
                write_jpeg(folder + "/" + std::to_string(i) + ".jpg", img);
            }
        }
    const TrainTest data = load_image_folders(dir.path("d"), 28);
    const auto make = [&](int epochs, bool ahead = true, bool mix = true, const std::function<void(FitOptions&)>& tweak = {}) {
        Run r;
        r.model = make_model("vit-mini", {.classes = 2, .in_channels = 3, .seed = 4});
        r.optimizer = std::make_unique<AdamW>(r.model->parameters(), weight_decay_mask(r.model->named_parameters()),
                                              AdamWOptions{.lr = 1e-3});
        FitOptions o;
        o.epochs = epochs;
        o.batch_size = 4;
        o.augment = true;
        if (mix) o.mix = {.mixup_alpha = 0.8, .cutmix_alpha = 1.0, .switch_prob = 0.5};
        o.folder_augment = {.rand_augment = parse_rand_augment("rand-m9-mstd0.5-inc1", "test"), .erase_prob = 0.25};
        o.label_smoothing = 0.1;
        o.decode_ahead = ahead;
        if (tweak) tweak(o);
        r.trainer = std::make_unique<Trainer>(*r.model, *r.optimizer, data, step_method("backprop"), o);
        return r;
    };
    Run straight = make(2);
    const auto full = straight.trainer->run();
    REQUIRE(full.size() == 2);
    Run in_step = make(2, false);
    const auto same = in_step.trainer->run();
    CHECK(same[0].train_loss == full[0].train_loss);
    CHECK(same[1].train_loss == full[1].train_loss);
    CHECK(std::isfinite(full[1].train_loss));
    Run unmixed = make(1, true, false);  // the mixing is applied: without it the first epoch trains differently
    const double unmixed_loss = unmixed.trainer->run()[0].train_loss;
    CHECK(std::isfinite(unmixed_loss));
    CHECK(unmixed_loss != full[0].train_loss);
    Run first = make(1);
    first.trainer->run();
    first.trainer->save_checkpoint(dir.path("ckpt.safetensors"));
    Run resumed = make(2);
    resumed.trainer->load_checkpoint(dir.path("ckpt.safetensors"));
    const auto rest = resumed.trainer->run();
    REQUIRE(rest.size() == 1);
    CHECK(rest[0].train_loss == full[1].train_loss);
    CHECK(rest[0].test_loss == full[1].test_loss);
    require_same_weights(*straight.model, *resumed.model);
    // Stopped inside epoch 2 (5 steps an epoch) while the next batch was decoding ahead: its crop seeds were
    // drawn, and the checkpoint holds the generator from before them.
    std::int64_t steps = 0;
    Trainer* self = nullptr;
    Run stopped = make(2, true, true, [&](FitOptions& o) { stop_after(o, 7, dir.path("inside.safetensors"), steps, self); });
    self = stopped.trainer.get();
    REQUIRE(stopped.trainer->run().size() == 1);
    Run continued = make(2);
    continued.trainer->load_checkpoint(dir.path("inside.safetensors"));
    const auto end = continued.trainer->run();
    REQUIRE(end.size() == 1);
    CHECK(end[0].train_loss == full[1].train_loss);
    require_same_weights(*straight.model, *continued.model);
    const auto again = stopped.trainer->run();  // in the same trainer, the dropped batch's seeds are drawn again
    REQUIRE(again.size() == 1);
    CHECK(again[0].train_loss == full[1].train_loss);
    require_same_weights(*straight.model, *stopped.model);
}

TEST_CASE("trainer: a checkpoint whose progress does not fit epochs of this data and batch size is refused", "[train]") {
    const TrainTest data = tiny_images();  // 48 images in batches of 16: 3 steps an epoch
    bplab::test::TempDir dir;
    Run run = make_run(data, 2);
    run.trainer->save_checkpoint(dir.path("ckpt.safetensors"));
    const NamedTensors saved = load_safetensors(dir.path("ckpt.safetensors"));
    const auto with_progress = [&](const std::vector<std::int64_t>& progress) {
        std::vector<std::pair<std::string, Tensor>> tensors;
        for (const auto& [name, t] : saved.tensors)
            tensors.emplace_back(name, name == "trainer.progress" ? Tensor::from_indices(progress, {3}) : t);
        save_safetensors(dir.path("edited.safetensors"), tensors, saved.metadata);
        Run resumed = make_run(data, 2);
        resumed.trainer->load_checkpoint(dir.path("edited.safetensors"));
        return resumed.trainer->global_step();
    };
    CHECK(with_progress({1, 3, 0}) == 3);  // after epoch 1
    CHECK(with_progress({0, 3, 3}) == 3);  // after epoch 1's last step, before its evaluation
    CHECK(with_progress({1, 5, 2}) == 5);
    for (const std::vector<std::int64_t>& damaged : {std::vector<std::int64_t>{1, 4, 0}, {0, 5, 5}, {-1, -3, 0},
                                                     {1, 2, -1}, {4611686018427387904, 0, 0}}) {
        INFO(damaged[0] << ", " << damaged[1] << ", " << damaged[2]);
        CHECK_THROWS_WITH(with_progress(damaged), Catch::Contains("edited.safetensors: trainer.progress") &&
                                                      (Catch::Contains("does not fit epochs of 3 steps") || Catch::Contains("expected step counts")));
    }
}

TEST_CASE("model_weights: a checkpoint's model entries without their prefix, any other file as it is", "[train]") {
    const TrainTest data = tiny_images();
    bplab::test::TempDir dir;
    Run run = make_run(data, 1);
    run.trainer->save_checkpoint(dir.path("ckpt.safetensors"));
    const NamedTensors weights = model_weights(load_safetensors(dir.path("ckpt.safetensors")));
    const auto params = run.model->named_parameters();
    REQUIRE(weights.tensors.size() == params.size());  // no optimiser, EMA or generator entries
    for (std::size_t i = 0; i < params.size(); ++i) CHECK(weights.contains(params[i].first));
    save_safetensors(dir.path("plain.safetensors"), {{"model.w", random_tensor({2}, 3)}, {"b", random_tensor({2}, 4)}});
    const NamedTensors plain = model_weights(load_safetensors(dir.path("plain.safetensors")));
    CHECK(plain.contains("model.w"));
    CHECK(plain.contains("b"));
}

TEST_CASE("trainer: a NaN loss stops the run with a message and keeps the last checkpoint", "[train]") {
    const TrainTest data = tiny_images();
    bplab::test::TempDir dir;
    auto model = make_model("vit-mini", {.classes = 10, .in_channels = 1, .seed = 3});
    Sgd sgd(model->parameters(), {.lr = 0.01});
    FitOptions o;
    o.epochs = 3;
    o.batch_size = 16;
    Trainer trainer(*model, sgd, data, step_method("backprop"), o);
    trainer.run();
    trainer.save_checkpoint(dir.path("last.safetensors"));
    sgd.set_lr(1e30);  // the next steps overflow
    FitOptions more = o;
    more.epochs = 6;
    Trainer explode(*model, sgd, data, step_method("backprop"), more);
    explode.load_checkpoint(dir.path("last.safetensors"));
    sgd.set_lr(1e30);
    CHECK_THROWS_WITH(explode.run(), Catch::Contains("loss is") && Catch::Contains("epoch 4"));
    const NamedTensors kept = load_safetensors(dir.path("last.safetensors"));
    CHECK(kept.metadata.at("epoch") == "3");
}

TEST_CASE("regularize: DropPath and dropout are identities in eval and unbiased masks in training", "[layers]") {
    Rng rng(11);
    const Tensor x = Tensor::full({2000, 3}, 2.0, DType::f64);
    CHECK(drop_path(x, 0.3, false, rng).same(x));
    CHECK(dropout(x, 0.3, false, rng).same(x));
    const auto rows = drop_path(x, 0.25, true, rng).to_vector();
    std::int64_t dropped = 0;
    for (std::size_t r = 0; r < 2000; ++r) {
        const double v = rows[r * 3];
        CHECK((v == 0.0 || v == Approx(2.0 / 0.75)));
        CHECK(rows[r * 3 + 1] == v);  // a whole sample is kept or dropped
        dropped += v == 0.0;
    }
    CHECK(dropped > 400);
    CHECK(dropped < 600);
    const auto elems = dropout(x, 0.5, true, rng).to_vector();
    double total = 0;
    for (double v : elems) total += v;
    CHECK(total / 6000.0 == Approx(2.0).epsilon(0.05));
    CHECK_THROWS_WITH(dropout(x, 1.0, true, rng), Catch::Contains("drop probability 1"));
}

TEST_CASE("evaluate: a per-batch transform equals transforming the whole set first, progress per batch", "[train]") {
    const TrainTest data = tiny_images();
    auto model = make_model("convnext-mini", {.classes = 10, .in_channels = 1, .seed = 5});
    const auto fit = [](const Tensor& x) { return fit_images(x, 32, -1.0); };
    Dataset fitted = data.test;
    fitted.x = fit(fitted.x);
    std::vector<std::pair<std::int64_t, std::int64_t>> progress;
    const EvalResult whole = evaluate(*model, fitted, 5),
                     per_batch = evaluate(*model, data.test, 5, fit, [&](std::int64_t done, std::int64_t total) {
                         progress.emplace_back(done, total);
                     });
    CHECK(progress == std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 4}, {2, 4}, {3, 4}, {4, 4}});  // 16 images
    CHECK(per_batch.loss == whole.loss);
    CHECK(per_batch.accuracy == whole.accuracy);
    CHECK(whole.loss > 0.0);
}

TEST_CASE("evaluate: top-1 is argmax's prediction, top-5 the label among the five largest logits, ties by index, never right with a NaN", "[train]") {
    const std::vector<double> s{1.0, 3.0, 3.0, 0.0};
    CHECK(label_rank(s.data(), 4, 1) == 0);  // the first of the tied maxima is argmax's
    CHECK(label_rank(s.data(), 4, 2) == 1);
    CHECK(label_rank(s.data(), 4, 0) == 2);
    CHECK(label_rank(s.data(), 4, 3) == 3);
    const double nan = std::nan("");
    for (const std::vector<double>& broken : {std::vector<double>{nan, nan, nan, nan}, std::vector<double>{3.0, nan, 1.0, 0.0}})
        for (std::int64_t label = 0; label < 4; ++label) CHECK(label_rank(broken.data(), 4, label) == 4);
    const TrainTest data = tiny_images();
    auto model = make_model("convnext-mini", {.classes = 10, .in_channels = 1, .seed = 9});
    const auto fit = [](const Tensor& x) { return fit_images(x, 32, -1.0); };
    const EvalResult r = evaluate(*model, data.test, 5, fit);
    // Independently: sort each row's classes by (score descending, index), find the label's place.
    model->eval();
    NoGradGuard no_grad;
    const Tensor logits = model->forward(fit(data.test.x));
    const auto scores = logits.to_vector(), predicted = argmax(logits).to_vector(), labels = data.test.y.to_vector();
    const std::int64_t n = data.test.size(), classes = 10;
    double top1 = 0, top5 = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        std::vector<std::int64_t> order(static_cast<std::size_t>(classes));
        for (std::int64_t c = 0; c < classes; ++c) order[static_cast<std::size_t>(c)] = c;
        std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
            return scores[static_cast<std::size_t>(i * classes + a)] > scores[static_cast<std::size_t>(i * classes + b)];
        });
        const auto place = std::find(order.begin(), order.end(), static_cast<std::int64_t>(labels[static_cast<std::size_t>(i)])) - order.begin();
        top5 += place < 5;
        top1 += predicted[static_cast<std::size_t>(i)] == labels[static_cast<std::size_t>(i)];
    }
    CHECK(r.accuracy == top1 / static_cast<double>(n));
    CHECK(r.top5 == top5 / static_cast<double>(n));
    CHECK(r.top5 >= r.accuracy);
    CHECK(r.top5 > 0.0);
}
