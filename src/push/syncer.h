#pragma once
// Syncer: the sync engine of `chiron push` — start-up reconcile with the server's file list, then
// (watch mode) debounced per-path syncs driven by Watcher events.
//
// DESIGN
// - The engine keeps a model of the server (path → size/sha256 from GET /files, updated by every
//   successful request) and the set of blobs the channel is known to hold; plan_file() turns
//   (local state, model) into one request. What is synced is what is on disk when the path's
//   turn comes (lstat + hash then), so event order and duplicates do not matter.
// - A local-file cache (size, mtime, ctime, inode → sha256) avoids re-hashing unchanged files on
//   rescans.
// - Requests run on `jobs` worker threads, each with its own FilesClient/Transport (keep-alive
//   connection); the model is guarded by mu_. Retries (network errors, 5xx, 408, 429) happen
//   inside FilesClient; other 4xx are reported per file and the engine keeps going.
// - Events arrive from the watcher thread via on_event() (thread-safe); run_watch() runs in the
//   engine thread until request_stop().

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "push/debouncer.h"
#include "push/files_client.h"
#include "push/progress.h"
#include "push/watcher.h"

namespace chiron::push {

struct SyncOptions {
  std::string root;  // absolute project directory
  std::string channel;
  int jobs = 4;
  int64_t debounce_ms = 50;
  int64_t debounce_max_ms = 500;
  RetryPolicy retry;
  uint64_t max_put_bytes = kMaxPutBytes;
};

class Syncer {
 public:
  using TransportFactory = std::function<std::unique_ptr<Transport>()>;
  Syncer(SyncOptions options, SharedIgnore& ignore, Progress& progress, TransportFactory make_transport);
  ~Syncer();

  // GET the server's list, walk and hash the tree, then upload what differs and delete what is
  // gone. Error: stopped, or the list could not be fetched (e.g. 401/404 — a wrong token/channel).
  Status reconcile();
  // Syncs these paths as they are on disk now (parallel).
  void sync_paths(const std::vector<std::string>& paths);
  // Watch mode: handles events until request_stop(). Thread-safe producer side: on_event().
  void run_watch();
  void on_event(FsEvent event);
  void request_stop();
  bool stopping() const { return stop_.load(); }
  const std::atomic<bool>& stop_flag() const { return stop_; }

  // Interruptible sleep for retries; false when stopping.
  bool sleep_ms(int64_t ms);

  uint64_t errors() const { return errors_.load(); }
  // Set when the server refused the token itself (401/403 on a write): nothing can sync, so the
  // engine stops; empty otherwise.
  std::string fatal() const;
  std::map<std::string, FileState> remote_model() const;

 private:
  struct CacheEntry {
    uint64_t size;
    int64_t mtime_ns;
    int64_t ctime_ns;
    uint64_t ino;
    std::string sha256;
  };
  // The local state of `path` (nullopt: absent, ignored, or not a regular file).
  std::optional<FileState> local_state(const std::string& path);
  // Brings the server's `path` up to date with the disk (a few attempts if it changes underneath).
  void sync_one(FilesClient& client, const std::string& path, const std::optional<FileState>& planned_local);
  // Runs fn(client, i) for i in [0, n) on the worker threads.
  // Reports a non-retryable answer for `path`; 401/403 make the whole run fail (see fatal()).
  void report(const std::string& path, const std::string& what, const ApiReply& reply);
  void parallel(size_t n, const std::function<void(FilesClient&, size_t)>& fn);
  FilesClient& client(size_t worker);
  std::vector<std::string> walk();

  SyncOptions options_;
  SharedIgnore& ignore_;
  Progress& progress_;
  TransportFactory make_transport_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> errors_{0};
  std::vector<std::unique_ptr<FilesClient>> clients_;  // one per worker, created on first use

  mutable std::mutex mu_;
  std::map<std::string, FileState> remote_;   // Guarded by mu_
  std::set<std::string> blobs_;               // Guarded by mu_
  std::map<std::string, CacheEntry> cache_;   // Guarded by mu_
  std::string fatal_;                         // Guarded by mu_

  std::mutex qmu_;
  std::condition_variable qcv_;
  std::deque<FsEvent> queue_;  // Guarded by qmu_
};

}  // namespace chiron::push
