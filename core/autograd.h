// core/autograd.h — define-by-run reverse-mode autograd: nodes, recording, and the backward engine.
// An op records a Node whose closure captures only what its backward needs (detached tensors).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace bplab {

/// Which inputs of a node want a gradient; a backward function may leave the others undefined.
using NeedsGrad = std::vector<bool>;
/// Given dL/d(output), returns dL/d(input) for every input (undefined where not needed).
/// Returned gradients are fresh tensors (never aliases of saved ones); the engine accumulates them.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& dout, const NeedsGrad& needs)>;
/// The same for an op with several outputs: douts has one entry per output, undefined where no gradient
/// reached that output (the op treats it as zeros).
using MultiBackwardFn = std::function<std::vector<Tensor>(const std::vector<Tensor>& douts, const NeedsGrad& needs)>;

struct Node;
/// Where an input's gradient goes: the node that made the input, and which of its outputs the input is.
struct Edge {
    std::shared_ptr<Node> node;  ///< null: the input needs no gradient
    std::size_t output = 0;
};

struct Node {
    std::string name;
    std::vector<Edge> next;           ///< per input: where to send its gradient
    std::vector<Shape> input_shapes;  ///< to check what backward returns
    std::size_t outputs = 1;          ///< more than one for ops recorded with record_outputs
    BackwardFn backward;              ///< one output; reset after it ran, which frees the saved tensors
    MultiBackwardFn multi_backward;   ///< several outputs; likewise reset
    std::weak_ptr<TensorImpl> leaf;   ///< the parameter an accumulator node adds into
    bool accumulates = false;         ///< true for the gradient accumulator of a leaf
    ~Node();                          ///< releases long chains iteratively (no stack overflow)
};

/// True unless a NoGradGuard is alive on this thread.
bool grad_enabled();

/// Turns recording off for its lifetime (RAII), as in evaluation or SBP's dropped rows.
class NoGradGuard {
public:
    NoGradGuard();
    ~NoGradGuard();
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

private:
    bool previous_;
};

/// True if gradients flow to this tensor: a leaf marked requires_grad or the output of a recorded op.
inline bool needs_grad(const Tensor& t) { return t.defined() && (t.requires_grad() || t.grad_fn() != nullptr); }

/// Makes `out` the output of a node named `name` over `inputs`, if recording is on and any input
/// needs a gradient; otherwise returns `out` untouched and drops `fn`.
Tensor record(Tensor out, const char* name, const std::vector<Tensor>& inputs, BackwardFn fn);
/// The same for an op with several outputs (unbind): one node, whose backward runs once with every output's
/// gradient, instead of one node per output each sending a full-size gradient to be added up.
std::vector<Tensor> record_outputs(std::vector<Tensor> outs, const char* name, const std::vector<Tensor>& inputs,
                                   MultiBackwardFn fn);
/// In such a backward: a defined one of the outputs' gradients (the engine runs the node only when one got a
/// gradient), to take the dtype and device from; throws std::logic_error naming `op` if none is.
const Tensor& some_gradient(const char* op, const std::vector<Tensor>& douts);

struct BackwardOptions {
    bool retain_graph = false;  ///< keep saved tensors so that backward can run again
};

/// Accumulates d(root)/d(leaf) into grad() of every leaf that requires grad.
/// `root_grad` defaults to 1 for a one-element root.
void backward(const Tensor& root, const Tensor& root_grad = {}, const BackwardOptions& options = {});

/// Number of nodes reachable from a tensor's grad_fn (for tests and graph dumps).
std::size_t graph_size(const Tensor& root);

}  // namespace bplab
