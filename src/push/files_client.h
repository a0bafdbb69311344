#pragma once
// FilesClient: the push client's side of docs/platform-api.md "Files" over a Transport — list,
// PUT (body or ?from_sha256=), DELETE and the resumable upload API — with retries: network
// failures, 5xx, 408 and 429 are retried with exponential backoff and jitter (bounded delay;
// forever unless max_attempts is set); any other answer is returned to the caller as an ApiReply.
// Not thread-safe: one per worker thread (it owns its Transport).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/result.h"
#include "push/planner.h"
#include "push/transport.h"

namespace chiron::push {

struct RemoteFile {
  std::string path;
  FileState state;
};

// A non-retryable answer: 2xx or a 4xx error with the contract's {"error":{code,message}}.
struct ApiReply {
  int status = 0;
  std::string code;     // error code ("blob_unknown", "quota_exceeded", ...), "" on success
  std::string message;  // error message
  std::string body;
  bool ok() const { return status >= 200 && status < 300; }
  std::string describe() const;  // "413 quota_exceeded: ..."
};

struct RetryPolicy {
  int64_t initial_ms = 200;
  int64_t max_ms = 10'000;
  int max_attempts = 0;  // 0 = forever
};

struct ClientHooks {
  // Sleeps for ms unless stopping; returns false when stopping.
  std::function<bool(int64_t ms)> sleep;
  // Told before each backoff wait ("retrying in N ms because ...") and after a recovery.
  std::function<void(int64_t delay_ms, const std::string& why)> on_retry;
  std::function<void()> on_recovered;
  const std::atomic<bool>* stop = nullptr;
};

// Percent-encodes a path for a URL (every byte but unreserved characters and '/').
std::string url_encode_path(std::string_view path);

class FilesClient {
 public:
  FilesClient(std::unique_ptr<Transport> transport, std::string channel, RetryPolicy policy, ClientHooks hooks);

  // GET /files. Status error: stopped, out of attempts, or an unexpected non-2xx answer.
  Result<std::vector<RemoteFile>> list();
  // PUT /files/<path> with the content (and X-Chiron-Sha256).
  Result<ApiReply> put(const std::string& path, const std::string& content, const std::string& sha256);
  // PUT /files/<path>?from_sha256=<sha> with an empty body.
  Result<ApiReply> put_from(const std::string& path, const std::string& sha256);
  // DELETE /files/<path>.
  Result<ApiReply> remove(const std::string& path);
  // The resumable upload API for the file at `abs_path` whose content hashes to sha256 (size bytes).
  // Resumes from the server's `received` after an interruption; an upload the server lost is
  // restarted. A file that changed while uploading ends in 422 checksum_mismatch (returned).
  Result<ApiReply> upload(const std::string& path, const std::string& abs_path, uint64_t size,
                          const std::string& sha256, const std::function<void(uint64_t sent)>& on_progress);

  // One exchange with retries (public for tests).
  Result<HttpResponse> call(const HttpRequest& request);

 private:
  std::string files_target(const std::string& path) const;
  bool stopping() const { return hooks_.stop && hooks_.stop->load(); }

  std::unique_ptr<Transport> transport_;
  std::string channel_;
  RetryPolicy policy_;
  ClientHooks hooks_;
  std::mt19937_64 rng_;
};

// Parses an answer into an ApiReply (error code/message from the JSON error body, if any).
ApiReply to_reply(const HttpResponse& response);

}  // namespace chiron::push
