// tests/test_golden_mlp.cpp — one SGD step of an MLP against PyTorch's (tests/golden/make_mlp_step.py).
// Loss before and after, every gradient and every updated weight must agree to 1e-5.
#include <catch2/catch.hpp>

#include "core/io/safetensors.h"
#include "core/optim/sgd.h"
#include "core/train/backprop.h"
#include "models/mlp.h"
#include "tests/test_helpers.h"

using namespace bplab;
using bplab::test::max_abs_diff;

TEST_CASE("golden: MLP 784-32-10 SGD step equals PyTorch's", "[golden]") {
    const NamedTensors g = load_safetensors(BPLAB_SOURCE_DIR "/tests/golden/mlp_step.safetensors");
    REQUIRE(g.metadata.at("format") == "bplab-golden");
    REQUIRE(g.metadata.at("version") == "1");
    const double lr = std::stod(g.metadata.at("lr"));

    MlpConfig config;
    config.hidden = {g.get("fc1.weight").size(0)};
    Mlp model(config);
    model.load_parameters(g.tensors, "golden");
    Sgd sgd(model.parameters(), {.lr = lr});
    const Batch batch{g.get("x"), g.get("y")};

    const double before = backprop_step(model, batch, sgd);
    CHECK(before == Approx(g.get("loss_before").item()).margin(1e-5));
    for (const auto& [name, p] : model.named_parameters()) {
        INFO(name);
        CHECK(max_abs_diff(p.grad(), g.get("grad." + name)) < 1e-5);
        CHECK(max_abs_diff(p, g.get("updated." + name)) < 1e-5);
    }
    NoGradGuard no_grad;
    CHECK(batch_loss(model, batch).item() == Approx(g.get("loss_after").item()).margin(1e-5));
}
