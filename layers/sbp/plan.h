// layers/sbp/plan.h — what SBP does in one training step: which blocks split, with which keep ratio,
// which rows, and how attention drops its graph. Drawn once per step, shared by all passes of the step.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/rng.h"
#include "layers/sbp/mask.h"

namespace bplab::sbp {

/// How the attention core keeps its graph (docs/derivations/sbp-attention.md):
/// qkv: kept queries attend to kept keys/values (the published default; the kept rows' forward changes);
/// qkv_exact: exact forward, gradient only through kept q, k, v; query: kept queries attend to all keys
/// and values (Eqs. 16–23); head: a random subset of heads keeps its graph.
enum class AttnMode { qkv, qkv_exact, query, head };
AttnMode parse_attn_mode(const std::string& text);
const char* attn_mode_name(AttnMode mode);

/// Keep ratios over the SBP blocks, first to last, all with the configured mean.
enum class RatioSchedule { uniform, increasing, decreasing };
RatioSchedule parse_ratio_schedule(const std::string& text);
const char* ratio_schedule_name(RatioSchedule schedule);

struct SbpConfig {
    double keep = 1.0;  ///< mean keep ratio r; 1 turns SBP off
    MaskKind mask = MaskKind::grid;
    std::string blocks;  ///< block selection (select_blocks); empty: the model's default
    RatioSchedule schedule = RatioSchedule::uniform;
    bool independent = false;  ///< one mask per block instead of one shared by all blocks
    AttnMode attn = AttnMode::qkv;
    bool split_proj = false;  ///< also split attention's output projection (changes dW_proj, see docs)
    bool enabled() const { return keep < 1.0; }
};

/// Which of the blocks use SBP. `spec` is a comma-separated list of items: all, none, first:N, last:N,
/// I, I-J (0-based block indices); an item may be prefixed by "sK/" to count within stage K
/// (e.g. "s0/all,s1/all,s2/first:6" for ConvNeXt). `stage_sizes` gives the blocks per stage.
std::vector<bool> select_blocks(const std::string& spec, const std::vector<std::int64_t>& stage_sizes);

/// The keep ratio of each of n SBP blocks: uniform r; increasing/decreasing: a linear ramp with mean r
/// and half-width d = min(r, 1 − r) / 2, so every ratio stays in (0, 1].
std::vector<double> block_ratios(double mean, RatioSchedule schedule, std::int64_t n);

/// One block's share of the plan.
struct BlockPlan {
    double ratio = 1.0;
    KeepMask mask;               ///< at the block's resolution
    RowSplit rows;               ///< token/position rows to keep and to drop
    std::vector<std::int64_t> heads;  ///< head mode: the heads that keep their graph (ascending)
};

/// The whole step: an entry per block of the model (empty where the block runs exactly).
struct StepPlan {
    SbpConfig config;
    std::vector<std::optional<BlockPlan>> blocks;
};

/// One line for logs on what SBP does in a model whose blocks are `selected` (true: split), e.g. "keep 0.5 on 4
/// of 6 blocks; grid mask keeps 1/2 of the positions on average; attention qkv". `attention`: the model has
/// attention (ViT), so the attention mode matters.
std::string describe(const SbpConfig& config, const std::vector<bool>& selected, bool attention);

/// Parses the --sbp-* flags' values into a config (used by the command line and tests).
SbpConfig make_config(double keep, const std::string& mask, const std::string& blocks, const std::string& schedule,
                      bool independent, const std::string& attn, bool split_proj);

}  // namespace bplab::sbp
