// experiments/cli/step.cpp — `bplab step`: exactly one training step from given weights and batch.
// Writes the loss before and after, every gradient ("grad.<name>") and the updated weights ("<name>").
#include <iostream>
#include <stdexcept>

#include "core/io/safetensors.h"
#include "core/ops.h"
#include "core/train/backprop.h"
#include "core/train/method.h"
#include "experiments/cli/commands.h"

namespace bplab::cli {
namespace {

/// The MLP whose layers fc1..fcN the weights file describes (sizes and dtype read from it).
MlpConfig mlp_config_from(const NamedTensors& weights) {
    MlpConfig c;
    c.hidden.clear();
    int layers = 0;
    while (weights.contains("fc" + std::to_string(layers + 1) + ".weight")) ++layers;
    if (layers == 0) throw std::runtime_error(weights.path + ": no fc1.weight (expected MLP weights fc1.weight, fc1.bias, ...)");
    for (int i = 1; i <= layers; ++i) {
        const Tensor& w = weights.get("fc" + std::to_string(i) + ".weight");
        if (w.dim() != 2) throw std::runtime_error(weights.path + ": fc" + std::to_string(i) + ".weight has shape " + shape_str(w.shape()) + " (expected 2-D)");
        if (i == 1) c.inputs = w.size(1);
        if (i < layers) c.hidden.push_back(w.size(0));
        else c.classes = w.size(0);
    }
    c.dtype = weights.get("fc1.weight").dtype();
    return c;
}

}  // namespace

int step_command(int argc, char** argv) {
    Flags flags("bplab step", "Runs one training step of a method from the weights and batch given, and writes loss_before,\n"
                        "loss_after (same batch), grad.<name> for every parameter and the updated <name>.");
    flags.add("model", "mlp", "model name (mlp; its sizes and dtype are read from --weights)")
        .add("weights", "", "safetensors file with the parameters (fc1.weight, fc1.bias, ...)")
        .add("batch", "", "safetensors file with x (B, inputs) and y (B) int64 labels")
        .add("method", "backprop", "training method")
        .add("out", "", "safetensors file to write");
    add_optimizer_flags(flags, "0.1");
    flags.add("device", "cpu", "cpu | cuda (the step runs there; the output file is written from the CPU)");
    add_thread_flag(flags);
    if (!flags.parse(argc, argv, 2)) return 0;
    apply_threads(flags);
    for (const char* required : {"weights", "batch", "out"})
        if (flags.str(required).empty()) throw std::invalid_argument(std::string("--") + required + " is required (see --help)");
    if (flags.str("model") != "mlp") throw std::invalid_argument("--model " + flags.str("model") + ": expected mlp");

    const NamedTensors weights = load_safetensors(flags.str("weights"));
    const NamedTensors batch_file = load_safetensors(flags.str("batch"));
    Mlp model(mlp_config_from(weights));
    model.load_parameters(weights.tensors, flags.str("weights"));
    const Tensor& y = batch_file.get("y");
    Batch batch{batch_file.get("x").to(model.config().dtype), y.dtype() == DType::i64 ? y : y.to(DType::i64)};
    if (batch.x.dim() != 2 || batch.x.size(1) != model.config().inputs)
        throw std::runtime_error(flags.str("batch") + ": x has shape " + shape_str(batch.x.shape()) + " (expected (B, " +
                                 std::to_string(model.config().inputs) + "))");
    const Device device = use_device(flags.str("device"));
    model.to(device);
    batch.x = batch.x.to(device);
    batch.y = batch.y.to(device);

    auto optimizer = make_optimizer(flags, model.parameters());
    const double before = step_method(flags.str("method"))(model, batch, *optimizer);
    NamedTensorList out;
    for (const auto& [name, p] : model.named_parameters()) out.emplace_back("grad." + name, p.grad());
    for (const auto& [name, p] : model.named_parameters()) out.emplace_back(name, p);
    double after;
    {
        NoGradGuard no_grad;
        after = batch_loss(model, batch).item();
    }
    out.emplace_back("loss_before", Tensor::from_vector({before}, {1}, model.config().dtype));
    out.emplace_back("loss_after", Tensor::from_vector({after}, {1}, model.config().dtype));
    save_safetensors(flags.str("out"), out,
                     {{"method", flags.str("method")}, {"lr", flags.str("lr")}, {"weights", flags.str("weights")},
                      {"batch", flags.str("batch")}});
    std::cout << "bplab step: " << flags.str("method") << ", loss " << before << " -> " << after << ", wrote "
              << flags.str("out") << "\n";
    return 0;
}

}  // namespace bplab::cli
