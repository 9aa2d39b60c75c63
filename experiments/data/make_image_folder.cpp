// experiments/data/make_image_folder.cpp — writes a synthetic JPEG dataset in ImageNet's layout
// (<out>/train/<class>/*.JPEG, <out>/val/<class>/*.JPEG): for the tests of --data folder and the decode benchmark.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numbers>
#include <stdexcept>

#include "core/data/image_io.h"
#include "core/rng.h"
#include "experiments/cli/flags.h"

namespace {

/// Class k's image: a smooth colour gradient whose direction and tint depend on k, with pixel noise, so that a
/// small model can learn the classes and a resize has structure to get wrong.
bplab::Image synthetic_image(std::int64_t label, std::int64_t h, std::int64_t w, bool grey, bplab::Rng& rng) {
    bplab::Image img{.height = h, .width = w, .channels = grey ? 1 : 3, .pixels = {}};
    img.pixels.resize(static_cast<std::size_t>(h * w * img.channels));
    const double angle = 2.0 * std::numbers::pi * static_cast<double>(label) / 7.0;
    for (std::int64_t i = 0; i < h; ++i)
        for (std::int64_t j = 0; j < w; ++j) {
            const double t = (std::cos(angle) * static_cast<double>(i) / static_cast<double>(h) +
                              std::sin(angle) * static_cast<double>(j) / static_cast<double>(w) + 1.0) / 2.0;
            for (std::int64_t c = 0; c < img.channels; ++c) {
                const double tint = 0.5 + 0.5 * std::sin(angle + 2.1 * static_cast<double>(c));
                const double v = 255.0 * (0.15 + 0.7 * t * tint) + 12.0 * (rng.uniform() - 0.5);
                img.pixels[static_cast<std::size_t>((i * w + j) * img.channels + c)] =
                    static_cast<std::uint8_t>(std::lround(std::fmin(255.0, std::fmax(0.0, v))));
            }
        }
    return img;
}

}  // namespace

int main(int argc, char** argv) {
    using bplab::cli::Flags;
    Flags flags("make_image_folder", "writes a synthetic JPEG dataset: <out>/train/<class>/*.JPEG and <out>/val/<class>/*.JPEG");
    flags.add("out", "", "folder to create (must not exist yet)")
        .add("classes", "3", "number of classes")
        .add("train", "8", "training images per class")
        .add("val", "2", "validation images per class")
        .add("min-side", "24", "smallest image side in pixels")
        .add("max-side", "64", "largest image side in pixels")
        .add("grey-every", "0", "every Nth image is greyscale (0: none)")
        .add("quality", "90", "JPEG quality 1..100")
        .add("seed", "1", "seed of sizes and noise");
    try {
        if (!flags.parse(argc, argv, 1)) return 0;
        const std::string out = flags.str("out");
        if (out.empty()) throw std::invalid_argument("--out: give the folder to create");
        if (std::filesystem::exists(out)) throw std::invalid_argument("--out " + out + ": already exists");
        const std::int64_t classes = flags.integer("classes"), lo = flags.integer("min-side"), hi = flags.integer("max-side"),
                           grey_every = flags.integer("grey-every");
        // All checked before the folder is made.
        const auto require = [&](const char* flag, bool ok, const char* expected) {
            if (!ok) throw std::invalid_argument(std::string("--") + flag + " " + flags.str(flag) + ": expected " + expected);
        };
        for (const char* flag : {"classes", "train", "val"}) require(flag, flags.integer(flag) >= 1, ">= 1");
        require("min-side", lo >= 1, ">= 1");
        require("max-side", hi >= lo && hi <= 65500, "--min-side..65500");
        require("grey-every", grey_every >= 0, ">= 0");
        require("quality", flags.integer("quality") >= 1 && flags.integer("quality") <= 100, "1..100");
        bplab::Rng rng(static_cast<std::uint64_t>(flags.integer("seed")));
        std::int64_t written = 0;
        for (const char* split : {"train", "val"})
            for (std::int64_t k = 0; k < classes; ++k) {
                char name[32];
                std::snprintf(name, sizeof name, "n%08lld", static_cast<long long>(k));  // ImageNet-like wnids
                const auto dir = std::filesystem::path(out) / split / name;
                std::filesystem::create_directories(dir);
                for (std::int64_t i = 0; i < flags.integer(split); ++i, ++written) {
                    const auto h = lo + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(hi - lo + 1)));
                    const auto w = lo + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(hi - lo + 1)));
                    const bool grey = grey_every > 0 && (written + 1) % grey_every == 0;
                    bplab::write_jpeg((dir / (std::string(name) + "_" + std::to_string(i) + ".JPEG")).string(),
                                      synthetic_image(k, h, w, grey, rng), static_cast<int>(flags.integer("quality")));
                }
            }
        std::printf("wrote %lld images to %s\n", static_cast<long long>(written), out.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "make_image_folder: %s\n", e.what());
        return 1;
    }
}
