// core/data/idx_dataset.cpp — loading and normalising IDX image classification sets.
// Errors name the folder, the file and what the loader expected to find there.
#include "core/data/idx_dataset.h"

#include <filesystem>
#include <stdexcept>

#include "core/data/idx.h"

namespace bplab {
namespace {

std::string find_file(const std::string& dir, const std::string& name, const IdxDatasetSpec& spec) {
    for (const std::string& candidate : {dir + "/" + name, dir + "/" + name + ".gz"})
        if (std::filesystem::exists(candidate)) return candidate;
    throw std::runtime_error(spec.name + ": " + dir + ": neither " + name + " nor " + name + ".gz found (" + spec.hint + ")");
}

Dataset load_split(const std::string& dir, const std::string& prefix, const std::string& split, const IdxDatasetSpec& spec) {
    const std::string image_path = find_file(dir, prefix + "-images-idx3-ubyte", spec);
    const std::string label_path = find_file(dir, prefix + "-labels-idx1-ubyte", spec);
    const IdxArray images = read_idx(image_path, 3);
    const IdxArray labels = read_idx(label_path, 1);
    if (images.dims[1] != 28 || images.dims[2] != 28)
        throw std::runtime_error(spec.name + ": " + image_path + ": images of " + std::to_string(images.dims[1]) + "x" +
                                 std::to_string(images.dims[2]) + " (expected 28x28)");
    if (images.dims[0] != labels.dims[0])
        throw std::runtime_error(spec.name + ": " + image_path + " holds " + std::to_string(images.dims[0]) +
                                 " images but " + label_path + " holds " + std::to_string(labels.dims[0]) + " labels");
    const std::int64_t n = images.dims[0];
    Tensor x = Tensor::empty({n, 28, 28, 1}, DType::f32);
    Tensor y = Tensor::empty({n}, DType::i64);
    float* px = x.data<float>();
    const auto mean = static_cast<float>(spec.mean), std = static_cast<float>(spec.std);
    for (std::size_t i = 0; i < images.data.size(); ++i) px[i] = (static_cast<float>(images.data[i]) / 255.0f - mean) / std;
    auto* py = y.data<std::int64_t>();
    for (std::int64_t i = 0; i < n; ++i) {
        const int label = labels.data[static_cast<std::size_t>(i)];
        if (label > 9)
            throw std::runtime_error(spec.name + ": " + label_path + ": label " + std::to_string(label) + " at index " +
                                     std::to_string(i) + " (expected 0..9)");
        py[i] = label;
    }
    return {spec.name + "/" + split, x, y};
}

}  // namespace

const IdxDatasetSpec& idx_dataset_spec(const std::string& name) {
    static const IdxDatasetSpec specs[] = {
        {"mnist", 0.1307, 0.3081, "run experiments/data/make_mnist_idx.py --out <dir>"},
        {"fashion-mnist", 0.2860, 0.3530, "install Debian's dataset-fashion-mnist, or pass --data-dir"},
    };
    for (const auto& s : specs)
        if (s.name == name) return s;
    throw std::invalid_argument("dataset '" + name + "' is unknown (expected mnist or fashion-mnist)");
}

TrainTest load_idx_dataset(const std::string& dir, const IdxDatasetSpec& spec) {
    if (!std::filesystem::is_directory(dir))
        throw std::runtime_error(spec.name + ": data folder '" + dir + "' " +
                                 (std::filesystem::exists(dir) ? "is not a folder" : "does not exist") + " (" + spec.hint + ")");
    return {load_split(dir, "train", "train", spec), load_split(dir, "t10k", "test", spec)};
}

std::string default_data_dir(const std::string& name) {
    return name == "fashion-mnist" ? "/usr/share/datasets/fashion-mnist" : "data/" + name;
}

}  // namespace bplab
