// experiments/bench/bench_model_step.cpp — times one training step of an image model (forward, cross-entropy,
// backward, AdamW) in bplab and reads its peak memory from bplab's allocator; twin of model_step_torch.py.
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <memory>
#include <new>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "backends/profiling_backend.h"
#include "core/allocator.h"
#include "core/autocast.h"
#include "core/optim/adamw.h"
#include "core/train/backprop.h"
#include "experiments/cli/commands.h"
#include "models/registry.h"

using namespace bplab;

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

/// flags.integer(name), which must be at least `min`.
std::int64_t at_least(const cli::Flags& flags, const std::string& name, std::int64_t min) {
    const std::int64_t v = flags.integer(name);
    if (v < min) throw std::invalid_argument("--" + name + " " + flags.str(name) + ": expected >= " + std::to_string(min));
    return v;
}


/// Runs `steps` more training steps with every backend op timed; prints where a step's time goes.
void print_profile(Model& model, const Batch& b, AdamW& adamw, Device device, std::int64_t steps, double unprofiled_ms) {
    Backend& backend = backend_for(device);
    BackendProfiler profiler(device);
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < steps; ++i) {
        model.begin_step();
        backprop_step(model, b, adamw);
    }
    backend.synchronize();
    const double per_step = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
                            static_cast<double>(steps);
    std::printf("profile over %lld steps: %.3f ms/step with each op waited for (%.3f ms/step unprofiled)\n",
                static_cast<long long>(steps), per_step, unprofiled_ms);
    std::printf("  %-28s %11s %11s %7s\n", "backend op", "calls/step", "ms/step", "share");
    double in_ops = 0;
    for (const OpTime& row : profiler.report()) {
        const double ms = row.seconds * 1e3 / static_cast<double>(steps);
        in_ops += ms;
        std::printf("  %-28s %11.1f %11.3f %6.1f%%\n", row.op.c_str(),
                    static_cast<double>(row.calls) / static_cast<double>(steps), ms, 100.0 * ms / per_step);
    }
    std::printf("  %-28s %11s %11.3f %6.1f%%\n", "(outside backend ops)", "", per_step - in_ops,
                100.0 * (per_step - in_ops) / per_step);
}

}  // namespace

