// core/data/image_folder.h — labelled image folders (ImageNet's layout: <root>/<class>/<image>.JPEG), decoded
// and transformed batch by batch, as torchvision's ImageFolder with the usual ImageNet transforms does it.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/data/imagenet.h"
#include "core/data/rand_augment.h"
#include "core/data/resize.h"
#include "core/rng.h"
#include "core/train/batch.h"

namespace bplab {

/// torchvision's RandomResizedCrop(scale (0.08, 1), ratio (3/4, 4/3)) of an h × w image to size × size: up to ten
/// draws of an area fraction and a log-uniform aspect ratio, else the centre crop of the clamped ratio; then a
/// horizontal flip with probability 1/2.
ResizeCrop random_resized_crop(std::int64_t h, std::int64_t w, std::int64_t size, Rng& rng);
/// The evaluation transform: Resize(size / 0.875) of the shorter side (256 for 224), then CenterCrop(size).
ResizeCrop resize_center_crop(std::int64_t h, std::int64_t w, std::int64_t size);
/// timm's RandomErasing(p, mode "pixel") of a normalised image (size, size, 3): with probability p, one box of
/// 2–33 % of the area, aspect ratio 0.3–3.3 (log-uniform; up to ten draws, which must fit strictly inside),
/// is filled with N(0, 1) noise, a draw per pixel and channel.
void random_erase(float* image, std::int64_t size, double p, Rng& rng);

/// What a training image gets after RandomResizedCrop and the flip, in timm's order, from the image's own seed.
struct TrainAugment {
    /// timm's RandAugment, on the crop rounded to 8 bits (as PIL's crop is), before normalising.
    std::optional<RandAugment> rand_augment;
    /// RandomErasing's probability, on the normalised image.
    double erase_prob = 0.0;
};

class ImageFolder {
public:
    /// Scans `root`: each subfolder is a class, labelled by its rank in name order, and each .jpg, .jpeg or .png
    /// file under it (any case, subfolders too) an example, in name order; other files and names starting with
    /// a dot (files and folders) are ignored. Whatever its name says, a file is read as the JPEG or PNG it is. With `classes` (a validation
    /// folder gets its training folder's), labels follow that list and an unknown subfolder is an error.
    /// Images are resized with `filter`, in training crops and evaluation alike.
    /// Throws naming the folder when it is missing, has no class folders or a class without images.
    ImageFolder(std::string root, std::int64_t image_size, std::vector<std::string> classes = {}, Filter filter = Filter::bilinear);

    std::int64_t size() const { return static_cast<std::int64_t>(files_.size()); }
    std::int64_t image_size() const { return image_size_; }
    Filter filter() const { return filter_; }
    const std::string& root() const { return root_; }
    const std::vector<std::string>& classes() const { return classes_; }
    const std::string& file(std::int64_t i) const { return files_.at(static_cast<std::size_t>(i)); }

    /// The examples `idx` as a CPU batch: x (B, size, size, 3) f32, normalised with ImageNet's mean and std, and
    /// y (B) i64. With `seeds` (one per example) each image gets random_resized_crop, then `augment`, from
    /// Rng(seed); without, resize_center_crop. Images are decoded in parallel on `threads` OpenMP threads
    /// (0: the caller's default); the result does not depend on how many.
    Batch load(const std::vector<std::int64_t>& idx, const std::vector<std::uint64_t>& seeds = {}, const TrainAugment& augment = {},
               int threads = 0) const;

private:
    std::string root_;
    std::int64_t image_size_;
    std::vector<std::string> classes_;
    Filter filter_;
    std::vector<std::string> files_;
    std::vector<std::int64_t> labels_;
};

}  // namespace bplab
