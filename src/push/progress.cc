#include "push/progress.h"

#include <chrono>

namespace chiron::push {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string human_bytes(uint64_t b) {
  char buf[32];
  if (b < 1024) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  } else if (b < (1u << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(b) / 1024);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(b) / (1 << 20));
  }
  return buf;
}

}  // namespace

const char* sync_state_name(SyncState s) {
  switch (s) {
    case SyncState::kStarting: return "starting";
    case SyncState::kScanning: return "scanning";
    case SyncState::kSyncing: return "syncing";
    case SyncState::kSynced: return "synced";
    case SyncState::kRetrying: return "retrying";
    case SyncState::kStopping: return "stopping";
  }
  return "?";
}

void Progress::line_locked(const std::string& line) {
  if (mode_ == Mode::kTty && drawn_) std::fputs("\r\x1b[K", out_);
  std::fputs(line.c_str(), out_);
  std::fputc('\n', out_);
  drawn_ = false;
  if (mode_ == Mode::kTty) redraw_locked(true);
  std::fflush(out_);
}

void Progress::redraw_locked(bool force) {
  if (mode_ != Mode::kTty) return;
  const int64_t now = now_ms();
  if (!force && now - last_draw_ms_ < 100) return;
  last_draw_ms_ = now;
  std::string s = "\r\x1b[K[";
  if (st_.state == SyncState::kRetrying) {
    const int64_t left = st_.retry_at_ms > now ? st_.retry_at_ms - now : 0;
    char buf[48];
    std::snprintf(buf, sizeof buf, "retrying in %.1fs", static_cast<double>(left) / 1000);
    s += buf;
  } else {
    s += sync_state_name(st_.state);
  }
  s += "] " + std::to_string(st_.files) + " files " + human_bytes(st_.bytes) + " synced, " +
       std::to_string(st_.deleted) + " deleted, " + std::to_string(st_.pending) + " pending, " +
       std::to_string(st_.errors) + " errors";
  if (!st_.current.empty() && st_.state != SyncState::kSynced) s += "  " + st_.current.substr(0, 60);
  std::fputs(s.c_str(), out_);
  std::fflush(out_);
  drawn_ = true;
}

void Progress::set_state(SyncState s) {
  std::lock_guard lock(mu_);
  if (st_.state == s) return;
  st_.state = s;
  if (s == SyncState::kSynced) st_.current.clear();
  if (mode_ == Mode::kLines && s != SyncState::kRetrying) line_locked("state " + std::string(sync_state_name(s)));
  redraw_locked(true);
}

void Progress::set_pending(uint64_t n) {
  std::lock_guard lock(mu_);
  st_.pending = n;
  redraw_locked(false);
}

void Progress::set_current(const std::string& path) {
  std::lock_guard lock(mu_);
  st_.current = path;
  redraw_locked(false);
}

void Progress::uploaded(const std::string& path, uint64_t bytes, bool copy) {
  std::lock_guard lock(mu_);
  st_.files++;
  st_.bytes += bytes;
  if (st_.pending > 0) st_.pending--;
  if (mode_ == Mode::kLines) {
    line_locked(std::string(copy ? "copy" : "upload") + " path=" + path + " bytes=" + std::to_string(bytes));
  } else {
    redraw_locked(false);
  }
}

void Progress::deleted(const std::string& path) {
  std::lock_guard lock(mu_);
  st_.deleted++;
  if (st_.pending > 0) st_.pending--;
  if (mode_ == Mode::kLines) {
    line_locked("delete path=" + path);
  } else {
    redraw_locked(false);
  }
}

void Progress::skipped() {
  std::lock_guard lock(mu_);
  if (st_.pending > 0) st_.pending--;
  redraw_locked(false);
}

void Progress::error(const std::string& path, const std::string& why) {
  std::lock_guard lock(mu_);
  st_.errors++;
  if (st_.pending > 0) st_.pending--;
  const std::string line = "error path=" + path + ": " + why;
  if (mode_ == Mode::kQuiet) {
    std::fprintf(stderr, "chiron push: %s\n", line.c_str());
  } else {
    line_locked(line);
  }
}

void Progress::retrying(int64_t delay_ms, const std::string& why) {
  std::lock_guard lock(mu_);
  st_.state = SyncState::kRetrying;
  st_.retry_at_ms = now_ms() + delay_ms;
  if (mode_ == Mode::kLines) {
    line_locked("retry in_ms=" + std::to_string(delay_ms) + ": " + why);
  } else {
    redraw_locked(true);
  }
}

void Progress::recovered() {
  std::lock_guard lock(mu_);
  if (st_.state != SyncState::kRetrying) return;
  st_.state = SyncState::kSyncing;
  if (mode_ == Mode::kLines) line_locked("recovered");
  redraw_locked(true);
}

void Progress::note(const std::string& line) {
  std::lock_guard lock(mu_);
  if (mode_ != Mode::kQuiet) line_locked(line);
}

void Progress::summary(int64_t elapsed_ms) {
  std::lock_guard lock(mu_);
  if (mode_ == Mode::kQuiet) return;
  line_locked("synced files=" + std::to_string(st_.files) + " bytes=" + std::to_string(st_.bytes) +
              " deleted=" + std::to_string(st_.deleted) + " errors=" + std::to_string(st_.errors) +
              " ms=" + std::to_string(elapsed_ms));
}

void Progress::tick() {
  std::lock_guard lock(mu_);
  if (st_.state == SyncState::kRetrying) redraw_locked(false);
}

void Progress::finish() {
  std::lock_guard lock(mu_);
  if (mode_ == Mode::kTty && drawn_) {
    std::fputc('\n', out_);
    std::fflush(out_);
    drawn_ = false;
  }
}

ProgressStats Progress::stats() const {
  std::lock_guard lock(mu_);
  return st_;
}

}  // namespace chiron::push
