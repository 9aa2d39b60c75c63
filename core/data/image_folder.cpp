// core/data/image_folder.cpp — the folder scan, torchvision's crop geometry, and the parallel decode of a batch.
// Each image's random crop comes from its own seed, drawn in batch order by the caller, so threads change nothing.
#include "core/data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <exception>
#include <filesystem>
#include <optional>
#include <stdexcept>

#include "core/round.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace bplab {
namespace fs = std::filesystem;
namespace {

bool is_image_name(const fs::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

/// The class folders of `dir`, or the images under one (in its subfolders too, as torchvision finds them),
/// as paths relative to `dir`, sorted.
std::vector<std::string> sorted_entries(const fs::path& dir, bool folders) {
    std::vector<std::string> out;
    if (folders) {
        for (const auto& e : fs::directory_iterator(dir))
            if (e.is_directory() && e.path().filename().string()[0] != '.') out.push_back(e.path().filename().string());
    } else {
        for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink);
             it != fs::recursive_directory_iterator(); ++it) {
            if (it->path().filename().string()[0] == '.') {  // hidden: neither taken nor searched
                if (it->is_directory()) it.disable_recursion_pending();
            } else if (it->is_regular_file() && is_image_name(it->path())) {
                out.push_back(it->path().lexically_relative(dir).string());
            }
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

ResizeCrop whole_window(std::int64_t top, std::int64_t left, std::int64_t h, std::int64_t w, std::int64_t size) {
    return {.top = top, .left = left, .height = h, .width = w, .resized_height = size, .resized_width = size,
            .out_top = 0, .out_left = 0, .out_height = size, .out_width = size, .flip = false};
}

struct Box {
    std::int64_t top, left, height, width;
};

/// A box as torchvision's RandomResizedCrop and timm's RandomErasing draw one in an h × w image: an area share
/// uniform in [min_share, max_share], an aspect ratio (width / height) log-uniform in [1/max_ratio, max_ratio],
/// sides rounded; if it does not fit (strictly smaller than the image when `strict`), ten draws at most. Then
/// a uniformly drawn position.
std::optional<Box> sample_box(std::int64_t h, std::int64_t w, double min_share, double max_share, double max_ratio, bool strict,
                              Rng& rng) {
    const double area = static_cast<double>(h * w), log_max = std::log(max_ratio);
    for (int attempt = 0; attempt < 10; ++attempt) {
        const double target = area * (min_share + (max_share - min_share) * rng.uniform());
        const double ratio = std::exp(-log_max + 2.0 * log_max * rng.uniform());
        const auto bw = round_half_even(std::sqrt(target * ratio)), bh = round_half_even(std::sqrt(target / ratio));
        if (strict ? bw < w && bh < h : bw > 0 && bw <= w && bh > 0 && bh <= h) {
            const auto top = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(h - bh + 1)));
            const auto left = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(w - bw + 1)));
            return Box{top, left, bh, bw};
        }
    }
    return std::nullopt;
}

/// RandAugment on a crop (size, size, 3) of floats in 0..255, through 8 bits as timm's runs on PIL's 8-bit crop
/// (rounded half up; PIL rounds each resize pass, so its crop can be a level apart). The 8-bit result comes back.
void rand_augment_crop(float* crop, std::int64_t size, const RandAugment& policy, Filter filter, Rng& rng) {
    Image img{.height = size, .width = size, .channels = 3, .pixels = std::vector<std::uint8_t>(static_cast<std::size_t>(size * size * 3))};
    std::uint8_t* __restrict bytes = img.pixels.data();
    const float* __restrict values = crop;
    for (std::int64_t p = 0; p < size * size * 3; ++p)  // in doubles, v + 0.5 is exact: half up, truncated
        bytes[p] = static_cast<std::uint8_t>(static_cast<double>(std::clamp(values[p], 0.0f, 255.0f)) + 0.5);
    rand_augment(img, policy, filter, rng);
    for (std::size_t p = 0; p < img.pixels.size(); ++p) crop[p] = img.pixels[p];
}

}  // namespace

ResizeCrop random_resized_crop(std::int64_t h, std::int64_t w, std::int64_t size, Rng& rng) {
    ResizeCrop plan;
    if (const auto box = sample_box(h, w, 0.08, 1.0, 4.0 / 3.0, false, rng)) {
        plan = whole_window(box->top, box->left, box->height, box->width, size);
    } else {  // the whole image, cut to the nearest allowed aspect ratio, centred
        std::int64_t cw = w, ch = h;
        const double in_ratio = static_cast<double>(w) / static_cast<double>(h);
        if (in_ratio < 3.0 / 4.0) ch = round_half_even(static_cast<double>(w) / (3.0 / 4.0));
        else if (in_ratio > 4.0 / 3.0) cw = round_half_even(static_cast<double>(h) * (4.0 / 3.0));
        plan = whole_window((h - ch) / 2, (w - cw) / 2, ch, cw, size);
    }
    plan.flip = rng.below(2) == 1;
    return plan;
}

