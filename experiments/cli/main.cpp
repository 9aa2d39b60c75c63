// experiments/cli/main.cpp — the `bplab` program: dispatches to a subcommand, turns errors into messages.
// Every error reaches the user as one line "bplab: ..." and exit code 1; usage errors exit 2.
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <new>

#include "experiments/cli/commands.h"

namespace {

constexpr const char* kUsage = R"(usage: bplab <command> [flags]

bplab trains small networks with plain backpropagation and its alternatives
(Backforward Propagation, Stochastic Backpropagation) on its own autograd.

commands:
  train       train a model on a dataset, writing metrics (JSONL) and checkpoints
  compare     train several methods and learning rates side by side; print a table
  toy         the Backforward abstract's toy: one step on a few digits, loss before/after
  step        run exactly one training step from given weights and batch; dump everything
  mem         peak memory and bytes saved for backward of one step, exact vs SBP
  grads       one step's parameters, input, kept indices, loss, logits and gradients to safetensors
  grad-sim    per-layer cosine similarity of SBP and exact weight gradients over K batches
  eval        a run's checkpoint on its test set: loss, top-1 and top-5, model and EMA weights
  check-data  decode every image of an ImageNet-style folder; list the files that cannot be read

Run `bplab <command> --help` for the flags of a command.
)";

}  // namespace

int main(int argc, char** argv) {
    // Line by line into a file or pipe too: a second Ctrl-C ends the program at once, and must not take the lines
    // already printed (the epochs' rows) with the unflushed buffer.
    std::setvbuf(stdout, nullptr, _IOLBF, BUFSIZ);
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
        std::cout << kUsage;
        return argc < 2 ? 2 : 0;
    }
    const std::string command = argv[1];
    try {
        if (command == "train") return bplab::cli::train_command(argc, argv);
        if (command == "step") return bplab::cli::step_command(argc, argv);
        if (command == "compare") return bplab::cli::compare_command(argc, argv);
        if (command == "toy") return bplab::cli::toy_command(argc, argv);
        if (command == "mem") return bplab::cli::mem_command(argc, argv);
        if (command == "grads") return bplab::cli::grads_command(argc, argv);
        if (command == "grad-sim") return bplab::cli::grad_sim_command(argc, argv);
        if (command == "check-data") return bplab::cli::check_data_command(argc, argv);
        if (command == "eval") return bplab::cli::eval_command(argc, argv);
        std::cerr << "bplab: unknown command '" << command << "'\n\n" << kUsage;
        return 2;
    } catch (const std::bad_alloc&) {
        std::cerr << "bplab " << command << ": out of memory (a model, batch or dataset too large for this machine?)\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "bplab " << command << ": " << e.what() << '\n';
        return 1;
    }
}
