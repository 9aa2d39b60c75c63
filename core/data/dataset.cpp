// core/data/dataset.cpp — epoch index sets and batch assembly.
// Batches are gathered rows; the dataset itself is never reordered.
#include "core/data/dataset.h"

#include <stdexcept>

#include "core/autograd.h"
#include "core/ops.h"

namespace bplab {

std::vector<std::int64_t> index_list(const Tensor& idx) {
    const Tensor i = idx.to(Device::cpu()).to(DType::i64);
    return {i.data<std::int64_t>(), i.data<std::int64_t>() + i.numel()};
}

std::vector<Tensor> epoch_batches(std::int64_t n, std::int64_t batch_size, bool shuffle, bool drop_last, Rng& rng) {
    if (batch_size <= 0) throw std::invalid_argument("batches: batch size " + std::to_string(batch_size) + " (expected > 0)");
    std::vector<std::int64_t> order;
    if (shuffle) {
        order = rng.permutation(n);
    } else {
        order.resize(static_cast<std::size_t>(n));
        for (std::int64_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
    }
    std::vector<Tensor> out;
    for (std::int64_t start = 0; start < n; start += batch_size) {
        const std::int64_t len = std::min(batch_size, n - start);
        if (len < batch_size && drop_last) break;
        out.push_back(Tensor::from_indices({order.begin() + start, order.begin() + start + len}, {len}));
    }
    return out;
}

Batch make_batch(const Dataset& data, const Tensor& idx) {
    NoGradGuard no_grad;
    if (data.files) return data.files->load(index_list(idx));
    return {gather_rows(data.x, idx, 0), gather_rows(data.y, idx, 0)};
}

Dataset take(const Dataset& data, std::int64_t n) {
    if (data.files)
        throw std::invalid_argument(data.name + ": the first " + std::to_string(n) + " examples of an image folder would be "
                                    "of one class (expected an in-memory dataset; make a smaller folder instead)");
    if (n > data.size())
        throw std::invalid_argument(data.name + ": asked for " + std::to_string(n) + " examples, it has " +
                                    std::to_string(data.size()));
    std::vector<std::int64_t> idx(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) idx[static_cast<std::size_t>(i)] = i;
    Batch b = make_batch(data, Tensor::from_indices(idx, {n}));
    return {data.name, b.x, b.y};
}

}  // namespace bplab
