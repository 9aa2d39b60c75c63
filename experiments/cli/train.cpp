// experiments/cli/train.cpp — `bplab train`: trains one model with one method.
// Writes <out>/config.json, <out>/metrics.jsonl (a line per epoch) and <out>/checkpoint.safetensors.
#include <iostream>
#include <stdexcept>

#include "experiments/cli/commands.h"
#include "experiments/cli/interrupt.h"
#include "experiments/cli/run.h"

namespace bplab::cli {

int train_command(int argc, char** argv) {
    Flags flags("bplab train", "Trains a model with one training method; writes <out>/config.json, <out>/metrics.jsonl\n"
                         "(one line per epoch) and <out>/checkpoint.safetensors (replaced atomically after every epoch,\n"
                         "every --checkpoint-every steps, and when Ctrl-C or SIGTERM stops the run after its current step).");
    add_run_flags(flags);
    flags.add("method", "backprop", "training method: " + choices(method_names()))
        .add("lr", "0.1", "learning rate")
        .add("out", "", "output folder (default: runs/<data>-<model>-<method>-lr<lr>)")
        .add_switch("resume", "continue the run in --out from its checkpoint (bit-identical to an uninterrupted run)")
        .add_switch("overwrite", "replace a run already in --out (without it, that is an error)")
        .add("checkpoint-every", "0", "also checkpoint inside epochs, every N steps (0: at epochs' ends only); --resume "
                                      "continues from that step");
    if (!flags.parse(argc, argv, 2)) return 0;
    apply_threads(flags);
    RunSpec spec = run_spec_from(flags);
    spec.method = flags.str("method");
    step_method(spec.method);  // reject an unknown method before loading data
    spec.lr = flags.real("lr");
    spec.out = flags.str("out");
    spec.resume = flags.on("resume");
    spec.overwrite = flags.on("overwrite");
    spec.checkpoint_every = flags.integer("checkpoint-every");
    if (spec.checkpoint_every < 0)
        throw std::invalid_argument("--checkpoint-every " + flags.str("checkpoint-every") + ": expected a number of steps >= 0");
    if (spec.resume && spec.overwrite) throw std::invalid_argument("--resume and --overwrite: give one or the other");
    if (!spec.resume) require_meaningful(spec, {spec.lr});
    if (spec.out.empty())
        spec.out = "runs/" + flags.str("data") + "-" + flags.str("model") + "-" + spec.method + "-lr" + flags.str("lr");
    const TrainTest data = load_data(flags);
    std::cout << "bplab train: " << spec.model << " with " << spec.method << " on " << spec.data << " ("
              << data.train.size() << " train / " << data.test.size() << " test), " << spec.optimizer << " lr " << spec.lr
              << ", batch " << spec.batch << ", " << spec.epochs << " epochs";
    std::cout << " -> " << spec.out << "\n";
    catch_stop_signals();
    const RunResult result = run_training(spec, data);
    if (stop_signal()) {  // a stop asked for ends the program by its signal, so that a script's loop stops too
        if (!result.stopped)
            std::cout << stop_signal_name(stop_signal()) << " came while the last epoch was evaluated: the run is complete\n";
        std::cout.flush();
        end_by_stop_signal();
    }
    return 0;
}

}  // namespace bplab::cli
