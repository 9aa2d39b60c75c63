// experiments/cli/common.cpp — helpers shared by the subcommands: threads, optimiser, atomic text files.
// Kept here so that train and step read their common flags the same way.
#include <Eigen/Core>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef BPLAB_HAVE_CUDA
#include "backends/cuda/cuda_backend.h"
#endif
#include "core/autocast.h"
#include "core/optim/sgd.h"
#include "core/train/method.h"
#include "experiments/cli/commands.h"

namespace bplab::cli {

void add_thread_flag(Flags& flags) { flags.add("threads", "0", "CPU threads for kernels (0: all cores)"); }

void add_recompute_flag(Flags& flags) {
    flags.add_switch("recompute", "recompute LayerNorm and GELU outputs in backward instead of saving them "
                                  "(ViT/ConvNeXt: same gradients, less memory)");
}

const char* recompute_note(const Flags& flags) {
    return flags.on("recompute") ? ", LayerNorm and GELU outputs recomputed" : "";
}

int apply_threads(const Flags& flags) {
    const std::int64_t n = flags.integer("threads");
#ifdef _OPENMP
    const int cores = omp_get_num_procs();
#else
    const int cores = 1;
#endif
    if (n < 0 || n > cores)
        throw std::invalid_argument("--threads " + std::to_string(n) + ": expected 0 (all) to " + std::to_string(cores) +
                                    " (the cores of this machine)");
#ifdef _OPENMP
    if (n > 0) omp_set_num_threads(static_cast<int>(n));
    const int used = omp_get_max_threads();
#else
    const int used = 1;
#endif
    Eigen::setNbThreads(used);
    return used;
}

Device use_device(const std::string& text) try {
    const Device device = parse_device(text);
    if (device.is_cpu()) return device;
#ifdef BPLAB_HAVE_CUDA
    cuda::install(device.index);
    return device;
#else
    throw std::invalid_argument("this bplab was built without CUDA (configure where nvcc is found, with -DBPLAB_CUDA=ON)");
#endif
} catch (const std::exception& e) {
    throw std::invalid_argument("--device " + text + ": " + e.what());
}

void add_tf32_flag(Flags& flags) {
    flags.add_switch("tf32", "with --device cuda: f32 matrix products on TF32 tensor cores (operands rounded to 10 mantissa "
                             "bits, as PyTorch's allow_tf32): faster, less exact; off by default");
}

void use_tf32(Device device, bool on) {
    if (!on) return;
    if (device.is_cpu()) throw std::invalid_argument("--tf32: for --device cuda (the CPU computes matrix products in f32)");
#ifdef BPLAB_HAVE_CUDA
    cuda::install(device.index).set_tf32(true);
#endif
}

void add_amp_flag(Flags& flags) {
    flags.add("amp", "", "mixed precision: bf16 = the linear layers, convolutions, attention and GELU read their "
                         "operands rounded to bfloat16, sum in f32 and keep their inputs for backward in bf16 "
                         "(empty: off, f32 throughout)");
}

std::optional<DType> amp_from(const Flags& flags) {
    if (flags.str("amp").empty()) return std::nullopt;
    return parse_autocast_dtype("--amp", flags.str("amp"));
}

void add_optimizer_flags(Flags& flags, const std::string& default_lr) {
    flags.add("lr", default_lr, "learning rate")
        .add("momentum", "0", "SGD momentum (0: plain SGD)")
        .add("weight-decay", "0", "SGD weight decay (coupled, as torch.optim.SGD)")
        .add_switch("nesterov", "Nesterov momentum");
}

std::unique_ptr<Optimizer> make_optimizer(const Flags& flags, const std::vector<Tensor>& params) {
    SgdOptions o;
    o.lr = flags.real("lr");
    o.momentum = flags.real("momentum");
    o.weight_decay = flags.real("weight-decay");
    o.nesterov = flags.on("nesterov");
    return std::make_unique<Sgd>(params, o);
}

void write_text_atomic(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp." + std::to_string(getpid());
    {
        std::ofstream out(tmp, std::ios::binary);
        if (!out) throw std::runtime_error(tmp + ": cannot open for writing");
        out << text;
        out.flush();
        if (!out) throw std::runtime_error(tmp + ": write failed");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw std::runtime_error(path + ": cannot replace with " + tmp);
    }
}

}  // namespace bplab::cli
