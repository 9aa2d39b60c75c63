// backends/profiling_backend.cpp — the timing wrapper behind BackendProfiler: each Backend method forwards to
// the wrapped backend between two device waits and adds the elapsed time to its op's row.
#include "backends/profiling_backend.h"

#include <algorithm>
#include <chrono>
#include <map>

namespace bplab {

class BackendProfiler::TimingBackend final : public Backend {
public:
    explicit TimingBackend(Backend& inner) : inner_(inner) {}

    std::map<std::string, OpTime> table;

    void synchronize() override { inner_.synchronize(); }

// One override per Backend method: `name` with parameter list `params`, forwarded with `args`.
#define BPLAB_TIMED(name, params, args) \
    void name params override { timed(#name, [&] { inner_.name args; }); }

    BPLAB_TIMED(fill, (Tensor& out, double value), (out, value))
    BPLAB_TIMED(copy, (Tensor& dst, const Tensor& src), (dst, src))
    BPLAB_TIMED(cast, (Tensor& dst, const Tensor& src), (dst, src))
    BPLAB_TIMED(transpose, (Tensor& out, const Tensor& x), (out, x))
    BPLAB_TIMED(matmul, (Tensor& out, const Tensor& a, const Tensor& b, bool ta, bool tb, bool acc),
                (out, a, b, ta, tb, acc))
    BPLAB_TIMED(linear_forward, (Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b), (y, x, w, b))
    BPLAB_TIMED(linear_backward, (Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x, const Tensor& w),
                (dx, dw, db, dy, x, w))
    BPLAB_TIMED(binary, (Tensor& out, const Tensor& a, const Tensor& b, BinaryOp op), (out, a, b, op))
    BPLAB_TIMED(scale, (Tensor& out, const Tensor& a, double s), (out, a, s))
    BPLAB_TIMED(axpy, (Tensor& y, const Tensor& x, double alpha), (y, x, alpha))
    BPLAB_TIMED(sum_axis, (Tensor& out, const Tensor& x, std::int64_t outer, std::int64_t n, std::int64_t inner),
                (out, x, outer, n, inner))
    BPLAB_TIMED(repeat_axis, (Tensor& out, const Tensor& x, std::int64_t outer, std::int64_t n, std::int64_t inner),
                (out, x, outer, n, inner))
    BPLAB_TIMED(sum_squares, (Tensor& out, const Tensor& x), (out, x))
    BPLAB_TIMED(argmax_rows, (Tensor& out, const Tensor& x), (out, x))
    BPLAB_TIMED(relu_forward, (Tensor& y, const Tensor& x), (y, x))
    BPLAB_TIMED(relu_backward, (Tensor& dx, const Tensor& dy, const Tensor& y), (dx, dy, y))
    BPLAB_TIMED(gelu_forward, (Tensor& y, const Tensor& x), (y, x))
    BPLAB_TIMED(gelu_backward, (Tensor& dx, const Tensor& dy, const Tensor& x), (dx, dy, x))
    BPLAB_TIMED(softmax_forward, (Tensor& y, const Tensor& x), (y, x))
    BPLAB_TIMED(softmax_backward, (Tensor& dx, const Tensor& dy, const Tensor& y), (dx, dy, y))
    BPLAB_TIMED(log_softmax_forward, (Tensor& y, const Tensor& x), (y, x))
    BPLAB_TIMED(log_softmax_backward, (Tensor& dx, const Tensor& dy, const Tensor& y), (dx, dy, y))
    BPLAB_TIMED(cross_entropy_forward,
                (Tensor& loss, Tensor& logp, const Tensor& logits, const Tensor& labels, double smoothing),
                (loss, logp, logits, labels, smoothing))
    BPLAB_TIMED(cross_entropy_backward,
                (Tensor& dlogits, const Tensor& dloss, const Tensor& logp, const Tensor& labels, double smoothing),
                (dlogits, dloss, logp, labels, smoothing))
    BPLAB_TIMED(gather_rows,
                (Tensor& out, const Tensor& x, const Tensor& idx, std::int64_t outer, std::int64_t n, std::int64_t inner),
                (out, x, idx, outer, n, inner))
    BPLAB_TIMED(scatter_rows,
                (Tensor& out, const Tensor& src, const Tensor& idx, std::int64_t outer, std::int64_t n, std::int64_t inner),
                (out, src, idx, outer, n, inner))
    BPLAB_TIMED(fill_rows,
                (Tensor& out, const Tensor& idx, double value, std::int64_t outer, std::int64_t n, std::int64_t inner),
                (out, idx, value, outer, n, inner))
    BPLAB_TIMED(layer_norm_forward,
                (Tensor& y, Tensor& mean, Tensor& rstd, const Tensor& x, const Tensor& w, const Tensor& b, double eps),
                (y, mean, rstd, x, w, b, eps))
    BPLAB_TIMED(layer_norm_backward,
                (Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x, const Tensor& w,
                 const Tensor& mean, const Tensor& rstd),
                (dx, dw, db, dy, x, w, mean, rstd))
    BPLAB_TIMED(attention_forward,
                (Tensor& out, Tensor& lse, const Tensor& q, const Tensor& k, const Tensor& v, double scale),
                (out, lse, q, k, v, scale))
    BPLAB_TIMED(attention_backward,
                (Tensor& dq, Tensor& dk, Tensor& dv, const Tensor& dout, const Tensor& q, const Tensor& k,
                 const Tensor& v, const Tensor& lse, double scale),
                (dq, dk, dv, dout, q, k, v, lse, scale))
    BPLAB_TIMED(permute_parts,
                (const std::vector<Tensor*>& outs, const std::vector<const Tensor*>& xs, const Shape& x_shape,
                 const std::vector<std::int64_t>& dims),
                (outs, xs, x_shape, dims))
    BPLAB_TIMED(scale_rows, (Tensor& out, const Tensor& x, const Tensor& s), (out, x, s))
    BPLAB_TIMED(conv2d_forward,
                (Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b, std::array<std::int64_t, 2> stride,
                 std::array<std::int64_t, 2> padding),
                (y, x, w, b, stride, padding))
    BPLAB_TIMED(conv2d_backward,
                (Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x, const Tensor& w,
                 std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding),
                (dx, dw, db, dy, x, w, stride, padding))
    BPLAB_TIMED(depthwise_conv2d_forward,
                (Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b, std::array<std::int64_t, 2> stride,
                 std::array<std::int64_t, 2> padding),
                (y, x, w, b, stride, padding))
    BPLAB_TIMED(depthwise_conv2d_backward,
                (Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x, const Tensor& w,
                 std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding),
                (dx, dw, db, dy, x, w, stride, padding))
    BPLAB_TIMED(space_to_depth, (Tensor& out, const Tensor& x, std::int64_t s), (out, x, s))
    BPLAB_TIMED(depth_to_space, (Tensor& out, const Tensor& x, std::int64_t s), (out, x, s))
    BPLAB_TIMED(place_images, (Tensor& out, const Tensor& x, const Tensor& placement, double fill),
                (out, x, placement, fill))
    BPLAB_TIMED(sgd_update,
                (Tensor& param, const Tensor& grad, Tensor& momentum_buf, double lr, double momentum,
                 double weight_decay, bool nesterov),
                (param, grad, momentum_buf, lr, momentum, weight_decay, nesterov))
    BPLAB_TIMED(adamw_update,
                (Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, double lr, double beta1, double beta2,
                 double eps, double weight_decay, std::int64_t step),
                (param, grad, m, v, lr, beta1, beta2, eps, weight_decay, step))
#undef BPLAB_TIMED

private:
    /// Times `call` as op; a backend call made inside another (conv2d's backward zero-filling through
    /// Tensor::zeros) is part of the outer op's time and is not counted again.
    template <class Call>
    void timed(const char* op, Call&& call) {
        if (depth_ > 0) return call();
        inner_.synchronize();  // the time of work queued before this op is not this op's
        const auto t0 = std::chrono::steady_clock::now();
        ++depth_;
        try {
            call();
        } catch (...) {
            --depth_;
            throw;
        }
        --depth_;
        inner_.synchronize();
        OpTime& row = table[op];
        row.op = op;
        row.calls += 1;
        row.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }

    Backend& inner_;
    int depth_ = 0;
};

BackendProfiler::BackendProfiler(Device device)
    : timing_(std::make_unique<TimingBackend>(backend_for(device))), device_(device), previous_(&backend_for(device)) {
    register_backend(device_.type, timing_.get());
}

BackendProfiler::~BackendProfiler() { register_backend(device_.type, previous_); }

std::vector<OpTime> BackendProfiler::report() const {
    std::vector<OpTime> rows;
    for (const auto& [op, row] : timing_->table) rows.push_back(row);
    std::sort(rows.begin(), rows.end(), [](const OpTime& a, const OpTime& b) { return a.seconds > b.seconds; });
    return rows;
}

void BackendProfiler::reset() { timing_->table.clear(); }

}  // namespace bplab