int main(int argc, char** argv) try {
    cli::Flags flags("bench_model_step",
                     "Times training steps of an image model (forward, cross-entropy, backward, AdamW) on a random batch\n"
                     "and reads the step's peak memory from bplab's allocator; twin of model_step_torch.py.");
    flags.add("model", "vit-mini", "model name: " + cli::choices(model_names()))
        .add("batch", "128", "batch size")
        .add("image-size", "0", "input resolution (0: the model's own)")
        .add("classes", "10", "classes")
        .add("in-channels", "1", "input channels")
        .add("steps", "20", "timed steps")
        .add("warmup", "3", "untimed steps first (they also make AdamW's moments)")
        .add("device", "cpu", "cpu | cuda | cuda:N")
        .add("sbp-keep", "1", "SBP keep ratio in (0, 1]; 1: no SBP (else grid mask, the model's default blocks, qkv)")
        .add("profile", "0", "N more steps with every backend op timed, printed per op (0: off)");
    cli::add_recompute_flag(flags);
    cli::add_tf32_flag(flags);
    cli::add_amp_flag(flags);
    cli::add_thread_flag(flags);
    if (!flags.parse(argc, argv, 1)) return 0;
    const std::string name = flags.str("model");
    const std::int64_t batch = at_least(flags, "batch", 1), classes = at_least(flags, "classes", 2),
                       in_channels = at_least(flags, "in-channels", 1), steps = at_least(flags, "steps", 1),
                       warmup = at_least(flags, "warmup", 0), profile = at_least(flags, "profile", 0);
    std::int64_t image = at_least(flags, "image-size", 0);
    const double keep = flags.real("sbp-keep");
    const Device device = cli::use_device(flags.str("device"));  // installs the CUDA backend for "cuda"
    cli::use_tf32(device, flags.on("tf32"));
    const std::optional<DType> amp = cli::amp_from(flags);
    const int threads = cli::apply_threads(flags);

    ModelOptions options;
    options.classes = classes;
    options.in_channels = in_channels;
    options.seed = 2525;
    options.recompute = flags.on("recompute");
    options.image_size = image;  // 0: the model's own
    std::unique_ptr<Model> model = make_model(name, options);  // throws, listing the names, if unknown
    if (image == 0) image = model_image_size(name);
    model->to(device);
    model->set_sbp(sbp::make_config(keep, "grid", "", "uniform", false, "qkv", false));  // checks 0 < keep <= 1
    model->train();
    AdamW adamw(model->parameters(), weight_decay_mask(model->named_parameters()), {.lr = 1e-4, .weight_decay = 0.05});
    const AutocastGuard autocast(amp);  // every step below, timed, warm-up and profiled

    Rng rng(1);
    Batch b;
    {
        std::vector<double> xs(static_cast<std::size_t>(batch * image * image * in_channels));
        for (auto& v : xs) v = rng.uniform();
        std::vector<std::int64_t> ys(static_cast<std::size_t>(batch));
        for (auto& v : ys) v = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(classes)));
        b.x = Tensor::from_vector(xs, {batch, image, image, in_channels}).to(device);  // (B, S, S, C_in) channels-last
        b.y = Tensor::from_indices(ys, {batch}).to(device);
    }

    if (warmup == 0)
        std::fprintf(stderr, "bench_model_step: note: --warmup 0: AdamW's moments are made by the first timed step, so "
                             "\"peak above persistent\" includes them\n");
    double loss = 0;
    for (std::int64_t i = 0; i < warmup; ++i) {
        model->begin_step();
        loss = backprop_step(*model, b, adamw);
    }
    backend_for(device).synchronize();
    // Persistent: parameters, AdamW's two moments (created by the warm-up; by the first timed step otherwise),
    // the batch. Gradients are dropped here, as every step starts by dropping them.
    model->zero_grad();
    reset_peak(device);
    const std::int64_t persistent = memory_stats(device).current_bytes;
    std::vector<double> ms;
    for (std::int64_t i = 0; i < steps; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        model->begin_step();  // SBP draws this step's masks
        loss = backprop_step(*model, b, adamw);
        backend_for(device).synchronize();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    const MemoryStats after = memory_stats(device);
    const std::int64_t peak = after.peak_bytes;
    if (!std::isfinite(loss)) {
        std::fprintf(stderr, "bench_model_step: loss became %g during the benchmark\n", loss);
        return 1;
    }
    std::sort(ms.begin(), ms.end());
    const double median = ms.size() % 2 ? ms[ms.size() / 2] : 0.5 * (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]);
    const double mean = std::accumulate(ms.begin(), ms.end(), 0.0) / static_cast<double>(ms.size());
    const std::int64_t params = model->parameter_count();
    std::printf("bplab %s: %lld parameters (%.2f MiB f32; AdamW moments 2x that)\n", name.c_str(),
                static_cast<long long>(params), static_cast<double>(params) * 4.0 / kMiB);
    std::printf("bplab %s on %s, SBP keep %g%s%s, batch %lld, %lldx%lldx%lld, %lld classes, %d threads: median %.3f ms/step, mean %.3f ms/step, "
                "min %.3f, max %.3f over %lld steps (after %lld warm-up)\n",
                name.c_str(), device.str().c_str(), keep, cli::recompute_note(flags), amp ? ", bf16 autocast" : "",
                static_cast<long long>(batch), static_cast<long long>(image),
                static_cast<long long>(image), static_cast<long long>(in_channels), static_cast<long long>(classes), threads, median, mean, ms.front(),
                ms.back(), static_cast<long long>(steps), static_cast<long long>(warmup));
    std::printf("bplab memory (bplab's allocator: bytes of live tensors): persistent %.1f MiB (parameters, AdamW moments, "
                "batch; on a GPU also cuBLAS's workspace), peak total %.1f MiB, peak above persistent %.1f MiB; blocks held (reserved) %.1f MiB\n",
                static_cast<double>(persistent) / kMiB, static_cast<double>(peak) / kMiB,
                static_cast<double>(peak - persistent) / kMiB, static_cast<double>(after.reserved_bytes) / kMiB);
    std::printf("RESULT framework=bplab model=%s device=%s sbp_keep=%g recompute=%d tf32=%d amp=%s threads=%d ms_median=%.4f ms_mean=%.4f peak_mb=%.2f peak_above_mb=%.2f params=%lld reserved_mb=%.2f\n",
                name.c_str(), device.str().c_str(), keep, options.recompute ? 1 : 0, flags.on("tf32") ? 1 : 0, amp ? "bf16" : "none", threads, median, mean, static_cast<double>(peak) / kMiB,
                static_cast<double>(peak - persistent) / kMiB, static_cast<long long>(params),
                static_cast<double>(after.reserved_bytes) / kMiB);
    if (profile > 0) print_profile(*model, b, adamw, device, profile, median);
    return 0;
} catch (const std::bad_alloc&) {
    std::fprintf(stderr, "bench_model_step: out of memory (a model or batch too large for this machine?)\n");
    return 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_model_step: %s\n", e.what());
    return 1;
}
