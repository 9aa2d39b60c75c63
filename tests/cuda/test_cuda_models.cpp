// tests/cuda/test_cuda_models.cpp — one full training step of the small ViT and ConvNeXt, exact and with SBP,
// on the GPU against the CPU: the loss, every gradient and every SGD-updated parameter within 1e-4 (f32), and
// under bf16 autocast.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <tuple>

#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/device.h"
#include "core/autocast.h"
#include "core/autograd.h"
#include "core/optim/sgd.h"
#include "core/ops.h"
#include "models/registry.h"
#include "tests/test_helpers.h"

using namespace bplab;

namespace {

struct Step {
    double loss;
    NamedTensorList grads, updated;  ///< every parameter gradient, and every parameter after one SGD update
};

/// Every parameter moved off its initial value: biases start at 0 and norm weights at 1, which would hide a
/// kernel that drops a bias or a scale.
void perturb(Model& model) {
    const NoGradGuard no_grad;
    NamedTensorList moved;
    std::uint64_t seed = 100;
    for (const auto& [n, p] : model.named_parameters())
        moved.emplace_back(n, add(p, scale(test::random_tensor(p.shape(), seed++, DType::f32), 0.05)));
    model.load_parameters(moved, "perturbed");
}

Step one_step(const std::string& name, const sbp::SbpConfig& config, bool recompute, Device device,
              std::optional<DType> autocast = std::nullopt) {
    auto model = make_model(name, {.classes = 10, .in_channels = 1, .recompute = recompute, .seed = 5});
    perturb(*model);
    model->to(device);
    model->set_sbp(config);
    model->begin_step();
    const std::int64_t size = model_image_size(name);
    const Tensor x = test::random_tensor({8, size, size, 1}, 6, DType::f32).to(device);
    std::vector<std::int64_t> y(8);
    for (std::int64_t i = 0; i < 8; ++i) y[static_cast<std::size_t>(i)] = i % 10;
    Tensor logits;
    {
        const AutocastGuard guard(autocast);
        logits = model->forward(x);
    }
    const Tensor loss = cross_entropy(logits, Tensor::from_indices(y, {8}).to(device), 0.1);
    backward(loss);
    Step s{loss.item(), {}, {}};
    for (const auto& [n, p] : model->named_parameters()) s.grads.emplace_back(n, p.grad().to(Device::cpu()));
    // SGD, not AdamW: Adam's first step is about lr·sign(g), which round-off flips for gradients near 0
    // (AdamW's kernel is compared on its own in test_cuda_backend_ops).
    Sgd sgd(model->parameters(), {.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-4});
    sgd.step();
    for (const auto& [n, p] : model->named_parameters()) s.updated.emplace_back(n, p.to(Device::cpu()));
    return s;
}

/// Every tensor of `gpu` within tol of `cpu`, relative to the tensor's largest magnitude.
void check_close(const NamedTensorList& cpu, const NamedTensorList& gpu, const std::string& what, double tol = 1e-4) {
    REQUIRE(cpu.size() == gpu.size());
    for (std::size_t i = 0; i < cpu.size(); ++i) {
        REQUIRE(cpu[i].first == gpu[i].first);
        const auto a = cpu[i].second.to_vector(), b = gpu[i].second.to_vector();
        REQUIRE(a.size() == b.size());
        double scale = 0, worst = 0;
        for (double v : a) scale = std::max(scale, std::abs(v));
        REQUIRE(std::isfinite(scale));  // an infinite scale would let any difference pass
        for (std::size_t j = 0; j < a.size(); ++j) worst = bplab::test::nan_max(worst, std::abs(a[j] - b[j]));
        INFO(what << " " << cpu[i].first << ": max diff " << worst << ", max magnitude " << scale);
        CHECK(worst <= tol * std::max(scale, 1e-6));
    }
}

}  // namespace

TEST_CASE("cuda models: a ViT and a ConvNeXt step, exact and SBP 0.5 (ViT: qkv and query), with and without recompute, "
          "match the CPU within 1e-4", "[cuda]") {
    if (cuda::device_count() == 0) std::exit(77);
    cuda::install();
    for (const std::string name : {"vit-mini", "convnext-mini"}) {
        const bool vit = name.rfind("vit", 0) == 0;
        const std::vector<std::tuple<double, std::string, bool>> cases = {
            {1.0, "qkv", false}, {0.5, "qkv", false}, {0.5, "query", false}, {1.0, "qkv", true}, {0.5, "qkv", true}};
        for (const auto& [keep, attn, recompute] : cases) {
            if (attn != "qkv" && !vit) continue;  // attention modes are the ViT's
            INFO(name << ", SBP keep " << keep << ", attention " << attn << ", recompute " << recompute);
            const auto config = sbp::make_config(keep, "grid", "", "uniform", false, attn, false);
            const Step cpu = one_step(name, config, recompute, Device::cpu()),
                       gpu = one_step(name, config, recompute, Device::cuda());
            CHECK(std::abs(cpu.loss - gpu.loss) <= 1e-4 * std::abs(cpu.loss));
            check_close(cpu.grads, gpu.grads, "gradient");
            check_close(cpu.updated, gpu.updated, "parameter after SGD");
        }
    }
}

TEST_CASE("cuda models: a ViT and a ConvNeXt step under bf16 autocast, exact and SBP 0.5 with recompute, match the CPU "
          "within 6e-2", "[cuda]") {
    if (cuda::device_count() == 0) std::exit(77);
    cuda::install();
    // Both sides round the same f32 values to bf16, but a computed operand (a LayerNorm, GELU or projection output,
    // attention's probabilities and dS) one f32 ulp apart on the two devices can round to neighbouring bf16 values
    // (2⁻⁸ apart), and six blocks compound it: on the emulator the gradients differed by up to 1.5 % of their
    // largest element, the parameters after SGD by up to 0.36 % (session 11). A GPU sums in other orders than
    // the CPU everywhere, so the bounds are four times those.
    for (const std::string name : {"vit-mini", "convnext-mini"})
        for (const auto& [keep, recompute] : {std::pair{1.0, false}, std::pair{0.5, true}}) {
            INFO(name << ", SBP keep " << keep << ", recompute " << recompute);
            const auto config = sbp::make_config(keep, "grid", "", "uniform", false, "qkv", false);
            const Step cpu = one_step(name, config, recompute, Device::cpu(), DType::bf16),
                       gpu = one_step(name, config, recompute, Device::cuda(), DType::bf16);
            CHECK(std::abs(cpu.loss - gpu.loss) <= 1e-3 * std::abs(cpu.loss));
            check_close(cpu.grads, gpu.grads, "gradient", 6e-2);
            check_close(cpu.updated, gpu.updated, "parameter after SGD", 1.5e-2);
        }
}
