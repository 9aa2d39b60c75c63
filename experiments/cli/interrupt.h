// experiments/cli/interrupt.h — SIGINT (Ctrl-C) and SIGTERM (a scheduler's preemption) as a request to stop training
// at the end of the current step, with a checkpoint there; a second signal ends the program at once, as usual.
#pragma once

namespace bplab::cli {

/// Installs the handlers for SIGINT and SIGTERM; each goes back to the default once caught.
void catch_stop_signals();
/// The first signal caught (SIGINT or SIGTERM), or 0.
int stop_signal();
/// "SIGINT (Ctrl-C)" or "SIGTERM", for messages.
const char* stop_signal_name(int signal);
/// Ends the program by the signal caught (its default action, now restored), after flushing output: a shell
/// then sees a program killed by it, and a script's loop stops too (an exit status of 130 would not stop bash's).
[[noreturn]] void end_by_stop_signal();

}  // namespace bplab::cli
