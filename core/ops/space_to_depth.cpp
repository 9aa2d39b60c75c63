// core/ops/space_to_depth.cpp — s x s pixel blocks to channels (and back), channels-last.
// ConvNeXt's 2x2 stride-2 downsampling is space_to_depth then linear, which SBP can split by rows.
#include <stdexcept>

#include "backends/backend.h"
#include "core/ops.h"
#include "core/ops/check.h"

namespace bplab {
namespace {

void require_block_size(const char* op, std::int64_t s) {
    if (s < 1) throw std::invalid_argument(std::string(op) + ": block size " + std::to_string(s) + " (expected at least 1)");
}

Tensor space_to_depth_raw(const Tensor& x, std::int64_t s) {
    Tensor out = Tensor::empty({x.size(0), x.size(1) / s, x.size(2) / s, s * s * x.size(3)}, x.dtype(), x.device());
    backend_for(x.device()).space_to_depth(out, x, s);
    return out;
}

Tensor depth_to_space_raw(const Tensor& x, std::int64_t s) {
    Tensor out = Tensor::empty({x.size(0), x.size(1) * s, x.size(2) * s, x.size(3) / (s * s)}, x.dtype(), x.device());
    backend_for(x.device()).depth_to_space(out, x, s);
    return out;
}

}  // namespace

Tensor space_to_depth(const Tensor& x, std::int64_t s) {
    if (!x.defined()) throw std::invalid_argument("space_to_depth: input is undefined");
    detail::require_nhwc("space_to_depth", x);
    require_block_size("space_to_depth", s);
    if (x.size(1) % s != 0 || x.size(2) % s != 0)
        throw std::invalid_argument("space_to_depth: input " + shape_str(x.shape()) + " has height " +
                                    std::to_string(x.size(1)) + " and width " + std::to_string(x.size(2)) +
                                    " (expected both divisible by the block size " + std::to_string(s) + ")");
    return record(space_to_depth_raw(x, s), "space_to_depth", {x},
                  [s](const Tensor& dy, const NeedsGrad&) -> std::vector<Tensor> { return {depth_to_space_raw(dy, s)}; });
}

Tensor depth_to_space(const Tensor& x, std::int64_t s) {
    if (!x.defined()) throw std::invalid_argument("depth_to_space: input is undefined");
    detail::require_nhwc("depth_to_space", x);
    require_block_size("depth_to_space", s);
    if (x.size(3) % (s * s) != 0)
        throw std::invalid_argument("depth_to_space: input " + shape_str(x.shape()) + " has " +
                                    std::to_string(x.size(3)) + " channels (expected a multiple of " +
                                    std::to_string(s * s) + " for block size " + std::to_string(s) + ")");
    return record(depth_to_space_raw(x, s), "depth_to_space", {x},
                  [s](const Tensor& dy, const NeedsGrad&) -> std::vector<Tensor> { return {space_to_depth_raw(dy, s)}; });
}

}  // namespace bplab
