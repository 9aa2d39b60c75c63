// tests/test_models.cpp — ViT and ConvNeXt: timm's parameter counts and names, shapes, units,
// and f64 finite-difference checks of whole blocks (every parameter and the input).
#include <algorithm>
#include <catch2/catch.hpp>

#include "core/ops.h"
#include "layers/blocks.h"
#include "layers/sbp/plan.h"
#include "models/convnext.h"
#include "models/registry.h"
#include "models/vit.h"
#include "tests/test_helpers.h"

using namespace bplab;
using bplab::test::check_gradients;
using bplab::test::random_tensor;

TEST_CASE("models: parameter counts equal timm's (vit_tiny 5,717,416 and convnext_tiny 28,589,128)", "[model]") {
    CHECK(make_model("vit-tiny", {})->parameter_count() == 5717416);
    CHECK(make_model("convnext-tiny", {})->parameter_count() == 28589128);
}

TEST_CASE("models: timm parameter names", "[model]") {
    const auto vit = make_model("vit-mini", {.classes = 10, .in_channels = 1});
    std::vector<std::string> names;
    for (const auto& [n, t] : vit->named_parameters()) names.push_back(n);
    for (const char* expected : {"cls_token", "pos_embed", "patch_embed.proj.weight", "blocks.0.norm1.weight",
                                 "blocks.0.attn.qkv.weight", "blocks.0.attn.proj.bias", "blocks.5.mlp.fc2.weight",
                                 "norm.bias", "head.weight"})
        CHECK(std::find(names.begin(), names.end(), expected) != names.end());
    const auto cnx = make_model("convnext-mini", {.classes = 10, .in_channels = 1});
    names.clear();
    for (const auto& [n, t] : cnx->named_parameters()) names.push_back(n);
    for (const char* expected : {"stem.0.weight", "stem.1.bias", "stages.0.blocks.0.conv_dw.weight", "stages.0.blocks.0.gamma",
                                 "stages.1.downsample.0.weight", "stages.1.downsample.1.weight",
                                 "stages.3.blocks.1.mlp.fc1.weight", "head.norm.weight", "head.fc.bias"})
        CHECK(std::find(names.begin(), names.end(), expected) != names.end());
}

TEST_CASE("models: small variants map images to logits, and their units cover every parameter once", "[model]") {
    for (const char* name : {"vit-mini", "convnext-mini"}) {
        INFO(name);
        const auto m = make_model(name, {.classes = 10, .in_channels = 1, .seed = 3});
        const std::int64_t s = model_image_size(name);
        const Tensor x = random_tensor({2, s, s, 1}, 1, DType::f32);
        const Tensor logits = m->forward(x);
        CHECK(logits.shape() == Shape{2, 10});
        std::size_t covered = 0;
        for (std::int64_t k = 0; k < m->num_units(); ++k) covered += m->unit_parameters(k).size();
        CHECK(covered == m->named_parameters().size());
        backward(sum(logits));
        for (const auto& [n, p] : m->named_parameters()) {
            INFO(n);
            CHECK(p.grad().defined());
        }
    }
    CHECK_THROWS_WITH(make_model("vit-huge", {}), Catch::Contains("unknown") && Catch::Contains("vit-tiny"));
}

TEST_CASE("models: a batch of 0 images gives (0, classes) logits and zero gradients, exact and with SBP", "[model]") {
    for (const char* name : {"vit-mini", "convnext-mini"})
        for (const char* attention : {"", "qkv", "query"}) {
            const bool vit = std::string(name) == "vit-mini";
            if (!vit && std::string(attention) == "query") continue;  // attention modes are the ViT's
            INFO(name << (*attention ? std::string(", SBP 0.5, attention ") + attention : std::string(", exact")));
            const auto m = make_model(name, {.classes = 10, .in_channels = 1, .seed = 3});
            if (*attention) m->set_sbp(sbp::make_config(0.5, "grid", "all", "uniform", false, attention, false));
            m->begin_step();
            const std::int64_t s = model_image_size(name);
            const Tensor logits = m->forward(Tensor::zeros({0, s, s, 1}));
            CHECK(logits.shape() == Shape{0, 10});
            backward(sum(logits));
            for (const auto& [n, p] : m->named_parameters()) {
                INFO(n);
                REQUIRE(p.grad().defined());
                CHECK(l2_norm(p.grad()) == 0.0);  // NaN fails too
            }
        }
}

TEST_CASE("gradcheck: a ViT block (layer scale, no drop path) against finite differences", "[gradcheck]") {
    Rng init(1), noise(2);
    const VitBlock block(4, 2, {.drop_path = 0.0, .layer_scale = 0.5, .mlp_ratio = 2.0}, init, noise, DType::f64);
    Tensor x = random_tensor({2, 3, 4}, 3, DType::f64);
    x.set_requires_grad(true);
    std::vector<Tensor> inputs{x};
    for (const Tensor& p : block.parameters()) inputs.push_back(p);
    check_gradients([&](const auto& in) { return block.forward(in[0]); }, inputs, {.eps = 1e-6, .tol = 1e-7});
}

TEST_CASE("gradcheck: a ConvNeXt block against finite differences", "[gradcheck]") {
    Rng init(4), noise(5);
    const ConvNeXtBlock block(4, {.drop_path = 0.0, .layer_scale = 0.7, .mlp_ratio = 2.0}, init, noise, DType::f64);
    Tensor x = random_tensor({1, 5, 4, 4}, 6, DType::f64);
    x.set_requires_grad(true);
    std::vector<Tensor> inputs{x};
    for (const Tensor& p : block.parameters()) inputs.push_back(p);
    check_gradients([&](const auto& in) { return block.forward(in[0]); }, inputs, {.eps = 1e-6, .tol = 1e-7});
}
