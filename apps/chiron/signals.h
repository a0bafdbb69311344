#pragma once
// Shutdown signals for long-running subcommands (serve, ns): block SIGINT/SIGTERM before any
// thread starts (threads inherit the mask), then take them synchronously with sigwait on the
// main thread — no async-signal-safety concerns, no handler state.

#include <signal.h>

namespace chiron::app {

// Blocks SIGINT/SIGTERM in this thread and every thread it starts afterwards.
sigset_t block_shutdown_signals();
// Waits for one of the blocked signals; returns its number.
int wait_for_shutdown_signal(const sigset_t& set);
// "SIGINT" / "SIGTERM" (for logs).
const char* shutdown_signal_name(int sig);

}  // namespace chiron::app
