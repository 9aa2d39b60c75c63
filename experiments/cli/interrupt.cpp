// experiments/cli/interrupt.cpp — the handler only records the signal, says so on stderr and restores the default
// actions (all async-signal-safe); the trainer reads the record between steps, from any thread.
#include "experiments/cli/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>

namespace bplab::cli {
namespace {

std::atomic<int> caught{0};
static_assert(std::atomic<int>::is_always_lock_free, "a signal handler may only touch lock-free atomics");
static_assert(std::atomic<bool>::is_always_lock_free, "a signal handler may only touch lock-free atomics");
std::atomic<bool> handling_int{false}, handling_term{false};  // not when the signal was ignored at start (`cmd &`)

extern "C" void on_stop_signal(int signal) {
    int none = 0;
    caught.compare_exchange_strong(none, signal);
    if (handling_int) std::signal(SIGINT, SIG_DFL);  // a second signal, of either kind, ends the program at once
    if (handling_term) std::signal(SIGTERM, SIG_DFL);
    constexpr char note[] = "\nbplab: stopping after this step, with a checkpoint (signal again to quit at once)\n";
    [[maybe_unused]] const auto written = write(STDERR_FILENO, note, sizeof note - 1);
}

}  // namespace

void catch_stop_signals() {
    for (const int signal : {SIGINT, SIGTERM}) {
        struct sigaction old {};
        sigaction(signal, nullptr, &old);
        if (old.sa_handler == SIG_IGN) continue;  // a shell ignores SIGINT for background jobs: it stays ignored
        (signal == SIGINT ? handling_int : handling_term) = true;
        std::signal(signal, on_stop_signal);
    }
}

int stop_signal() { return caught.load(); }

const char* stop_signal_name(int signal) { return signal == SIGINT ? "SIGINT (Ctrl-C)" : signal == SIGTERM ? "SIGTERM" : "a signal"; }

void end_by_stop_signal() {
    std::fflush(nullptr);
    std::raise(caught.load());
    std::_Exit(128 + caught.load());  // not reached: the default action of SIGINT and SIGTERM ends the process
}

}  // namespace bplab::cli
