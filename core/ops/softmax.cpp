// core/ops/softmax.cpp — softmax, log-softmax and cross-entropy over the last dim.
// Cross-entropy is one fused op: it saves log-probabilities, and its backward is softmax − target.
#include <stdexcept>

#include "backends/backend.h"
#include "core/ops.h"
#include "core/ops/check.h"

namespace bplab {

Tensor softmax(const Tensor& x) {
    detail::require_float("softmax", x);
    detail::require_dims_at_least("softmax", x, 1);
    Tensor y = Tensor::empty_like(x);
    backend_for(x.device()).softmax_forward(y, x);
    const Tensor sy = y.detach();
    return record(y, "softmax", {x}, [sy](const Tensor& dy, const NeedsGrad&) -> std::vector<Tensor> {
        Tensor dx = Tensor::empty_like(dy);
        backend_for(dy.device()).softmax_backward(dx, dy, sy);
        return {dx};
    });
}

Tensor log_softmax(const Tensor& x) {
    detail::require_float("log_softmax", x);
    detail::require_dims_at_least("log_softmax", x, 1);
    Tensor y = Tensor::empty_like(x);
    backend_for(x.device()).log_softmax_forward(y, x);
    const Tensor sy = y.detach();
    return record(y, "log_softmax", {x}, [sy](const Tensor& dy, const NeedsGrad&) -> std::vector<Tensor> {
        Tensor dx = Tensor::empty_like(dy);
        backend_for(dy.device()).log_softmax_backward(dx, dy, sy);
        return {dx};
    });
}

Tensor cross_entropy(const Tensor& logits, const Tensor& labels, double label_smoothing) {
    detail::require_float("cross_entropy", logits, "logits");
    if (logits.dim() != 2)
        throw std::invalid_argument("cross_entropy: logits of shape " + shape_str(logits.shape()) +
                                    " (expected (rows, classes))");
    if (!labels.defined() || labels.dtype() != DType::i64 || labels.dim() != 1 || labels.size(0) != logits.size(0))
        throw std::invalid_argument("cross_entropy: labels must be I64 of shape (" + std::to_string(logits.size(0)) +
                                    ",)" + (labels.defined() ? ", got " + std::string(dtype_name(labels.dtype())) +
                                                                   " of shape " + shape_str(labels.shape())
                                                             : std::string()));
    if (labels.device() != logits.device())
        throw std::invalid_argument("cross_entropy: labels on " + labels.device().str() + ", logits on " +
                                    logits.device().str());
    if (!(label_smoothing >= 0.0 && label_smoothing < 1.0))
        throw std::invalid_argument("cross_entropy: label smoothing " + std::to_string(label_smoothing) +
                                    " (expected 0 <= ε < 1)");
    const std::int64_t classes = logits.size(1);
    for (double v : labels.to_vector())
        if (v < 0 || v >= static_cast<double>(classes))
            throw std::out_of_range("cross_entropy: label " + std::to_string(static_cast<long long>(v)) +
                                    " out of range [0, " + std::to_string(classes) + ")");
    Tensor loss = Tensor::empty({1}, logits.dtype(), logits.device());
    Tensor logp = Tensor::empty_like(logits);
    backend_for(logits.device()).cross_entropy_forward(loss, logp, logits, labels, label_smoothing);
    return record(loss, "cross_entropy", {logits},
                  [logp, labels, label_smoothing](const Tensor& dloss, const NeedsGrad&) -> std::vector<Tensor> {
                      Tensor dlogits = Tensor::empty_like(logp);
                      backend_for(dloss.device()).cross_entropy_backward(dlogits, dloss, logp, labels, label_smoothing);
                      return {dlogits};
                  });
}

}  // namespace bplab
