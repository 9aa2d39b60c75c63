// tests/nan_cases.h — the forward of every op carries a NaN in any float input to its output, on any device: a
// broken weight or image shows in the loss (and stops training) instead of being hidden by a max or a comparison.
#pragma once
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/data/augment.h"
#include "core/ops.h"
#include "tests/test_helpers.h"

namespace bplab::test {

struct NanCase {
    std::string name;
    std::function<Tensor(const std::vector<Tensor>&)> fn;
    std::vector<Tensor> inputs;  ///< f64 on the CPU; integer inputs (indices, labels) are left alone
};

inline std::vector<NanCase> nan_cases() {
    const auto r = [](const Shape& shape, std::uint64_t seed) { return random_tensor(shape, seed); };
    const Tensor rows = Tensor::from_indices({0, 2}, {2}), one = Tensor::from_indices({1}, {1}),
                 labels = Tensor::from_indices({1, 0, 3}, {3});
    return {
        {"linear", [](const auto& in) { return linear(in[0], in[1], in[2]); }, {r({3, 4}, 1), r({5, 4}, 2), r({5}, 3)}},
        {"matmul", [](const auto& in) { return matmul(in[0], in[1]); }, {r({3, 4}, 4), r({4, 2}, 5)}},
        {"add, mul, div", [](const auto& in) { return div(mul(add(in[0], in[1]), in[1]), in[2]); },
         {r({2, 3}, 6), r({3}, 7), r({2, 3}, 8)}},
        {"sub, scale", [](const auto& in) { return sub(scale(in[0], 2.0), in[1]); }, {r({2, 3}, 43), r({2, 3}, 44)}},
        {"relu", [](const auto& in) { return relu(in[0]); }, {r({6}, 9)}},
        {"gelu", [](const auto& in) { return gelu(in[0]); }, {r({6}, 10)}},
        {"softmax", [](const auto& in) { return softmax(in[0]); }, {r({2, 5}, 11)}},
        {"log_softmax", [](const auto& in) { return log_softmax(in[0]); }, {r({2, 5}, 12)}},
        {"cross_entropy", [](const auto& in) { return cross_entropy(in[0], in[1], 0.1); }, {r({3, 4}, 13), labels}},
        {"sum, mean over an axis", [](const auto& in) { return mean(sum(in[0], 1), 0); }, {r({3, 4, 2}, 14)}},
        {"layer_norm", [](const auto& in) { return layer_norm(in[0], in[1], in[2]); }, {r({3, 6}, 15), r({6}, 16), r({6}, 17)}},
        {"layer_norm_linear",
         [](const auto& in) { return layer_norm_linear(in[0], in[1], in[2], 1e-6, in[3], in[4]); },
         {r({3, 6}, 18), r({6}, 19), r({6}, 20), r({4, 6}, 21), r({4}, 22)}},
        {"gelu_linear with layer scale", [](const auto& in) { return gelu_linear(in[0], in[1], in[2], in[3]); },
         {r({3, 6}, 23), r({4, 6}, 24), r({4}, 25), r({4}, 26)}},
        {"scaled_linear", [](const auto& in) { return scaled_linear(in[0], in[1], in[2], in[3]); },
         {r({3, 6}, 27), r({4, 6}, 28), r({4}, 29), r({4}, 30)}},
        {"attention", [](const auto& in) { return attention(in[0], in[1], in[2], 0.5); },
         {r({2, 3, 4}, 31), r({2, 5, 4}, 32), r({2, 5, 4}, 33)}},
        {"conv2d", [](const auto& in) { return conv2d(in[0], in[1], in[2], {2, 2}, {1, 1}); },
         {r({1, 5, 5, 2}, 34), r({3, 2, 3, 3}, 35), r({3}, 36)}},
        {"depthwise_conv2d 7x7", [](const auto& in) { return depthwise_conv2d(in[0], in[1], in[2], {1, 1}, {3, 3}); },
         {r({1, 6, 6, 3}, 37), r({3, 1, 7, 7}, 38), r({3}, 39)}},
        {"permute, gather_rows", [rows](const auto& in) { return gather_rows(permute(in[0], {1, 0, 2}), rows, 0); },
         {r({2, 3, 2}, 40)}},
        {"concat", [](const auto& in) { return concat({in[0], in[1]}, 0); }, {r({2, 3}, 45), r({1, 3}, 46)}},
        {"scatter_rows", [one](const auto& in) { return scatter_rows(in[0], in[1], one, 0); }, {r({3, 2}, 47), r({1, 2}, 48)}},
        {"interleave_rows", [rows, one](const auto& in) { return interleave_rows({in[0], in[1]}, {rows, one}, 0); },
         {r({2, 2}, 49), r({1, 2}, 50)}},
        {"scale_rows", [](const auto& in) { return scale_rows(in[0], in[1]); }, {r({3, 2}, 51), r({3}, 52)}},
        {"space_to_depth", [](const auto& in) { return space_to_depth(in[0], 2); }, {r({1, 4, 4, 2}, 41)}},
        {"depth_to_space", [](const auto& in) { return depth_to_space(in[0], 2); }, {r({1, 2, 2, 8}, 53)}},
        {"augment (pad, mirror)",
         [](const auto& in) {
             Rng rng(3);
             return augment_images(in[0], {.size = 6, .pad = 1, .flip = true, .fill = 0.0}, rng);
         },
         {r({2, 4, 4, 1}, 42)}},
    };
}

inline bool has_nan(const Tensor& t) {
    for (double v : t.to(Device::cpu()).to_vector())
        if (std::isnan(v)) return true;
    return false;
}

/// For every case, every float input and both float dtypes: a NaN in the input's first element (which every
/// case's output depends on) gives a NaN in the output computed on `device`. (Backward passes are not covered:
/// ReLU's, like PyTorch's, gives a NaN input a zero gradient.)
inline void check_nan_reaches_output(Device device) {
    for (const NanCase& c : nan_cases())
        for (DType dtype : {DType::f64, DType::f32})
            for (std::size_t i = 0; i < c.inputs.size(); ++i) {
                if (!is_floating(c.inputs[i].dtype())) continue;
                INFO(c.name << ", NaN in input " << i << ", " << dtype_name(dtype) << " on " << device.str());
                std::vector<Tensor> in;
                for (std::size_t j = 0; j < c.inputs.size(); ++j) {
                    Tensor t = is_floating(c.inputs[j].dtype()) ? c.inputs[j].to(dtype).clone() : c.inputs[j];
                    if (j == i) {
                        std::vector<double> v = t.to_vector();
                        v[0] = std::numeric_limits<double>::quiet_NaN();
                        t = Tensor::from_vector(v, t.shape(), DType::f64).to(dtype);
                    }
                    in.push_back(t.to(device));
                }
                const Tensor out = c.fn(in);
                std::string values;
                for (double v : out.to(Device::cpu()).to_vector()) values += std::to_string(v) + " ";
                INFO("output: " << values);
                CHECK(has_nan(out));
            }
}

}  // namespace bplab::test
