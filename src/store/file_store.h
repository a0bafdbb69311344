#pragma once
// FileStore: versioned files of channels — metadata in the Db (schema.h), content in the
// BlobStore.
//
// DESIGN: every save or delete is one write transaction that reads the path's latest version
// and inserts version + 1, so versions of a path are strictly increasing with no gaps or lost
// saves however many threads (or edges, on PostgreSQL SERIALIZABLE) save at once. The blob is
// made durable before the transaction starts; if the transaction fails the blob is an
// unreferenced orphan, never a visible partial file. A save equal to the latest content
// creates no version (unchanged). Quota: bytes of the distinct blobs a channel references
// (file_blobs), checked and charged in the same transaction that first references a blob.
//
// Errors carry an API code (service::api_status): too_many_files,
// quota_exceeded, blob_unknown.
//
// Thread-safe (all state is in the Db and on disk).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "service/db.h"
#include "store/blob_store.h"

namespace chiron::store {

struct StoreLimits {
  uint64_t quota_bytes = 100ull << 20;
  uint64_t max_file_bytes = 256ull << 20;
  uint64_t max_files = 10'000;
};

// Who writes, into which channel.
struct WriteContext {
  int64_t channel_id = 0;
  int64_t owner_id = 0;
  int64_t session_id = 0;  // the channel's live session, 0 when offline
  int64_t author_id = 0;
};

struct FileEntry {
  std::string path;
  int64_t version = 0;
  std::string sha256;  // "" for a tombstone
  uint64_t size = 0;
  bool deleted = false;
  int64_t updated_at = 0;  // unix ms (created_at of a version)
  int64_t session_id = 0;
  int64_t author_id = 0;
};

struct SaveResult {
  std::string path;
  int64_t version = 0;
  std::string sha256;
  uint64_t size = 0;
  bool unchanged = false;
  bool deleted = false;
};

struct Usage {
  uint64_t used_bytes = 0;
  uint64_t live_files = 0;
  uint64_t live_bytes = 0;  // sum of the latest versions' sizes
};

class FileStore {
 public:
  FileStore(service::Db& db, BlobStore& blobs, StoreLimits limits, const Clock& clock)
      : db_(db), blobs_(blobs), limits_(limits), clock_(clock) {}

  // Saves content as the path's next version (deduplicated, quota-checked).
  // sha256: the content's digest when the caller already computed it (empty: computed here).
  // = stage() then, unless unchanged, save_blob(w, path, blob, false).
  Result<SaveResult> save(const WriteContext& w, std::string_view path, std::string_view content,
                          std::string sha256 = {});
  // The first half of save(), without the version transaction: the size limit, the unchanged
  // check and the quota pre-check (cheap reads first), then the durable blob. Lets the PUT
  // graph write blobs in parallel and commit versions on one strand.
  struct Staged {
    std::optional<SaveResult> unchanged;  // set: equal to the latest version, nothing written
    BlobInfo blob;                        // else: durable, to commit with save_blob(.., false)
  };
  Result<Staged> stage(const WriteContext& w, std::string_view path, std::string_view content, std::string sha256 = {});
  // A new version pointing at a durable blob. require_known: the channel must already
  // reference the blob (PUT ?from_sha256) → else kNotFound "blob_unknown".
  Result<SaveResult> save_blob(const WriteContext& w, std::string_view path, const BlobInfo& blob, bool require_known);
  // Tombstone version; kNotFound when the path has no live version.
  Result<SaveResult> remove(const WriteContext& w, std::string_view path);

  // Would adding a blob of this size be within the quota (read-only pre-check before writing
  // a blob or starting an upload)? The authoritative check is in the save transaction.
  Status precheck(int64_t channel_id, std::string_view sha256, uint64_t size);

  // Live (non-deleted) files sorted by path.
  Result<std::vector<FileEntry>> list(int64_t channel_id);
  // Latest version (kNotFound if absent or deleted) or the given version (kNotFound if
  // absent; a tombstone is returned with deleted=true).
  Result<FileEntry> get(int64_t channel_id, std::string_view path, std::optional<int64_t> version);
  // Versions newest first (at most `limit`).
  Result<std::vector<FileEntry>> history(int64_t channel_id, std::string_view path, int64_t limit = 1000);
  Result<Usage> usage(int64_t channel_id);

  const StoreLimits& limits() const { return limits_; }

 private:
  Result<SaveResult> commit(const WriteContext& w, std::string_view path, const BlobInfo* blob, bool require_known);

  service::Db& db_;
  BlobStore& blobs_;
  StoreLimits limits_;
  const Clock& clock_;
};

// "100.0 MB" style figure for messages.
std::string megabytes(uint64_t bytes);

}  // namespace chiron::store
