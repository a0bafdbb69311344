#pragma once
// UploadStore: resumable uploads (docs/platform-api.md "Files": POST .../uploads, PUT
// /uploads/:id?offset=N, GET, DELETE).
//
// DESIGN: chunks are appended to <data>/uploads/<id>.part and fsync'd before the new
// `received` is committed to the Db, and only then acknowledged: `received` never exceeds
// what is durable in the part file. A crash between the write and the commit leaves extra
// bytes past `received`; the next chunk truncates them away (the client resends from the
// acknowledged offset). Chunks of one upload are serialised by a striped in-process mutex.
// When the last byte arrives the service verifies the whole SHA-256 (streaming), adopts the
// part file into the BlobStore and commits a version; the upload row keeps the committed
// version (so a retried final PUT answers the same) until it expires. Uploads untouched for
// 24 h expire; open() and sweep() delete them and stray part files.
//
// Thread-safe.

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "service/db.h"

namespace chiron::store {

inline constexpr int64_t kUploadExpiryMs = 24LL * 3600 * 1000;

struct Upload {
  std::string id;
  int64_t channel_id = 0;
  std::string channel_name;
  std::string path;
  uint64_t size = 0;
  std::string sha256;
  uint64_t received = 0;
  int64_t author_id = 0;
  int64_t version = 0;  // > 0 once committed
  int64_t updated_at = 0;
};

class UploadStore {
 public:
  // Creates <data>/uploads and sweeps expired uploads and orphan part files.
  static Result<std::unique_ptr<UploadStore>> open(service::Db& db, const std::filesystem::path& data_dir,
                                                   const Clock& clock);

  Result<Upload> create(int64_t channel_id, std::string_view channel_name, std::string_view path, uint64_t size,
                        std::string_view sha256, int64_t author_id);
  // kNotFound for unknown or expired uploads.
  Result<Upload> get(std::string_view id);
  // Appends a chunk at `offset` (must equal received → else kFailedPrecondition
  // "offset_mismatch"); durable on return. Call with lock(id) held.
  Result<Upload> append(std::string_view id, uint64_t offset, std::string_view chunk);
  Status mark_committed(std::string_view id, int64_t version);
  // Removes the row and the part file.
  Status discard(std::string_view id);
  // Deletes expired uploads; returns how many.
  Result<int64_t> sweep();

  std::filesystem::path part_path(std::string_view id) const;
  // Serialises the chunks of one upload.
  std::unique_lock<std::mutex> lock(std::string_view id);

 private:
  UploadStore(service::Db& db, std::filesystem::path dir, const Clock& clock) : db_(db), dir_(std::move(dir)), clock_(clock) {}
  Status remove_orphan_parts();

  service::Db& db_;
  std::filesystem::path dir_;
  const Clock& clock_;
  std::array<std::mutex, 64> stripes_;
};

}  // namespace chiron::store
