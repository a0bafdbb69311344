// chiron push DIR --server URL --token T [--channel NAME]: mirrors a project directory into the
// channel's live code storage (src/push/push.h). SIGINT/SIGTERM stop it cleanly (exit 0).

#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <thread>

#include "chiron/commands.h"
#include "chiron/signals.h"
#include "push/push.h"

namespace chiron::app {
namespace {

int run_push(push::PushOptions options, bool tty, bool no_tty) {
  if (tty) options.progress = 1;
  if (no_tty) options.progress = 0;
  // create() may wait for the server (it asks which channel the token writes to) and starts no
  // thread: Ctrl-C still ends the process the default way while it runs.
  auto client = push::PushClient::create(std::move(options));
  if (!client.ok()) {
    std::fprintf(stderr, "chiron push: %s\n", client.status().message().c_str());
    return 2;
  }
  // Before any thread starts, so the workers inherit the mask and the signal comes to sigtimedwait.
  sigset_t set = block_shutdown_signals();
  // The engine thread says "finished" with SIGUSR1, so the exit is not held back to the next tick.
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  const pthread_t main_thread = pthread_self();
  std::atomic<bool> done{false};
  int code = 0;
  std::thread engine([&] {
    code = (*client)->run();
    done = true;
    pthread_kill(main_thread, SIGUSR1);
  });
  while (!done) {
    const timespec tick{0, 200'000'000};
    const int sig = ::sigtimedwait(&set, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) {
      (*client)->stop();
      break;
    }
    (*client)->tick();
  }
  engine.join();
  return code;
}

}  // namespace

void add_push_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "push", "Mirror a project directory into a channel's live code storage (watches it and syncs every save)");
  auto opts = std::make_shared<push::PushOptions>();
  auto tty = std::make_shared<bool>(false);
  auto no_tty = std::make_shared<bool>(false);
  cmd->add_option("dir", opts->dir, "Project directory")->required();
  cmd->add_option("--server", opts->server, "Server base URL (http://host:port or https://host:port)")->required()->envname("CHIRON_SERVER");
  cmd->add_option("--token", opts->token, "The channel's push token")->required()->envname("CHIRON_PUSH_TOKEN");
  cmd->add_option("--channel", opts->channel, "Channel name (default: asked from the server for the token)")->envname("CHIRON_CHANNEL");
  cmd->add_option("--ca-file", opts->ca_file, "https: PEM CA bundle to trust instead of the system store");
  cmd->add_flag("--once", opts->once, "Reconcile once, then exit (0 = all synced, 1 = errors)");
  cmd->add_flag("--quiet,-q", opts->quiet, "Print errors only");
  cmd->add_flag("--progress", *tty, "Force the in-place status line");
  cmd->add_flag("--log-lines", *no_tty, "Force one log line per event");
  cmd->add_option("--debounce-ms", opts->debounce_ms, "Quiet time per path before it is synced")->capture_default_str();
  cmd->add_option("--debounce-max-ms", opts->debounce_max_ms, "Longest a busy path waits")->capture_default_str();
  cmd->add_option("--jobs,-j", opts->jobs, "Parallel requests (connections)")->capture_default_str();
  cmd->add_option("--retry-max-ms", opts->retry_max_ms, "Longest wait between retries")->capture_default_str();
  cmd->add_option("--max-attempts", opts->max_attempts, "Give up a request after N tries (0 = never)")->capture_default_str();
  cmd->add_option("--timeout-ms", opts->timeout_ms, "Timeout of one HTTP exchange")->capture_default_str();
  cmd->callback([opts, tty, no_tty] { set_exit_code(run_push(*opts, *tty, *no_tty)); });
}

}  // namespace chiron::app
