// experiments/cli/commands.h — the subcommands of the `bplab` program and their shared helpers.
// Each subcommand lives in its own file and returns the process exit code.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "core/optim/optimizer.h"
#include "experiments/cli/flags.h"
#include "models/mlp.h"

namespace bplab::cli {

int train_command(int argc, char** argv);
int step_command(int argc, char** argv);
int compare_command(int argc, char** argv);
int toy_command(int argc, char** argv);
int mem_command(int argc, char** argv);
int grads_command(int argc, char** argv);
int grad_sim_command(int argc, char** argv);
int check_data_command(int argc, char** argv);
int eval_command(int argc, char** argv);

/// Declares --threads (0: OpenMP's default).
void add_thread_flag(Flags& flags);
/// Sets OpenMP's and Eigen's threads from --threads (0: OpenMP's default); returns the number in use.
int apply_threads(const Flags& flags);

/// Declares --recompute (ViT/ConvNeXt: LayerNorm and GELU outputs recomputed in backward, not kept).
void add_recompute_flag(Flags& flags);
/// ", LayerNorm and GELU outputs recomputed" when --recompute was given, else "": for a run's title line.
const char* recompute_note(const Flags& flags);

/// The device named by a --device value, made ready: "cuda" installs the CUDA backend (and fails clearly
/// in a build without CUDA or on a machine without a GPU).
Device use_device(const std::string& text);
/// --tf32: f32 matrix products on the GPU's TF32 tensor cores (cuda::CudaBackend::set_tf32); refused on a CPU,
/// which computes in f32. Call after use_device.
void use_tf32(Device device, bool on);
/// Declares --tf32.
void add_tf32_flag(Flags& flags);

/// Declares --amp (mixed precision, core/autocast.h).
void add_amp_flag(Flags& flags);
/// --amp's dtype (bf16), or none when it is empty; throws naming the flag otherwise.
std::optional<DType> amp_from(const Flags& flags);

/// Declares the optimiser flags (--lr, --momentum, --weight-decay, --nesterov).
void add_optimizer_flags(Flags& flags, const std::string& default_lr);
std::unique_ptr<Optimizer> make_optimizer(const Flags& flags, const std::vector<Tensor>& params);

/// Writes text to path atomically (temp file + rename).
void write_text_atomic(const std::string& path, const std::string& text);

}  // namespace bplab::cli