ResizeCrop resize_center_crop(std::int64_t h, std::int64_t w, std::int64_t size) {
    const auto shorter = static_cast<std::int64_t>(static_cast<double>(size) / 0.875);
    // torchvision: the shorter side becomes `shorter`, the longer keeps the aspect ratio (truncated).
    const std::int64_t rh = h <= w ? shorter : static_cast<std::int64_t>(static_cast<double>(shorter) * static_cast<double>(h) / static_cast<double>(w));
    const std::int64_t rw = h <= w ? static_cast<std::int64_t>(static_cast<double>(shorter) * static_cast<double>(w) / static_cast<double>(h)) : shorter;
    // CenterCrop rounds its offsets: round((rh - size) / 2).
    return {.top = 0, .left = 0, .height = h, .width = w, .resized_height = rh, .resized_width = rw,
            .out_top = round_half_even(static_cast<double>(rh - size) / 2.0), .out_left = round_half_even(static_cast<double>(rw - size) / 2.0),
            .out_height = size, .out_width = size, .flip = false};
}

void random_erase(float* image, std::int64_t size, double p, Rng& rng) {
    if (p <= 0.0 || rng.uniform() >= p) return;
    const auto box = sample_box(size, size, 0.02, 1.0 / 3.0, 1.0 / 0.3, true, rng);
    if (!box) return;
    for (std::int64_t i = box->top; i < box->top + box->height; ++i)
        for (std::int64_t v = (i * size + box->left) * 3; v < (i * size + box->left + box->width) * 3; ++v)
            image[v] = static_cast<float>(rng.normal());
}

ImageFolder::ImageFolder(std::string root, std::int64_t image_size, std::vector<std::string> classes, Filter filter)
    : root_(std::move(root)), image_size_(image_size), classes_(std::move(classes)), filter_(filter) {
    if (image_size_ < 1) throw std::invalid_argument(root_ + ": image size " + std::to_string(image_size_) + " (expected >= 1)");
    if (!fs::exists(root_)) throw std::runtime_error("image folder '" + root_ + "' does not exist");
    if (!fs::is_directory(root_)) throw std::runtime_error("image folder '" + root_ + "' is not a folder");
    const auto found = sorted_entries(root_, true);
    if (found.empty())
        throw std::runtime_error("image folder '" + root_ + "' has no class folders (expected <root>/<class>/<image>.JPEG; "
                                 "ImageNet's val/ comes flat and must first be sorted into class folders)");
    const bool own = classes_.empty();
    if (own) classes_ = found;
    for (const auto& name : found) {
        const auto at = std::find(classes_.begin(), classes_.end(), name);
        if (at == classes_.end())
            throw std::runtime_error("image folder '" + root_ + "': class folder '" + name + "' is not one of the " +
                                     std::to_string(classes_.size()) + " training classes");
        const auto images = sorted_entries(fs::path(root_) / name, false);
        if (images.empty())
            throw std::runtime_error("image folder '" + root_ + "': class folder '" + name + "' holds no .jpg, .jpeg or .png file");
        for (const auto& f : images) {
            files_.push_back((fs::path(root_) / name / f).string());
            labels_.push_back(at - classes_.begin());
        }
    }
}

Batch ImageFolder::load(const std::vector<std::int64_t>& idx, const std::vector<std::uint64_t>& seeds, const TrainAugment& augment,
                        int threads) const {
    const auto b = static_cast<std::int64_t>(idx.size()), s = image_size_;
    if (!(augment.erase_prob >= 0.0 && augment.erase_prob <= 1.0))
        throw std::invalid_argument(root_ + ": random erasing probability " + std::to_string(augment.erase_prob) + " (expected 0..1)");
    if (!seeds.empty() && seeds.size() != idx.size())
        throw std::invalid_argument(root_ + ": " + std::to_string(seeds.size()) + " crop seeds for " + std::to_string(b) +
                                    " images (expected one per image, or none for the evaluation transform)");
    for (const auto i : idx)
        if (i < 0 || i >= size())
            throw std::out_of_range(root_ + ": example " + std::to_string(i) + " (it has " + std::to_string(size()) + ")");
    Tensor x = Tensor::empty({b, s, s, 3}, DType::f32, Device::cpu());
    std::vector<std::int64_t> y(idx.size());
    float* out = x.data<float>();
    std::vector<std::exception_ptr> errors(idx.size());
#ifdef _OPENMP
    if (threads <= 0) threads = omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
#endif
    for (std::int64_t n = 0; n < b; ++n) {
        try {
            const auto k = static_cast<std::size_t>(idx[static_cast<std::size_t>(n)]);
            const Image image = read_image(files_[k]);
            const bool train = !seeds.empty();
            Rng rng(train ? seeds[static_cast<std::size_t>(n)] : 0);
            const ResizeCrop plan = train ? random_resized_crop(image.height, image.width, s, rng)
                                          : resize_center_crop(image.height, image.width, s);
            float* dst = out + n * s * s * 3;  // (S, S, 3)
            resize_crop(image, plan, dst, filter_);
            if (train && augment.rand_augment) rand_augment_crop(dst, s, *augment.rand_augment, filter_, rng);
            for (std::int64_t p = 0; p < s * s * 3; p += 3)  // ToTensor, then Normalize, in torch's float operations
                for (std::int64_t c = 0; c < 3; ++c) dst[p + c] = (dst[p + c] / 255.0f - kImagenetMean[c]) / kImagenetStd[c];
            if (train) random_erase(dst, s, augment.erase_prob, rng);
            y[static_cast<std::size_t>(n)] = labels_[k];
        } catch (...) {
            errors[static_cast<std::size_t>(n)] = std::current_exception();
        }
    }
#ifndef _OPENMP
    (void)threads;
#endif
    for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
    return {x, Tensor::from_indices(y, {b})};
}

}  // namespace bplab
