// core/autograd.cpp — the backward engine: iterative topological order, gradient buffers, freeing.
// No recursion anywhere (building, running or destroying a graph), so 100,000-op chains are fine.
#include "core/autograd.h"

#include <stdexcept>
#include <string>
#include <unordered_map>

#include "backends/backend.h"
#include "core/ops.h"

namespace bplab {
namespace {

thread_local bool g_grad_enabled = true;

Edge edge_for(const Tensor& t) {
    if (!t.defined()) return {};
    if (t.grad_fn()) return {t.grad_fn(), t.impl().output_index};
    if (!t.requires_grad()) return {};
    TensorImpl& impl = t.impl();
    if (!impl.grad_accumulator) {
        impl.grad_accumulator = std::make_shared<Node>();
        impl.grad_accumulator->name = "accumulate_grad";
        impl.grad_accumulator->leaf = t.impl_ptr();
        impl.grad_accumulator->accumulates = true;
    }
    return {impl.grad_accumulator, 0};
}

/// A node with its edges to the inputs, or null when recording is off or no input needs a gradient.
std::shared_ptr<Node> make_node(const char* name, const std::vector<Tensor>& inputs) {
    if (!g_grad_enabled) return nullptr;
    bool any = false;
    for (const Tensor& t : inputs) any = any || needs_grad(t);
    if (!any) return nullptr;
    auto node = std::make_shared<Node>();
    node->name = name;
    node->next.reserve(inputs.size());
    node->input_shapes.reserve(inputs.size());
    for (const Tensor& t : inputs) {
        node->next.push_back(edge_for(t));
        node->input_shapes.push_back(t.defined() ? t.shape() : Shape{});
    }
    return node;
}

bool any_defined(const std::vector<Tensor>& ts) {
    for (const Tensor& t : ts)
        if (t.defined()) return true;
    return false;
}

void accumulate_into_leaf(const Node& node, const Tensor& g) {
    auto leaf = node.leaf.lock();
    if (!leaf) return;  // the parameter died before backward ran: nothing to accumulate into
    Tensor param(leaf);
    if (!leaf->grad) {
        // Keep the gradient itself when nobody else holds its storage; copy it otherwise.
        const bool exclusive = g.impl_ptr().use_count() == 1 && g.impl().storage.use_count() == 1;
        param.set_grad(exclusive ? g.detach() : g.clone());
    } else {
        Tensor acc = param.grad();
        backend_for(acc.device()).axpy(acc, g, 1.0);
    }
}

}  // namespace

Node::~Node() {
    std::vector<std::shared_ptr<Node>> pending;
    for (Edge& e : next) pending.push_back(std::move(e.node));
    next.clear();
    while (!pending.empty()) {
        std::shared_ptr<Node> n = std::move(pending.back());
        pending.pop_back();
        if (n && n.use_count() == 1) {
            for (Edge& child : n->next) pending.push_back(std::move(child.node));
            n->next.clear();
        }
    }
}

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

Tensor record(Tensor out, const char* name, const std::vector<Tensor>& inputs, BackwardFn fn) {
    std::shared_ptr<Node> node = make_node(name, inputs);
    if (!node) return out;
    node->backward = std::move(fn);
    out.impl().grad_fn = std::move(node);
    out.impl().output_index = 0;
    out.impl().requires_grad = true;
    return out;
}

std::vector<Tensor> record_outputs(std::vector<Tensor> outs, const char* name, const std::vector<Tensor>& inputs,
                                   MultiBackwardFn fn) {
    std::shared_ptr<Node> node = make_node(name, inputs);
    if (!node) return outs;
    node->outputs = outs.size();
    node->multi_backward = std::move(fn);
    for (std::size_t i = 0; i < outs.size(); ++i) {
        outs[i].impl().grad_fn = node;
        outs[i].impl().output_index = i;
        outs[i].impl().requires_grad = true;
    }
    return outs;
}

const Tensor& some_gradient(const char* op, const std::vector<Tensor>& douts) {
    for (const Tensor& d : douts)
        if (d.defined()) return d;
    throw std::logic_error(std::string(op) + ": backward ran without any gradient");
}

std::size_t graph_size(const Tensor& root) {
    if (!root.grad_fn()) return 0;
    std::unordered_map<Node*, bool> seen;
    std::vector<Node*> stack{root.grad_fn().get()};
    seen[stack.back()] = true;
    while (!stack.empty()) {
        Node* n = stack.back();
        stack.pop_back();
        for (const Edge& e : n->next)
            if (e.node && !seen.count(e.node.get())) {
                seen[e.node.get()] = true;
                stack.push_back(e.node.get());
            }
    }
    return seen.size();
}

void backward(const Tensor& root, const Tensor& root_grad, const BackwardOptions& options) {
    const Edge start = edge_for(root);
    if (!start.node) throw std::logic_error("backward: the tensor does not require grad (no recorded op and not a parameter)");
    Tensor seed = root_grad;
    if (!seed.defined()) {
        if (root.numel() != 1)
            throw std::invalid_argument("backward: root of shape " + shape_str(root.shape()) +
                                        " is not a scalar; pass its gradient explicitly");
        seed = Tensor::full(root.shape(), 1.0, root.dtype(), root.device());
    } else if (seed.shape() != root.shape()) {
        throw std::invalid_argument("backward: gradient of shape " + shape_str(seed.shape()) + " for a root of shape " +
                                    shape_str(root.shape()));
    }

    NoGradGuard no_grad;  // gradients are plain tensors: no higher-order graphs
    // Count, for every reachable node, how many edges lead into it (iterative DFS).
    std::unordered_map<Node*, int> dependencies{{start.node.get(), 0}};
    std::vector<Node*> stack{start.node.get()};
    while (!stack.empty()) {
        Node* n = stack.back();
        stack.pop_back();
        for (const Edge& e : n->next) {
            if (!e.node) continue;
            auto [it, inserted] = dependencies.try_emplace(e.node.get(), 0);
            ++it->second;
            if (inserted) stack.push_back(e.node.get());
        }
    }

    // Run a node once all its consumers have sent their gradient (Kahn's order). A node's buffer holds one
    // gradient per output, undefined until something reaches that output.
    std::unordered_map<Node*, std::vector<Tensor>> buffers;
    buffers[start.node.get()].resize(start.node->outputs);
    buffers[start.node.get()][start.output] = std::move(seed);
    std::vector<std::shared_ptr<Node>> ready{start.node};
    while (!ready.empty()) {
        std::shared_ptr<Node> node = std::move(ready.back());
        ready.pop_back();
        std::vector<Tensor> douts = std::move(buffers[node.get()]);
        buffers.erase(node.get());
        if (node->accumulates) {
            accumulate_into_leaf(*node, douts[0]);
            continue;
        }
        if (!node->backward && !node->multi_backward)
            throw std::logic_error("backward: node '" + node->name +
                                   "' already ran and freed its saved tensors; pass retain_graph to run backward twice");
        NeedsGrad needs(node->next.size());
        for (std::size_t i = 0; i < needs.size(); ++i) needs[i] = node->next[i].node != nullptr;
        std::vector<Tensor> grads = node->multi_backward ? node->multi_backward(douts, needs) : node->backward(douts[0], needs);
        douts.clear();
        if (!options.retain_graph) {
            node->backward = nullptr;
            node->multi_backward = nullptr;
        }
        if (grads.size() != node->next.size())
            throw std::logic_error("backward: node '" + node->name + "' returned " + std::to_string(grads.size()) +
                                   " gradients for " + std::to_string(node->next.size()) + " inputs");
        for (std::size_t i = 0; i < grads.size(); ++i) {
            const Edge& edge = node->next[i];
            Node* target = edge.node.get();
            if (!target) continue;
            std::vector<Tensor>& slots = buffers[target];
            slots.resize(target->outputs);
            if (grads[i].defined()) {
                if (grads[i].shape() != node->input_shapes[i])
                    throw std::logic_error("backward: node '" + node->name + "' returned a gradient of shape " +
                                           shape_str(grads[i].shape()) + " for input " + std::to_string(i) + " of shape " +
                                           shape_str(node->input_shapes[i]));
                Tensor& slot = slots[edge.output];
                slot = slot.defined() ? add(slot, grads[i]) : grads[i];
            }
            if (--dependencies[target] == 0) {
                if (any_defined(slots)) {
                    ready.push_back(edge.node);
                } else {
                    buffers.erase(target);
                    // Nothing reached this node; its inputs still wait on it, so release them too.
                    std::vector<Node*> silent{target};
                    while (!silent.empty()) {
                        Node* s = silent.back();
                        silent.pop_back();
                        for (const Edge& c : s->next)
                            if (c.node && --dependencies[c.node.get()] == 0) {
                                auto b = buffers.find(c.node.get());
                                if (b != buffers.end() && any_defined(b->second)) ready.push_back(c.node);
                                else {
                                    if (b != buffers.end()) buffers.erase(b);
                                    silent.push_back(c.node.get());
                                }
                            }
                    }
                }
            }
        }
    }
}

}  // namespace bplab
