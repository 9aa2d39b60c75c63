// experiments/cli/grads.cpp — `bplab grads` (one step's gradients dumped for cross-checks with other
// frameworks) and `bplab grad-sim` (per-layer cosine similarity of SBP and exact weight gradients).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "core/data/augment.h"
#include "core/data/idx_dataset.h"
#include "core/io/json.h"
#include "core/io/safetensors.h"
#include "core/ops.h"
#include "core/train/trainer.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/run.h"
#include "models/registry.h"

namespace bplab::cli {
namespace {

void add_model_flags(Flags& flags) {
    flags.add("model", "vit-mini", "model name (see bplab train --help)")
        .add("weights", "", "start from these weights: a safetensors file with timm names, or a bplab checkpoint")
        .add("data", "fashion-mnist", "fashion-mnist | mnist | random (Gaussian images of the model's size)")
        .add("data-dir", "", "folder with the IDX files (default: the dataset's)")
        .add("batch", "32", "batch size")
        .add("classes", "10", "classes (random data)")
        .add("seed", "1", "seed of the weights, the batches and the masks")
        .add("device", "cpu", "cpu | cuda");
    add_sbp_flags(flags, "0.5");
    add_thread_flag(flags);
}

struct Setup {
    std::unique_ptr<Model> model;
    Dataset data;  ///< images at the data's size (28² for the IDX sets), fitted per batch
    std::int64_t size;
    double fill = 0.0;  ///< a black pixel, normalised
};

/// The model and data; random data holds max(4, batches) batches.
Setup setup(const Flags& f, std::int64_t batches = 1) {
    Setup s;
    const std::string name = f.str("model");
    s.size = model_image_size(name);
    const std::string data = f.str("data");
    const auto seed = static_cast<std::uint64_t>(f.integer("seed"));
    std::int64_t channels = 3, classes = f.integer("classes");
    if (f.integer("batch") < 1) throw std::invalid_argument("--batch " + f.str("batch") + ": expected >= 1");
    if (data == "random") {
        if (classes < 2) throw std::invalid_argument("--classes " + f.str("classes") + ": expected >= 2");
        Rng rng(seed);
        const std::int64_t n = std::max<std::int64_t>(4, batches) * f.integer("batch");
        std::vector<double> xs(static_cast<std::size_t>(n * s.size * s.size * channels));
        for (auto& v : xs) v = rng.normal();
        std::vector<std::int64_t> ys(static_cast<std::size_t>(n));
        for (auto& v : ys) v = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(classes)));
        s.data = {"random", Tensor::from_vector(xs, {n, s.size, s.size, channels}), Tensor::from_indices(ys, {n})};
    } else {
        if (data != "mnist" && data != "fashion-mnist")
            throw std::invalid_argument("--data " + data + ": expected fashion-mnist, mnist or random");
        const IdxDatasetSpec& spec = idx_dataset_spec(data);
        TrainTest d = load_idx_dataset(f.str("data-dir").empty() ? default_data_dir(data) : f.str("data-dir"), spec);
        channels = 1;
        classes = 10;
        s.data = d.train;
        s.fill = (0.0 - spec.mean) / spec.std;
        if (f.integer("batch") > s.data.size())
            throw std::invalid_argument("--batch " + f.str("batch") + ": more than the " + std::to_string(s.data.size()) +
                                        " training examples of " + data);
    }
    s.model = make_model(name, {.classes = classes, .in_channels = channels, .seed = seed});
    if (!f.str("weights").empty()) {
        s.model->load_parameters(model_weights(load_safetensors(f.str("weights"))).tensors, f.str("weights"));
    }
    s.model->to(use_device(f.str("device")));
    s.model->train();
    return s;
}

/// The rows `idx` of the data as a batch on the model's device, at the model's size (moved once, used by every
/// pass over it).
Batch batch_on_device(const Setup& s, const Tensor& idx) {
    Batch b = make_batch(s.data, idx);
    b.x = fit_images(b.x.to(s.model->device()), s.size, s.fill);
    b.y = b.y.to(s.model->device());
    return b;
}

/// Gradients of every parameter for one batch, with the model's current SBP configuration.
std::vector<Tensor> gradients(Model& model, const Batch& b, Tensor* logits_out = nullptr, double* loss_out = nullptr) {
    model.zero_grad();
    model.begin_step();
    const Tensor logits = model.forward(b.x);
    const Tensor loss = cross_entropy(logits, b.y);
    backward(loss);
    if (logits_out) *logits_out = logits.detach();
    if (loss_out) *loss_out = loss.item();
    std::vector<Tensor> g;
    for (const Tensor& p : model.parameters()) g.push_back(p.grad().defined() ? p.grad().clone() : Tensor::zeros_like(p));
    return g;
}

double cosine(const Tensor& a, const Tensor& b) {
    const double na = l2_norm(a), nb = l2_norm(b);
    if (na == 0 || nb == 0) return 0.0;
    return sum(mul(a, b)).item() / (na * nb);
}

}  // namespace

