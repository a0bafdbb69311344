#pragma once
// The sync planner: given what a path is locally and what the server has, which single request
// brings the server up to date. Pure functions (unit-tested without a server); the engine feeds
// them the local file's SHA-256 and its model of the server's file list.
//
// - same SHA-256 on both sides → nothing (uploading only changed content);
// - content the channel already stored (a move, a revert, a copy) → PUT ?from_sha256= (no body);
// - otherwise a body PUT, or the resumable upload API above max_put_bytes;
// - gone locally (deleted, ignored, not a regular file) but on the server → DELETE.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace chiron::push {

struct FileState {
  uint64_t size = 0;
  std::string sha256;  // lower-case hex
  friend bool operator==(const FileState&, const FileState&) = default;
};

enum class ActionKind { kNone, kPut, kUpload, kCopy, kDelete };
const char* action_name(ActionKind kind);

struct Action {
  ActionKind kind = ActionKind::kNone;
  std::string path;
  uint64_t size = 0;
  std::string sha256;
};

inline constexpr uint64_t kMaxPutBytes = 4ull << 20;  // docs/platform-api.md "Files": PUT ≤ 4 MiB

Action plan_file(const std::string& path, const std::optional<FileState>& local,
                 const std::optional<FileState>& remote, const std::set<std::string>& known_blobs,
                 uint64_t max_put_bytes = kMaxPutBytes);

// Start-up reconcile: one action per path that differs (sorted by path; deletes included).
std::vector<Action> plan_reconcile(const std::map<std::string, FileState>& local,
                                   const std::map<std::string, FileState>& remote,
                                   const std::set<std::string>& known_blobs,
                                   uint64_t max_put_bytes = kMaxPutBytes);

// Exponential backoff with jitter: attempt n (0-based) waits a random time in
// [d/2, d] with d = min(max_ms, initial_ms * 2^n). Pure given the random value in [0, 1).
int64_t backoff_delay_ms(int attempt, double random01, int64_t initial_ms = 200, int64_t max_ms = 10'000);

// Whether an HTTP status is worth retrying (server trouble or throttling) rather than reporting.
inline bool retryable_http_status(int status) { return status >= 500 || status == 408 || status == 429; }

}  // namespace chiron::push
