// core/data/mnist.cpp — loading and normalising MNIST IDX files.
// Errors name the folder, the file and what the loader expected to find there.
#include "core/data/mnist.h"

#include <filesystem>
#include <stdexcept>

#include "core/data/idx.h"

namespace bplab {
namespace {

std::string find_file(const std::string& dir, const std::string& name) {
    for (const std::string& candidate : {dir + "/" + name, dir + "/" + name + ".gz"})
        if (std::filesystem::exists(candidate)) return candidate;
    throw std::runtime_error("mnist: " + dir + ": neither " + name + " nor " + name +
                             ".gz found (run experiments/data/make_mnist_idx.py --out " + dir + ")");
}

Dataset load_split(const std::string& dir, const std::string& prefix, const std::string& name) {
    const std::string image_path = find_file(dir, prefix + "-images-idx3-ubyte");
    const std::string label_path = find_file(dir, prefix + "-labels-idx1-ubyte");
    const IdxArray images = read_idx(image_path, 3);
    const IdxArray labels = read_idx(label_path, 1);
    if (images.dims[1] != 28 || images.dims[2] != 28)
        throw std::runtime_error("mnist: " + image_path + ": images of " + std::to_string(images.dims[1]) + "x" +
                                 std::to_string(images.dims[2]) + " (expected 28x28)");
    if (images.dims[0] != labels.dims[0])
        throw std::runtime_error("mnist: " + image_path + " holds " + std::to_string(images.dims[0]) + " images but " +
                                 label_path + " holds " + std::to_string(labels.dims[0]) + " labels");
    const std::int64_t n = images.dims[0];
    Tensor x = Tensor::empty({n, 784}, DType::f32);
    Tensor y = Tensor::empty({n}, DType::i64);
    float* px = x.data<float>();
    for (std::size_t i = 0; i < images.data.size(); ++i)
        px[i] = (static_cast<float>(images.data[i]) / 255.0f - 0.1307f) / 0.3081f;
    auto* py = y.data<std::int64_t>();
    for (std::int64_t i = 0; i < n; ++i) {
        const int label = labels.data[static_cast<std::size_t>(i)];
        if (label > 9)
            throw std::runtime_error("mnist: " + label_path + ": label " + std::to_string(label) + " at index " +
                                     std::to_string(i) + " (expected 0..9)");
        py[i] = label;
    }
    return {name, x, y};
}

}  // namespace

TrainTest load_mnist(const std::string& dir) {
    if (!std::filesystem::is_directory(dir))
        throw std::runtime_error("mnist: data folder '" + dir + "' does not exist (run experiments/data/make_mnist_idx.py --out " +
                                 dir + ")");
    return {load_split(dir, "train", "mnist/train"), load_split(dir, "t10k", "mnist/test")};
}

}  // namespace bplab
