// core/data/dataset.h — a labelled dataset (in memory, or image files decoded per batch) and seeded minibatching.
// Each epoch draws a fresh permutation from the caller's Rng, so a seed fixes the whole run.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/data/image_folder.h"
#include "core/rng.h"
#include "core/train/batch.h"

namespace bplab {

struct Dataset {
    std::string name;
    Tensor x;  ///< (N, ...) f32, normalised
    Tensor y;  ///< (N) i64
    /// Instead of x and y: images read from files when a batch is made (ImageNet-style folders).
    std::shared_ptr<const ImageFolder> files = nullptr;
    std::int64_t size() const { return files ? files->size() : x.defined() ? x.size(0) : 0; }
};

struct TrainTest {
    Dataset train, test;
};

/// The index sets of one epoch: shuffled (or in order), cut into batches of `batch_size`;
/// the last, smaller batch is dropped when `drop_last` is set.
std::vector<Tensor> epoch_batches(std::int64_t n, std::int64_t batch_size, bool shuffle, bool drop_last, Rng& rng);

/// An index tensor's values (any device, i32 or i64).
std::vector<std::int64_t> index_list(const Tensor& idx);

/// The rows `idx` of a dataset, copied (no graph); from files, decoded with the evaluation transform.
Batch make_batch(const Dataset& data, const Tensor& idx);

/// The first `n` examples of a dataset (a view-free copy), e.g. the toy batch of 4 digits.
Dataset take(const Dataset& data, std::int64_t n);

}  // namespace bplab
