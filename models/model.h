// models/model.h — what training needs from a model: logits, and its ordered update units.
// Backforward updates the units one at a time, first to last; plain backprop updates all at once.
#pragma once
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "layers/module.h"
#include "layers/sbp/plan.h"

namespace bplab {

class Model : public Module {
public:
    /// Number of update units (MLP: its linear layers; ViT: embedding, blocks, head).
    virtual std::int64_t num_units() const = 0;
    /// Unit k maps the output of unit k−1 (the input for k = 0) to its own output; the last gives logits.
    virtual Tensor forward_unit(std::int64_t k, const Tensor& x) const = 0;
    /// The parameters that unit k owns.
    virtual std::vector<Tensor> unit_parameters(std::int64_t k) const = 0;

    /// The generator behind the model's training-time noise (DropPath, dropout); null if it has none.
    /// Checkpoints save its state so that a resumed run draws the same masks.
    virtual Rng* noise_rng() { return nullptr; }

    /// Stochastic Backpropagation (layers/sbp): models that support it override these three.
    virtual bool supports_sbp() const { return false; }
    /// Sets the SBP configuration (keep = 1 turns it off); throws if the model cannot split.
    virtual void set_sbp(const sbp::SbpConfig& config);
    /// Draws this step's plan; called once per training step, before its first forward. Training-mode
    /// forwards then follow the plan; evaluation always runs the exact model.
    virtual void begin_step() {}
    /// The current step's plan (null when SBP is off).
    virtual const sbp::StepPlan* sbp_plan() const { return nullptr; }
    /// One line for logs on what SBP does in this model (sbp::describe); empty when SBP is off.
    virtual std::string sbp_summary() const { return ""; }

    /// Units [from, to) applied in order.
    Tensor forward_units(const Tensor& x, std::int64_t from, std::int64_t to) const;
    /// The whole model: logits (B, classes).
    Tensor forward(const Tensor& x) const { return forward_units(x, 0, num_units()); }
};

}  // namespace bplab
