// experiments/cli/mem.cpp — `bplab mem`: peak memory and bytes saved for backward of one training step,
// with and without SBP, as bplab's allocator counts them (the paper's Table 1 and Eq. 13, measured).
#include <chrono>
#include <cstdio>
#include <iostream>

#include "core/allocator.h"
#include "core/autocast.h"
#include "core/ops.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/run.h"
#include "models/registry.h"

namespace bplab::cli {
namespace {

struct StepMemory {
    std::int64_t params = 0, saved = 0, peak = 0;
    double seconds_forward = 0, seconds_backward = 0;
};

/// One forward + backward of the model on a random batch; bytes relative to the model alone (on a GPU, cuBLAS's
/// workspace, allocated when the backend was installed, is left out with everything else held before).
StepMemory measure(const std::string& name, std::int64_t batch, std::int64_t size, std::int64_t channels,
                   std::int64_t classes, const sbp::SbpConfig& config, bool recompute, std::uint64_t seed, Device device,
                   int warmup) {
    const std::int64_t held_before = memory_stats(device).current_bytes;
    auto model = make_model(name, {.classes = classes, .in_channels = channels, .recompute = recompute, .seed = seed,
                                   .image_size = size});
    model->to(device);
    model->set_sbp(config);
    model->begin_step();
    StepMemory m;
    m.params = memory_stats(device).current_bytes - held_before;
    Rng rng(seed);
    std::vector<double> xs(static_cast<std::size_t>(batch * size * size * channels));
    for (auto& v : xs) v = rng.normal();
    std::vector<std::int64_t> ys(static_cast<std::size_t>(batch));
    for (auto& v : ys) v = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(classes)));
    const Tensor x = Tensor::from_vector(xs, {batch, size, size, channels}).to(device);
    const Tensor y = Tensor::from_indices(ys, {batch}).to(device);
    for (int i = 0; i < warmup; ++i) {  // first touches of fresh memory would otherwise be timed
        backward(cross_entropy(model->forward(x), y));
        model->zero_grad();
        model->begin_step();
    }
    const std::int64_t before = memory_stats(device).current_bytes;
    reset_peak(device);
    const auto t0 = std::chrono::steady_clock::now();
    Tensor loss = cross_entropy(model->forward(x), y);
    loss.item();  // waits for the device
    const auto t1 = std::chrono::steady_clock::now();
    m.saved = memory_stats(device).current_bytes - before;
    backward(loss);
    loss.item();  // waits for the device
    const auto t2 = std::chrono::steady_clock::now();
    m.peak = memory_stats(device).peak_bytes - held_before - m.params;
    m.seconds_forward = std::chrono::duration<double>(t1 - t0).count();
    m.seconds_backward = std::chrono::duration<double>(t2 - t1).count();
    return m;
}

double mib(std::int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

}  // namespace

int mem_command(int argc, char** argv) {
    Flags flags("bplab mem",
                "Runs one training step (forward, loss, backward; no optimiser) of a model on a random batch, exact and\n"
                "with SBP, and reports what bplab's allocator saw: bytes saved for backward (held after the forward),\n"
                "the step's peak above the parameters, and the SBP/exact ratios.");
    flags.add("model", "vit-tiny", "model name (see bplab train --help)")
        .add("batch", "32", "batch size")
        .add("image-size", "0", "input resolution (0: the model's own)")
        .add("in-channels", "3", "input channels")
        .add("classes", "1000", "classes")
        .add("seed", "0", "seed of the weights and the batch")
        .add("device", "cpu", "cpu | cuda (bytes from that device's allocator)")
        .add("warmup", "1", "untimed steps before the measured one (the seconds then exclude first-touch costs)");
    add_recompute_flag(flags);
    add_amp_flag(flags);
    add_sbp_flags(flags, "0.5");
    add_thread_flag(flags);
    if (!flags.parse(argc, argv, 2)) return 0;
    apply_threads(flags);
    const std::string name = flags.str("model");
    const std::int64_t size = flags.integer("image-size") ? flags.integer("image-size") : model_image_size(name);
    if (size < 1) throw std::invalid_argument("--image-size " + flags.str("image-size") + ": expected >= 1 (0: the model's)");
    const std::int64_t batch = flags.integer("batch");
    if (batch < 1) throw std::invalid_argument("--batch " + flags.str("batch") + ": expected >= 1");
    const auto config = sbp_config_from(flags);
    const auto seed = static_cast<std::uint64_t>(flags.integer("seed"));
    const Device device = use_device(flags.str("device"));
    const std::int64_t warmup = flags.integer("warmup");
    if (warmup < 0 || warmup > 100) throw std::invalid_argument("--warmup " + flags.str("warmup") + ": expected 0..100");
    const AutocastGuard autocast(amp_from(flags));  // both measured steps
    const auto measure_with = [&](const sbp::SbpConfig& c) {
        empty_cache(device);  // the exact run's cached blocks would otherwise sit beside the SBP run's
        return measure(name, batch, size, flags.integer("in-channels"), flags.integer("classes"), c, flags.on("recompute"), seed, device,
                       static_cast<int>(warmup));
    };
    const StepMemory exact = measure_with(sbp::SbpConfig{}), split = measure_with(config);
    std::printf("bplab mem: %s on %s, batch %lld, %lldx%lld, SBP keep %g (%s mask, attention %s)%s%s\n", name.c_str(),
                device.str().c_str(),
                static_cast<long long>(batch), static_cast<long long>(size), static_cast<long long>(size), config.keep,
                sbp::to_string(config.mask).c_str(), sbp::attn_mode_name(config.attn),
                recompute_note(flags), autocast_dtype() ? ", bf16 autocast" : "");
    std::printf("| %-28s | %12s | %12s | %7s |\n", "MiB", "exact", "SBP", "ratio");
    std::printf("|------------------------------|-------------:|-------------:|--------:|\n");
    std::printf("| %-28s | %12.1f | %12.1f | %7s |\n", "parameters", mib(exact.params), mib(split.params), "");
    std::printf("| %-28s | %12.1f | %12.1f | %7.3f |\n", "saved for backward", mib(exact.saved), mib(split.saved),
                static_cast<double>(split.saved) / static_cast<double>(exact.saved));
    std::printf("| %-28s | %12.1f | %12.1f | %7.3f |\n", "step peak above parameters", mib(exact.peak), mib(split.peak),
                static_cast<double>(split.peak) / static_cast<double>(exact.peak));
    std::printf("| %-28s | %12.1f | %12.1f | %7.3f |\n", "peak incl. parameters", mib(exact.peak + exact.params),
                mib(split.peak + split.params),
                static_cast<double>(split.peak + split.params) / static_cast<double>(exact.peak + exact.params));
    std::printf("| %-28s | %12.2f | %12.2f | %7.3f |\n", "forward seconds", exact.seconds_forward, split.seconds_forward,
                split.seconds_forward / exact.seconds_forward);
    std::printf("| %-28s | %12.2f | %12.2f | %7.3f |\n", "backward seconds", exact.seconds_backward, split.seconds_backward,
                split.seconds_backward / exact.seconds_backward);
    return 0;
}

}  // namespace bplab::cli
