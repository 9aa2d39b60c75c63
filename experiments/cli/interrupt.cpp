// experiments/cli/interrupt.cpp — the handler only records the signal and restores the default action (both
// async-signal-safe); the trainer reads the record between steps.
#include "experiments/cli/interrupt.h"

#include <csignal>

namespace bplab::cli {
namespace {

volatile std::sig_atomic_t caught = 0;

extern "C" void on_stop_signal(int signal) {
    if (caught == 0) caught = signal;
    std::signal(signal, SIG_DFL);
}

}  // namespace

void catch_stop_signals() {
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
}

int stop_signal() { return caught; }

const char* stop_signal_name(int signal) { return signal == SIGINT ? "SIGINT (Ctrl-C)" : signal == SIGTERM ? "SIGTERM" : "a signal"; }

}  // namespace bplab::cli
