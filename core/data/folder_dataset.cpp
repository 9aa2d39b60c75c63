// core/data/folder_dataset.cpp — the train/ and val/ folders of an ImageNet-style dataset.
// Only the file lists are held in memory; images are decoded when a batch is made.
#include "core/data/folder_dataset.h"

#include <filesystem>
#include <stdexcept>

namespace bplab {

TrainTest load_image_folders(const std::string& dir, std::int64_t image_size, Filter filter) {
    if (!std::filesystem::is_directory(dir))
        throw std::runtime_error("image folders: '" + dir + "' is not a folder (expected <dir>/train/<class>/*.JPEG and <dir>/val/<class>/*.JPEG)");
    std::filesystem::path folder = std::filesystem::path(dir).lexically_normal();
    if (folder.filename().empty()) folder = folder.parent_path();  // "imagenet/"
    const std::string name = folder.filename().string();
    auto train = std::make_shared<const ImageFolder>((std::filesystem::path(dir) / "train").string(), image_size,
                                                    std::vector<std::string>{}, filter);
    if (train->classes().size() < 2)
        throw std::runtime_error("image folders: '" + train->root() + "' has " + std::to_string(train->classes().size()) +
                                 " class folder (expected at least 2 to train a classifier)");
    auto test = std::make_shared<const ImageFolder>((std::filesystem::path(dir) / "val").string(), image_size, train->classes(), filter);
    return {Dataset{.name = name + "/train", .x = {}, .y = {}, .files = train}, Dataset{.name = name + "/val", .x = {}, .y = {}, .files = test}};
}

}  // namespace bplab
