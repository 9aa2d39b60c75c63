// experiments/cli/step.cpp — `bplab step`: exactly one training step from given weights and batch.
// Writes the loss before and after, every gradient ("grad.<name>") and the updated weights ("<name>").
#include <cmath>
#include <iostream>
#include <stdexcept>

#include "core/io/safetensors.h"
#include "core/ops.h"
#include "core/train/backprop.h"
#include "core/train/method.h"
#include "core/train/trainer.h"
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
    if (!is_floating(c.dtype))
        throw std::runtime_error(weights.path + ": fc1.weight is " + dtype_name(c.dtype) + " (expected F32 or F64 weights)");
    return c;
}

/// x (B, inputs) and y (B) integer labels in 0..classes−1 from the batch file, with B >= 1.
Batch read_batch(const NamedTensors& file, const MlpConfig& config) {
    const Tensor& x = file.get("x");
    const Tensor& labels = file.get("y");
    if (x.dim() != 2 || x.size(1) != config.inputs || x.size(0) < 1)
        throw std::runtime_error(file.path + ": x has shape " + shape_str(x.shape()) + " (expected (B, " +
                                 std::to_string(config.inputs) + ") with B >= 1)");
    if (is_floating(labels.dtype()) || labels.shape() != Shape{x.size(0)})
        throw std::runtime_error(file.path + ": y is " + dtype_name(labels.dtype()) + " of shape " +
                                 shape_str(labels.shape()) + " (expected integer labels of shape (" +
                                 std::to_string(x.size(0)) + "))");
    const Tensor y = labels.to(DType::i64);
    for (std::int64_t i = 0; i < y.numel(); ++i)
        if (const std::int64_t label = y.data<std::int64_t>()[i]; label < 0 || label >= config.classes)
            throw std::runtime_error(file.path + ": y[" + std::to_string(i) + "] is " + std::to_string(label) +
                                     " (expected a class in 0.." + std::to_string(config.classes - 1) + ")");
    return {x.to(config.dtype), y};
}

}  // namespace

int step_command(int argc, char** argv) {
    Flags flags("bplab step", "Runs one training step of a method from the weights and batch given, and writes loss_before,\n"
                        "loss_after (same batch), grad.<name> for every parameter and the updated <name>.");
    flags.add("model", "mlp", "model name (mlp; its sizes and dtype are read from --weights)")
        .add("weights", "", "safetensors file with the parameters (fc1.weight, fc1.bias, ...), or a bplab train checkpoint")
        .add("batch", "", "safetensors file with x (B, inputs) and y (B) integer labels")
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

    const NamedTensors weights = model_weights(load_safetensors(flags.str("weights")));
    Mlp model(mlp_config_from(weights));
    model.load_parameters(weights.tensors, flags.str("weights"));
    Batch batch = read_batch(load_safetensors(flags.str("batch")), model.config());
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
    if (!std::isfinite(before) || !std::isfinite(after)) {  // nothing written: a NaN file would pass for a result
        const auto show = [](double v) { return std::isnan(v) ? std::string("nan") : std::to_string(v); };
        throw std::runtime_error("the loss is " + show(before) + " before the step and " + show(after) +
                                 " after (non-finite values in " + flags.str("weights") + " or " + flags.str("batch") +
                                 ", or a learning rate too large); " + flags.str("out") + " not written");
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
