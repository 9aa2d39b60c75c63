// experiments/cli/check_data.cpp — `bplab check-data`: decodes every image of an ImageNet-style dataset once, so a
// file that cannot be read is found before training (where it would stop the run at its batch), not mid-epoch.
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "core/data/folder_dataset.h"
#include "core/data/image_check.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/progress.h"

namespace bplab::cli {
namespace {

/// Checks one split; prints its summary and every unreadable file. Returns how many there are.
std::int64_t check_split(const std::string& name, const ImageFolder& folder, int threads, bool progress) {
    ProgressBar bar(progress);
    const ImageCheck r = check_images(folder, threads, [&](std::int64_t done, std::int64_t total) {
        bar.update("check-data " + name, done, total, std::nan(""));
    });
    bar.clear();
    const auto bad = static_cast<std::int64_t>(r.unreadable.size());
    std::printf("%s: %lld images in %zu classes, %lld unreadable", folder.root().c_str(), static_cast<long long>(r.checked),
                folder.classes().size(), static_cast<long long>(bad));
    if (!r.smallest_file.empty())
        std::printf("; smallest %lldx%lld (%s)", static_cast<long long>(r.smallest_width), static_cast<long long>(r.smallest_height),
                    r.smallest_file.c_str());
    std::printf("\n");
    for (const auto& u : r.unreadable)  // read_image's messages name the file; others (out of memory) do not
        std::printf("  %s\n", u.reason.find(u.file) != std::string::npos ? u.reason.c_str() : (u.file + ": " + u.reason).c_str());
    std::fflush(stdout);
    return bad;
}

}  // namespace

int check_data_command(int argc, char** argv) {
    Flags flags("bplab check-data",
                "Decodes every image of <data-dir>/train and <data-dir>/val (ImageNet's layout, as `train --data folder`\n"
                "reads it) and lists the files that cannot be read, with the reason; exits 1 if there are any (or on\n"
                "an error, such as a missing folder), 0 if every image can be read.\n"
                "Training stops at such a file when its batch comes; this finds them first.");
    flags.add("data-dir", "", "the folder holding train/<class>/*.JPEG and val/<class>/*.JPEG")
        .add_switch("no-progress", "no progress bar (it is drawn only on a terminal anyway)");
    add_thread_flag(flags);
    if (!flags.parse(argc, argv, 2)) return 0;
    if (flags.str("data-dir").empty()) throw std::invalid_argument("--data-dir: give the folder holding train/ and val/");
    const int threads = apply_threads(flags);
    const TrainTest data = load_image_folders(flags.str("data-dir"), 1);
    const bool progress = !flags.on("no-progress");
    const std::int64_t bad = check_split("train", *data.train.files, threads, progress) +
                             check_split("val", *data.test.files, threads, progress);
    if (bad > 0) {
        std::printf("%lld unreadable file%s: remove or replace %s before training\n", static_cast<long long>(bad), bad == 1 ? "" : "s",
                    bad == 1 ? "it" : "them");
        return 1;
    }
    std::printf("every image can be read\n");
    return 0;
}

}  // namespace bplab::cli
