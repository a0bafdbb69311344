#pragma once
// Progress: what `chiron push` tells the user. On a terminal, one status line redrawn in place
// (state, files and bytes synced, pending, errors, current file); otherwise one `key=value` log
// line per event (scripts, tests, CI logs); quiet mode prints errors only (stderr).
// Thread-safe (workers report concurrently).

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace chiron::push {

enum class SyncState { kStarting, kScanning, kSyncing, kSynced, kRetrying, kStopping };
const char* sync_state_name(SyncState s);

struct ProgressStats {
  uint64_t files = 0;    // uploads + copies this run
  uint64_t bytes = 0;    // bytes of those files
  uint64_t deleted = 0;  // deletes this run
  uint64_t errors = 0;   // files that failed with a non-retryable answer
  uint64_t pending = 0;
  SyncState state = SyncState::kStarting;
  int64_t retry_at_ms = 0;  // steady ms when retrying
  std::string current;
};

class Progress {
 public:
  enum class Mode { kTty, kLines, kQuiet };
  explicit Progress(Mode mode, std::FILE* out = stdout) : mode_(mode), out_(out) {}

  void set_state(SyncState s);
  void set_pending(uint64_t n);
  void set_current(const std::string& path);
  void uploaded(const std::string& path, uint64_t bytes, bool copy);
  void deleted(const std::string& path);
  // A pending path turned out to be in sync already.
  void skipped();
  void error(const std::string& path, const std::string& why);
  void retrying(int64_t delay_ms, const std::string& why);
  void recovered();
  // A free-form line ("scan local=... remote=...", "watching ..."); not shown when quiet.
  void note(const std::string& line);
  // Prints the summary line ("synced files=... bytes=... deleted=... errors=... ms=...").
  void summary(int64_t elapsed_ms);
  // Redraws the status line if due (the TTY countdown); called periodically by the app.
  void tick();
  // Ends the status line (TTY) before exit.
  void finish();

  ProgressStats stats() const;

 private:
  void line_locked(const std::string& line);  // prints one event line (above the status line on a TTY)
  void redraw_locked(bool force);

  const Mode mode_;
  std::FILE* out_;
  mutable std::mutex mu_;
  ProgressStats st_;        // Guarded by mu_
  int64_t last_draw_ms_ = 0;  // Guarded by mu_
  bool drawn_ = false;        // Guarded by mu_
};

}  // namespace chiron::push
