// core/data/dataset.h — an in-memory labelled dataset and seeded minibatching over it.
// Each epoch draws a fresh permutation from the caller's Rng, so a seed fixes the whole run.
#pragma once
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/train/batch.h"

namespace bplab {

struct Dataset {
    std::string name;
    Tensor x;  ///< (N, ...) f32, normalised
    Tensor y;  ///< (N) i64
    std::int64_t size() const { return x.defined() ? x.size(0) : 0; }
};

/// The index sets of one epoch: shuffled (or in order), cut into batches of `batch_size`;
/// the last, smaller batch is dropped when `drop_last` is set.
std::vector<Tensor> epoch_batches(std::int64_t n, std::int64_t batch_size, bool shuffle, bool drop_last, Rng& rng);

/// The rows `idx` of a dataset, copied (no graph).
Batch make_batch(const Dataset& data, const Tensor& idx);

/// The first `n` examples of a dataset (a view-free copy), e.g. the toy batch of 4 digits.
Dataset take(const Dataset& data, std::int64_t n);

}  // namespace bplab
