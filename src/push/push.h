#pragma once
// chiron push: the paper's Chiron-Push (§5.2) done properly — mirrors a project directory into a
// channel's live code storage (docs/platform-api.md "Files") while the streamer codes.
//
// DESIGN
// - Start-up reconcile: GET the server's file list, hash the local tree, upload what differs
//   (PUT, ?from_sha256= for content the channel already holds, the resumable upload API above
//   4 MiB) and delete on the server what is gone locally (or now ignored).
// - Then (unless once) watch with recursive inotify (push/watcher.h), debounce per path, sync.
// - Ignore rules: .gitignore semantics plus .chironignore (push/ignore.h); `.git/` always.
// - Only regular files are synced. Symbolic links are never followed (neither to files nor to
//   directories) and never uploaded: a link could point outside the project (publishing
//   ~/.ssh by accident) or form a loop. Empty directories are not represented (the API stores
//   files only).
// - Network failures, 5xx, 408, 429: retried with exponential backoff + jitter (max 10 s between
//   tries, forever by default); other 4xx: reported for that file, the client keeps going.
// - http:// or https:// (OpenSSL: system CAs or --ca-file, host name verified, SNI).
// Threads: the caller's thread runs the engine (run()); a watcher thread reads inotify; `jobs`
// worker threads make requests during batches. stop() is thread-safe (signal-handling thread).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"

namespace chiron::push {

struct PushOptions {
  std::string dir;     // project directory
  std::string server;  // http://host:port
  std::string token;   // push token (Authorization: Bearer)
  std::string channel; // channel name; empty: asked from the server (GET /api/v1/push/channel)
  std::string ca_file; // https: PEM CA bundle to trust instead of the system store
  bool once = false;   // reconcile, then exit (0 = everything synced, 1 = errors)
  bool quiet = false;
  int progress = -1;   // 1 = TTY status line, 0 = log lines, -1 = decide by isatty(stdout)
  int jobs = 4;
  int64_t debounce_ms = 50;
  int64_t debounce_max_ms = 500;
  int64_t retry_max_ms = 10'000;
  int max_attempts = 0;  // 0 = retry forever
  int64_t timeout_ms = 60'000;
};

class PushClient {
 public:
  static Result<std::unique_ptr<PushClient>> create(PushOptions options);
  virtual ~PushClient() = default;
  // Runs until done (once) or stop(); returns the process exit code.
  virtual int run() = 0;
  virtual void stop() = 0;
  // Periodic redraw of the TTY status line (retry countdown); call from any thread.
  virtual void tick() = 0;
};

}  // namespace chiron::push
