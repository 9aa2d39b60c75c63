// core/data/idx_dataset.h — image classification sets stored as four IDX files (MNIST, Fashion-MNIST).
// Images come out channels-last (N, 28, 28, 1), normalised with the dataset's mean and std.
#pragma once
#include <string>

#include "core/data/dataset.h"

namespace bplab {

struct IdxDatasetSpec {
    std::string name;       ///< "mnist", "fashion-mnist"
    double mean, std;       ///< of the raw pixels scaled to [0, 1]
    std::string hint;       ///< how to get the files, for the error message
};

/// The built-in specs: "mnist" and "fashion-mnist"; throws listing them otherwise.
const IdxDatasetSpec& idx_dataset_spec(const std::string& name);

/// Reads train-/t10k- images and labels from `dir` (each as NAME or NAME.gz), checks counts and shapes,
/// and normalises pixels: (v/255 − mean) / std. Images are (N, 28, 28, 1) f32, labels (N) i64 in 0..9.
TrainTest load_idx_dataset(const std::string& dir, const IdxDatasetSpec& spec);

/// The default folder of a dataset: data/mnist, or Debian's /usr/share/datasets/fashion-mnist.
std::string default_data_dir(const std::string& name);

}  // namespace bplab
