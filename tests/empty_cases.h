// tests/empty_cases.h — every op on operands with a dimension of 0 (an SBP part that keeps no rows, a layer with
// no outputs, an empty batch): the result has PyTorch's shape, and backward gives every input a gradient of its shape.
// One value differs from PyTorch's by design: the cross-entropy of no rows is 0 (PyTorch: the NaN of an empty mean).
#pragma once
#include <array>
#include <functional>
#include <string>
#include <vector>

#include "core/ops.h"
#include "tests/test_helpers.h"

namespace bplab::test {

struct EmptyCase {
    std::string name;
    std::function<Tensor(const std::vector<Tensor>&)> fn;
    std::vector<Tensor> inputs;  ///< f64 on the CPU; indices and scale_rows' factors require no grad
    Shape out_shape;
    /// The output computed another way, for the cases whose output has elements (zeros, a bias, an input).
    std::function<Tensor(const std::vector<Tensor>&)> reference = nullptr;
};

inline std::vector<EmptyCase> empty_cases() {
    const auto p = [](const Shape& shape, std::uint64_t seed) {
        Tensor t = random_tensor(shape, seed);
        t.set_requires_grad(true);
        return t;
    };
    const auto zeros = [](Shape shape) { return [shape](const auto& in) { return Tensor::zeros(shape, in[0].dtype(), in[0].device()); }; };
    const auto input = [](std::size_t i) { return [i](const auto& in) { return in[i].detach(); }; };
    const Tensor no_rows = Tensor::from_indices({}, {0}), rows = Tensor::from_indices({0, 2}, {2}), no_labels = no_rows;
    const auto sum_parts = [](const std::vector<Tensor>& parts) {
        Tensor s = scale(parts[0], 1.0);
        for (std::size_t i = 1; i < parts.size(); ++i) s = add(s, scale(parts[i], static_cast<double>(i + 1)));
        return s;
    };
    const auto lin = [](const auto& in) { return linear(in[0], in[1], in[2]); };
    const auto conv = [](const auto& in) { return conv2d(in[0], in[1], in[2], {1, 1}, {1, 1}); };
    const auto depthwise = [](const auto& in) { return depthwise_conv2d(in[0], in[1], in[2], {2, 2}, {1, 1}); };
    const auto attend = [](const auto& in) { return attention(in[0], in[1], in[2], 0.5); };
    return {
        {"softmax over 0 columns", [](const auto& in) { return softmax(in[0]); }, {p({3, 0}, 1)}, {3, 0}},
        {"softmax of 0 rows", [](const auto& in) { return softmax(in[0]); }, {p({0, 4}, 2)}, {0, 4}},
        {"log_softmax over 0 columns", [](const auto& in) { return log_softmax(in[0]); }, {p({2, 3, 0}, 3)}, {2, 3, 0}},
        {"log_softmax of 0 × 0", [](const auto& in) { return log_softmax(in[0]); }, {p({0, 0}, 4)}, {0, 0}},
        {"cross_entropy of 0 rows", [](const auto& in) { return cross_entropy(in[0], in[1], 0.1); },
         {p({0, 5}, 5), no_labels}, {1}, zeros({1})},
        {"cross_entropy of 0 rows of 0 classes", [](const auto& in) { return cross_entropy(in[0], in[1]); },
         {p({0, 0}, 6), no_labels}, {1}, zeros({1})},
        {"layer_norm over 0 channels", [](const auto& in) { return layer_norm(in[0], in[1], in[2]); },
         {p({3, 0}, 7), p({0}, 8), p({0}, 9)}, {3, 0}},
        {"layer_norm of 0 rows", [](const auto& in) { return layer_norm(in[0], in[1], in[2]); },
         {p({2, 0, 4}, 10), p({4}, 11), p({4}, 12)}, {2, 0, 4}},
        {"matmul, batch of 0", [](const auto& in) { return matmul(in[0], in[1]); }, {p({0, 3, 4}, 13), p({0, 4, 2}, 14)}, {0, 3, 2}},
        {"matmul, 0 inner (zeros)", [](const auto& in) { return matmul(in[0], in[1], true, false); },
         {p({0, 3}, 15), p({0, 2}, 16)}, {3, 2}, zeros({3, 2})},
        {"matmul, 0 columns, shared b", [](const auto& in) { return matmul(in[0], in[1]); }, {p({2, 3, 4}, 17), p({4, 0}, 18)}, {2, 3, 0}},
        {"matmul, a transposed, shared b of 0 columns", [](const auto& in) { return matmul(in[0], in[1], true, true); },
         {p({2, 4, 3}, 19), p({0, 4}, 20)}, {2, 3, 0}},
        {"matmul, batch of 0, shared b", [](const auto& in) { return matmul(in[0], in[1], true, false); },
         {p({0, 4, 3}, 21), p({4, 2}, 22)}, {0, 3, 2}},
        {"linear of 0 rows", lin, {p({0, 5}, 23), p({3, 5}, 24), p({3}, 25)}, {0, 3}},
        {"linear with 0 inputs and no bias (zeros)", [](const auto& in) { return linear(in[0], in[1], Tensor()); },
         {p({4, 0}, 26), p({3, 0}, 27)}, {4, 3}, zeros({4, 3})},
        {"linear with 0 outputs", lin, {p({4, 5}, 28), p({0, 5}, 29), p({0}, 30)}, {4, 0}},
        {"scaled_linear with 0 outputs", [](const auto& in) { return scaled_linear(in[0], in[1], in[2], in[3]); },
         {p({2, 2, 5}, 31), p({0, 5}, 32), p({0}, 33), p({0}, 34)}, {2, 2, 0}},
        {"scaled_linear of 0 rows", [](const auto& in) { return scaled_linear(in[0], in[1], in[2], in[3]); },
         {p({0, 5}, 35), p({3, 5}, 36), p({3}, 37), p({3}, 38)}, {0, 3}},
        {"gelu_linear of 0 rows, with γ", [](const auto& in) { return gelu_linear(in[0], in[1], in[2], in[3]); },
         {p({0, 5}, 39), p({3, 5}, 40), p({3}, 41), p({3}, 42)}, {0, 3}},
        {"layer_norm_linear of 0 rows",
         [](const auto& in) { return layer_norm_linear(in[0], in[1], in[2], 1e-6, in[3], in[4]); },
         {p({0, 4}, 43), p({4}, 44), p({4}, 45), p({3, 4}, 46), p({3}, 47)}, {0, 3}},
        {"layer_norm_linear with 0 outputs",
         [](const auto& in) { return layer_norm_linear(in[0], in[1], in[2], 1e-6, in[3], in[4]); },
         {p({2, 4}, 48), p({4}, 49), p({4}, 50), p({0, 4}, 51), p({0}, 52)}, {2, 0}},
        {"add, mul, gelu, relu of 0 rows", [](const auto& in) { return relu(gelu(mul(add(in[0], in[1]), in[1]))); },
         {p({0, 3}, 53), p({3}, 54)}, {0, 3}},
        {"sum over an axis of 0", [](const auto& in) { return sum(in[0], 1); }, {p({3, 0, 2}, 55)}, {3, 2}, zeros({3, 2})},
        {"sum of all of nothing", [](const auto& in) { return sum(in[0]); }, {p({0, 3}, 56)}, {1}, zeros({1})},
        {"transpose of 0 rows", [](const auto& in) { return transpose(in[0]); }, {p({2, 0, 3}, 57)}, {2, 3, 0}},
        {"permute with a 0", [](const auto& in) { return permute(in[0], {2, 0, 1}); }, {p({2, 0, 3}, 58)}, {3, 2, 0}},
        {"permute_unbind with a 0", [sum_parts](const auto& in) { return sum_parts(permute_unbind(in[0], {1, 0, 2})); },
         {p({0, 2, 3}, 59)}, {0, 3}},
        {"unbind along 0 columns", [sum_parts](const auto& in) { return sum_parts(unbind(in[0], 0)); },
         {p({3, 0}, 60)}, {0}},
        {"concat with an empty part", [](const auto& in) { return concat({in[0], in[1]}, 1); },
         {p({2, 0, 3}, 61), p({2, 2, 3}, 62)}, {2, 2, 3}, input(1)},
        {"gather_rows of no rows", [no_rows](const auto& in) { return gather_rows(in[0], no_rows, 1); },
         {p({2, 3, 4}, 63)}, {2, 0, 4}},
        {"scatter_rows of no rows", [no_rows](const auto& in) { return scatter_rows(in[0], in[1], no_rows, 1); },
         {p({2, 3, 4}, 64), p({2, 0, 4}, 65)}, {2, 3, 4}, input(0)},
        {"interleave_rows with an empty part",
         [no_rows](const auto& in) { return interleave_rows({in[0], in[1]}, {Tensor::from_indices({0, 1, 2}, {3}), no_rows}, 1); },
         {p({2, 3, 4}, 66), p({2, 0, 4}, 67)}, {2, 3, 4}, input(0)},
        {"gather_rows over 0 columns", [rows](const auto& in) { return gather_rows(in[0], rows, 0); },
         {p({3, 0}, 68)}, {2, 0}},
        {"scale_rows of 0 rows", [](const auto& in) { return scale_rows(in[0], in[1]); }, {p({0, 3}, 69), random_tensor({0}, 70)}, {0, 3}},
        {"attention with 0 queries", attend, {p({2, 0, 4}, 71), p({2, 3, 4}, 72), p({2, 3, 4}, 73)}, {2, 0, 4}},
        {"attention of 0 groups", attend, {p({0, 3, 4}, 74), p({0, 3, 4}, 75), p({0, 3, 4}, 76)}, {0, 3, 4}},
        {"attention with 0-wide heads", attend, {p({2, 3, 0}, 77), p({2, 5, 0}, 78), p({2, 5, 0}, 79)}, {2, 3, 0}},
        {"conv2d of a batch of 0", conv, {p({0, 4, 4, 2}, 80), p({3, 2, 3, 3}, 81), p({3}, 82)}, {0, 4, 4, 3}},
        {"conv2d with 0 outputs", conv, {p({1, 4, 4, 2}, 83), p({0, 2, 3, 3}, 84), p({0}, 85)}, {1, 4, 4, 0}},
        {"conv2d with 0 inputs (the bias)", conv, {p({1, 4, 4, 0}, 86), p({3, 0, 3, 3}, 87), p({3}, 88)}, {1, 4, 4, 3},
         [](const auto& in) { return add(Tensor::zeros({1, 4, 4, 3}, in[2].dtype(), in[2].device()), in[2].detach()); }},
        {"depthwise_conv2d with 0 channels", depthwise, {p({2, 5, 5, 0}, 89), p({0, 1, 3, 3}, 90), p({0}, 91)}, {2, 3, 3, 0}},
        {"depthwise_conv2d of a batch of 0", depthwise, {p({0, 5, 5, 2}, 92), p({2, 1, 3, 3}, 93), p({2}, 94)}, {0, 3, 3, 2}},
        {"space_to_depth of a batch of 0", [](const auto& in) { return space_to_depth(in[0], 2); },
         {p({0, 4, 4, 3}, 95)}, {0, 2, 2, 12}},
        {"depth_to_space with 0 channels", [](const auto& in) { return depth_to_space(in[0], 2); },
         {p({1, 2, 2, 0}, 96)}, {1, 4, 4, 0}},
    };
}

/// The inputs of a case in `dtype` on `device`, new leaves requiring grad where the case's do.
inline std::vector<Tensor> empty_case_inputs(const EmptyCase& c, DType dtype, Device device) {
    std::vector<Tensor> in;
    for (const Tensor& t : c.inputs) {
        if (!is_floating(t.dtype())) {
            in.push_back(t.to(device));
            continue;
        }
        Tensor u = t.detach().to(dtype).to(device).clone();
        u.set_requires_grad(t.requires_grad());
        in.push_back(u);
    }
    return in;
}

}  // namespace bplab::test
