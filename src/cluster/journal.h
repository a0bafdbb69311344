#pragma once
// CONTRACT (owner: sched) — the node's durable job journal: a job survives a full-cluster
// restart (research/subordination.md §3, done properly: fsync'd, checksummed, compacted).
//
// File: <data>/journal/jobs.log, records appended and fdatasync'd before append() returns:
//   u32 length | u32 crc32c(body) | body (ByteWriter: u8 kind, u64 job, fields…)
// kinds: start {app, args[], submitted_unix_ms, main kernel blob}, checkpoint {seq (1, 2, …
// per job), main kernel blob}, end {exit_code, summary, ended_unix_ms} (journal.cc DESIGN has
// the exact layout). On open the file is replayed; a torn or corrupt tail
// (kill -9 mid-write) is truncated away with a warning — records before it are kept; a
// corrupt record in the middle stops replay there (the file is kept aside as .corrupt-<ts>
// and a new one started from what was read). compact() rewrites the live state (unfinished
// jobs: start + last checkpoint; the last `keep_finished` finished ones: start + last
// checkpoint + end) to a temporary file, fsyncs it, renames it over the log and fsyncs the
// directory; append() compacts by itself when the file exceeds compact_bytes and has doubled
// since the last compaction (and at the first append after open when the file is already
// over compact_bytes). Finished jobs dropped by compaction are dropped from jobs() too; replaying
// a compacted log gives exactly the jobs() it was written from. After a failed fdatasync
// every later append fails (reopen to recover). A LOCK file (flock) keeps a second opener out.
// Thread-safe (one mutex); every call blocks on the disk: call it on the disk pipeline.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/messages.h"
#include "common/result.h"
#include "common/status.h"

namespace chiron::cluster {

struct JournalOptions {
  size_t compact_bytes = size_t{8} << 20;
  size_t keep_finished = 100;
  bool fsync = true;  // tests of the format may turn it off; the node never does
};

struct JournalJob {
  uint64_t job = 0;
  std::string app;
  std::vector<std::string> args;
  int64_t submitted_unix_ms = 0;
  KernelBlob main;                     // the start state, or the last checkpoint
  uint64_t checkpoints = 0;
  std::optional<int32_t> exit_code;    // set once ended
  std::string summary;
  int64_t ended_unix_ms = 0;
};

class Journal {
 public:
  // Opens the journal directory `dir` (normally <data>/journal; created if missing, with
  // dir/jobs.log) and replays. failed_precondition if another Journal holds it open.
  static Result<std::unique_ptr<Journal>> open(const std::filesystem::path& dir, JournalOptions options = {});
  ~Journal();

  // Each returns once the record is on disk. already_exists / not_found /
  // failed_precondition (ended job) are refused without writing.
  Status start(const JournalJob& job);  // job, app, args, submitted_unix_ms, main
  Status checkpoint(uint64_t job, const KernelBlob& main);
  Status end(uint64_t job, int32_t exit_code, const std::string& summary, int64_t ended_unix_ms);
  Status compact();

  // Jobs as replayed + appended since (unfinished first, then finished, each by job id).
  std::vector<JournalJob> jobs() const;
  std::vector<JournalJob> unfinished() const;
  uint64_t file_bytes() const;
  // What open() had to repair ("truncated 17 bytes of a torn record at offset 4096"), if anything.
  std::string recovery_note() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  explicit Journal(std::unique_ptr<Impl> impl);
};

}  // namespace chiron::cluster
