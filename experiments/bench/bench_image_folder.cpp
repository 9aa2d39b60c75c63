// experiments/bench/bench_image_folder.cpp — images per second of ImageFolder::load: JPEG decode, crop, resize,
// RandAugment, normalise. Twin of image_folder_torch.py (PIL + torch, as torchvision's and timm's transforms do it).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "core/data/image_folder.h"
#include "experiments/cli/commands.h"

using namespace bplab;

int main(int argc, char** argv) try {
    cli::Flags flags("bench_image_folder",
                     "Times ImageFolder::load on a folder of JPEG class folders (e.g. <dir>/train from make_image_folder):\n"
                     "the training transform (RandomResizedCrop + flip [+ RandAugment]) or the evaluation one (resize + centre crop).");
    flags.add("dir", "", "class folders of JPEGs")
        .add("size", "224", "output side")
        .add("batch", "256", "images per batch")
        .add("batches", "4", "timed batches (after one untimed)")
        .add("interpolation", "bilinear", "resize filter: bilinear | bicubic")
        .add("rand-augment", "", "timm's RandAugment spec for the training transform (e.g. rand-m9-mstd0.5-inc1; empty: off)")
        .add_switch("eval", "the evaluation transform instead of the training one");
    cli::add_thread_flag(flags);
    if (!flags.parse(argc, argv, 1)) return 0;
    const int threads = cli::apply_threads(flags);
    const auto scan_start = std::chrono::steady_clock::now();
    const ImageFolder folder(flags.str("dir"), flags.integer("size"), {}, parse_filter(flags.str("interpolation"), "--interpolation"));
    TrainAugment augment;
    if (!flags.str("rand-augment").empty()) augment.rand_augment = parse_rand_augment(flags.str("rand-augment"), "--rand-augment");
    if (augment.rand_augment && flags.on("eval"))
        throw std::invalid_argument("--rand-augment " + flags.str("rand-augment") + ": for the training transform, not with --eval");
    const double scan_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - scan_start).count();
    std::printf("scanned %lld files in %zu classes in %.3f s\n", static_cast<long long>(folder.size()), folder.classes().size(), scan_s);
    std::fflush(stdout);
    const std::int64_t batch = flags.integer("batch"), batches = flags.integer("batches");
    if (batch < 1 || batches < 1) throw std::invalid_argument("--batch and --batches: expected >= 1");
    Rng rng(1);
    const auto order = rng.permutation(folder.size());
    std::vector<double> ms;
    for (std::int64_t b = 0; b <= batches; ++b) {
        std::vector<std::int64_t> idx;
        std::vector<std::uint64_t> seeds;
        for (std::int64_t i = 0; i < batch; ++i) {
            idx.push_back(order[static_cast<std::size_t>((b * batch + i) % folder.size())]);
            if (!flags.on("eval")) seeds.push_back(rng.next_u64());
        }
        const auto start = std::chrono::steady_clock::now();
        const Batch out = folder.load(idx, seeds, augment, threads);
        if (b > 0) ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
        if (out.x.size(0) != batch)
            throw std::runtime_error("load gave " + std::to_string(out.x.size(0)) + " images (expected " + std::to_string(batch) + ")");
    }
    std::sort(ms.begin(), ms.end());
    const double median = ms[ms.size() / 2];
    std::printf("RESULT framework=bplab transform=%s interpolation=%s rand_augment=%s threads=%d batch=%lld ms_median=%.2f "
                "images_per_s=%.1f\n", flags.on("eval") ? "eval" : "train", flags.str("interpolation").c_str(),
                augment.rand_augment ? flags.str("rand-augment").c_str() : "off", threads, static_cast<long long>(batch), median,
                1000.0 * static_cast<double>(batch) / median);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_image_folder: %s\n", e.what());
    return 1;
}
