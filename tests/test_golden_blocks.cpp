// tests/test_golden_blocks.cpp — one ViT block and one ConvNeXt block against PyTorch (tests/golden/make_blocks.py).
// Parameter names must be timm's; y, dx and every parameter gradient of sum(y ⊙ dy) must agree to 1e-5.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/io/safetensors.h"
#include "core/rng.h"
#include "layers/blocks.h"
#include "tests/test_helpers.h"

using namespace bplab;
using bplab::test::max_abs_diff;

namespace {

constexpr double kTol = 1e-5;

std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, ',');) out.push_back(item);
    return out;
}

/// The fixture's parameter names: every tensor except x, y, dy and the grad.* results.
std::vector<std::string> fixture_parameter_names(const NamedTensors& g) {
    std::vector<std::string> out;
    for (const auto& [name, t] : g.tensors)
        if (name != "x" && name != "y" && name != "dy" && name.rfind("grad.", 0) != 0) out.push_back(name);
    std::sort(out.begin(), out.end());
    return out;
}

/// Loads the fixture into `block`, runs forward on x and backward with dy, and compares with PyTorch.
void check_block_against_fixture(Module& block, const std::function<Tensor(const Tensor&)>& forward,
                                 const NamedTensors& g) {
    REQUIRE(g.metadata.at("format") == "bplab-golden");
    REQUIRE(g.metadata.at("version") == "1");

    // Names and their order: exactly timm's (the fixture's metadata lists them), and the fixture's tensors.
    std::vector<std::string> names;
    for (const auto& [name, p] : block.named_parameters()) names.push_back(name);
    REQUIRE(names == split_commas(g.metadata.at("parameters")));
    std::sort(names.begin(), names.end());
    REQUIRE(names == fixture_parameter_names(g));

    block.load_parameters(g.tensors, g.path);
    Tensor x = g.get("x").clone();
    x.set_requires_grad(true);
    const Tensor y = forward(x);
    backward(y, g.get("dy"));

    const double y_err = max_abs_diff(y, g.get("y"));
    INFO("y: max |bplab - torch| = " << y_err);
    CHECK(y_err <= kTol);
    REQUIRE(x.grad().defined());
    const double dx_err = max_abs_diff(x.grad(), g.get("grad.x"));
    INFO("grad.x: max |bplab - torch| = " << dx_err);
    CHECK(dx_err <= kTol);
    for (const auto& [name, p] : block.named_parameters()) {
        INFO("parameter " << name);
        REQUIRE(p.grad().defined());
        const double err = max_abs_diff(p.grad(), g.get("grad." + name));
        INFO("grad." << name << ": max |bplab - torch| = " << err);
        CHECK(err <= kTol);
    }
}

}  // namespace

TEST_CASE("golden: ViT block (timm Block, 4 heads, LayerScale) forward and backward equal PyTorch's", "[golden]") {
    const NamedTensors g = load_safetensors(BPLAB_SOURCE_DIR "/tests/golden/vit_block.safetensors");
    const std::int64_t dim = g.get("x").size(-1);
    const std::int64_t heads = std::stoll(g.metadata.at("heads"));
    Rng init(1), noise(2);
    VitBlock block(dim, heads, {.drop_path = 0.0, .layer_scale = 1.0, .mlp_ratio = 4.0}, init, noise, DType::f32);
    check_block_against_fixture(block, [&](const Tensor& x) { return block.forward(x); }, g);
}

TEST_CASE("golden: ConvNeXt block (timm ConvNeXtBlock, dwconv 7x7, gamma) forward and backward equal PyTorch's",
          "[golden]") {
    const NamedTensors g = load_safetensors(BPLAB_SOURCE_DIR "/tests/golden/convnext_block.safetensors");
    const std::int64_t dim = g.get("x").size(-1);
    Rng init(1), noise(2);
    ConvNeXtBlock block(dim, {.drop_path = 0.0, .layer_scale = 1.0, .mlp_ratio = 4.0}, init, noise, DType::f32);
    check_block_against_fixture(block, [&](const Tensor& x) { return block.forward(x); }, g);
}