int grads_command(int argc, char** argv) {
    Flags flags("bplab grads", "Runs one training step (forward, loss, backward; no update) with SBP and writes, with timm's names,\n"
                         "the parameters, input x, labels y, kept token/position indices of every SBP block, loss, logits\n"
                         "and every parameter gradient (grad.<name>) to one safetensors file, for cross-checks.");
    add_model_flags(flags);
    flags.add("out", "grads.safetensors", "file to write");
    if (!flags.parse(argc, argv, 2)) return 0;
    const std::string path = flags.path("out");  // an empty one refused now, not after the step
    apply_threads(flags);
    Setup s = setup(flags);
    s.model->set_sbp(sbp_config_from(flags));
    const std::int64_t b = flags.integer("batch");
    std::vector<std::int64_t> idx(static_cast<std::size_t>(b));
    for (std::int64_t i = 0; i < b; ++i) idx[static_cast<std::size_t>(i)] = i;
    const Batch batch = batch_on_device(s, Tensor::from_indices(idx, {b}));
    Tensor logits;
    double loss = 0;
    const auto grads = gradients(*s.model, batch, &logits, &loss);
    NamedTensorList out = s.model->named_parameters();
    const auto names = s.model->named_parameters();
    for (std::size_t i = 0; i < names.size(); ++i) out.emplace_back("grad." + names[i].first, grads[i]);
    out.emplace_back("x", batch.x);
    out.emplace_back("y", batch.y);
    out.emplace_back("logits", logits);
    out.emplace_back("loss", Tensor::from_vector({loss}, {1}, logits.dtype()));
    if (const sbp::StepPlan* plan = s.model->sbp_plan())
        for (std::size_t i = 0; i < plan->blocks.size(); ++i)
            if (plan->blocks[i]) out.emplace_back("sbp.keep." + std::to_string(i), plan->blocks[i]->rows.keep);
    save_safetensors(path, out,
                     {{"model", flags.str("model")}, {"sbp_keep", flags.str("sbp-keep")}, {"sbp_attn", flags.str("sbp-attn")},
                      {"layout", "inputs channels-last (B, H, W, C); weights in PyTorch layouts"}});
    std::printf("bplab grads: %s, loss %.6f, wrote %s\n", flags.str("model").c_str(), loss, path.c_str());
    return 0;
}

int grad_sim_command(int argc, char** argv) {
    Flags flags("bplab grad-sim", "For K batches, computes every weight gradient exactly and with SBP on the same weights and batch,\n"
                            "and reports the cosine similarity per weight tensor, averaged over the batches (the paper's\n"
                            "Figs. 2, 3, 5, 6, 8). Writes one JSON line per tensor to --out.");
    add_model_flags(flags);
    flags.add("batches", "8", "number of batches K")
        .add("out", "runs/grad-sim.jsonl", "JSONL output (one line per weight tensor)");
    if (!flags.parse(argc, argv, 2)) return 0;
    const std::string out = flags.path("out");  // an empty one refused now, not after the steps
    apply_threads(flags);
    const std::int64_t k = flags.integer("batches"), b = flags.integer("batch");
    if (k < 1) throw std::invalid_argument("--batches " + flags.str("batches") + ": expected >= 1");
    Setup s = setup(flags, k);
    const sbp::SbpConfig config = sbp_config_from(flags);
    if (k * b > s.data.size())
        throw std::invalid_argument("--batches " + flags.str("batches") + " of " + flags.str("batch") + " need " +
                                    std::to_string(k * b) + " examples; the data has " + std::to_string(s.data.size()));
    Rng order(static_cast<std::uint64_t>(flags.integer("seed")));
    const auto batches = epoch_batches(s.data.size(), b, true, true, order);
    const auto names = s.model->named_parameters();
    std::vector<double> total(names.size(), 0.0);
    for (std::int64_t i = 0; i < k; ++i) {
        const Batch batch = batch_on_device(s, batches[static_cast<std::size_t>(i)]);
        s.model->set_sbp(sbp::SbpConfig{});
        const auto exact = gradients(*s.model, batch);
        s.model->set_sbp(config);
        const auto approx = gradients(*s.model, batch);
        for (std::size_t j = 0; j < names.size(); ++j) total[j] += cosine(exact[j], approx[j]);
        std::fprintf(stderr, "\rgrad-sim: batch %lld/%lld", static_cast<long long>(i + 1), static_cast<long long>(k));
    }
    std::fprintf(stderr, "\n");
    if (std::filesystem::path(out).has_parent_path()) std::filesystem::create_directories(std::filesystem::path(out).parent_path());
    std::ostringstream jsonl;
    std::printf("| %-40s | %10s |\n", "weight", "cosine");
    std::printf("|------------------------------------------|-----------:|\n");
    for (std::size_t j = 0; j < names.size(); ++j) {
        if (names[j].second.dim() < 2) continue;  // weights only, as in the paper's figures
        const double c = total[j] / static_cast<double>(k);
        std::printf("| %-40s | %10.4f |\n", names[j].first.c_str(), c);
        jsonl << json::dump(json::Object{{"layer", static_cast<std::int64_t>(j)}, {"name", names[j].first}, {"cosine", c},
                                         {"keep", config.keep}, {"mask", sbp::to_string(config.mask)},
                                         {"attn", sbp::attn_mode_name(config.attn)}, {"batches", k}})
              << '\n';
    }
    write_text_atomic(out, jsonl.str());
    return 0;
}

}  // namespace bplab::cli
