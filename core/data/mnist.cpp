// core/data/mnist.cpp — MNIST with flat images, as the MLP experiments read it.
// A reshape of the channels-last IDX images; no copy.
#include "core/data/mnist.h"

namespace bplab {

TrainTest load_mnist(const std::string& dir) {
    TrainTest d = load_idx_dataset(dir, idx_dataset_spec("mnist"));
    d.train.x = d.train.x.reshape({-1, 784});
    d.test.x = d.test.x.reshape({-1, 784});
    return d;
}

}  // namespace bplab
