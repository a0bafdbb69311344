#include "store/file_store.h"

#include <cstdio>

#include "service/http.h"
#include "common/sha256.h"

namespace chiron::store {

using service::Params;
using service::Row;
using service::Tx;

std::string megabytes(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

namespace {

FileEntry entry_from(const Row& r, std::string path) {
  // Columns: version, sha256, size, deleted, created_at, session_id, author_id
  FileEntry e;
  e.path = std::move(path);
  e.version = r.integer(0);
  e.sha256 = r.text(1);
  e.size = static_cast<uint64_t>(r.integer(2));
  e.deleted = r.integer(3) != 0;
  e.updated_at = r.integer(4);
  e.session_id = r.integer(5);
  e.author_id = r.integer(6);
  return e;
}

Status quota_error(uint64_t used, uint64_t adding, uint64_t quota) {
  return service::api_status(StatusCode::kResourceExhausted, "quota_exceeded",
                   "quota exceeded: " + megabytes(used) + " used of " + megabytes(quota) + ", this file needs " +
                       megabytes(adding) + " more");
}

}  // namespace

Result<SaveResult> FileStore::save(const WriteContext& w, std::string_view path, std::string_view content,
                                   std::string sha256) {
  CHIRON_ASSIGN_OR_RETURN(Staged staged, stage(w, path, content, std::move(sha256)));
  if (staged.unchanged) return std::move(*staged.unchanged);
  return commit(w, path, &staged.blob, false);
}

Result<FileStore::Staged> FileStore::stage(const WriteContext& w, std::string_view path, std::string_view content,
                                           std::string sha256) {
  if (content.size() > limits_.max_file_bytes) {
    return service::api_status(StatusCode::kResourceExhausted, "too_large",
                     "file is larger than the per-file limit of " + megabytes(limits_.max_file_bytes));
  }
  BlobInfo blob{sha256.empty() ? sha256_hex(content) : std::move(sha256), content.size()};
  // Cheap checks first: an unchanged save or a full quota writes no blob.
  auto latest = get(w.channel_id, path, std::nullopt);
  if (latest.ok() && latest->sha256 == blob.sha256) {
    return Staged{SaveResult{std::string(path), latest->version, blob.sha256, blob.size, true, false}, {}};
  }
  CHIRON_RETURN_IF_ERROR(precheck(w.channel_id, blob.sha256, blob.size));
  CHIRON_ASSIGN_OR_RETURN(BlobInfo stored, blobs_.put(content, blob.sha256));
  return Staged{std::nullopt, std::move(stored)};
}

Result<SaveResult> FileStore::save_blob(const WriteContext& w, std::string_view path, const BlobInfo& blob,
                                        bool require_known) {
  if (blob.size > limits_.max_file_bytes) {
    return service::api_status(StatusCode::kResourceExhausted, "too_large",
                     "file is larger than the per-file limit of " + megabytes(limits_.max_file_bytes));
  }
  return commit(w, path, &blob, require_known);
}

Result<SaveResult> FileStore::remove(const WriteContext& w, std::string_view path) {
  return commit(w, path, nullptr, false);
}

Result<SaveResult> FileStore::commit(const WriteContext& w, std::string_view path, const BlobInfo* blob,
                                     bool require_known) {
  const int64_t now = clock_.unix_ms();
  return db_.write_value<SaveResult>([&](Tx& tx) -> Result<SaveResult> {
    CHIRON_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT version, sha256, deleted FROM files WHERE channel_id = ? AND path = ?",
                                                   {w.channel_id, std::string(path)}));
    const bool live = row && row->integer(2) == 0;
    SaveResult out;
    out.path = std::string(path);
    if (blob == nullptr) {
      if (!live) return Status::not_found("no file " + std::string(path));
      out.deleted = true;
    } else {
      out.sha256 = blob->sha256;
      out.size = blob->size;
      if (live && row->text(1) == blob->sha256) {
        out.version = row->integer(0);
        out.unchanged = true;
        return out;
      }
      if (!live) {
        CHIRON_ASSIGN_OR_RETURN(auto count, tx.query_one("SELECT COUNT(*) FROM files WHERE channel_id = ? AND deleted = 0",
                                                         {w.channel_id}));
        if (count && static_cast<uint64_t>(count->integer(0)) >= limits_.max_files) {
          return service::api_status(StatusCode::kFailedPrecondition, "too_many_files",
                           "the channel has " + std::to_string(count->integer(0)) + " files, the limit is " +
                               std::to_string(limits_.max_files));
        }
      }
      CHIRON_ASSIGN_OR_RETURN(auto known, tx.query_one("SELECT size FROM file_blobs WHERE channel_id = ? AND sha256 = ?",
                                                       {w.channel_id, blob->sha256}));
      if (!known) {
        if (require_known) {
          return service::api_status(StatusCode::kNotFound, "blob_unknown", "this channel has no blob " + blob->sha256);
        }
        CHIRON_ASSIGN_OR_RETURN(auto used_row, tx.query_one("SELECT used_bytes FROM file_usage WHERE channel_id = ?",
                                                            {w.channel_id}));
        uint64_t used = used_row ? static_cast<uint64_t>(used_row->integer(0)) : 0;
        if (used + blob->size > limits_.quota_bytes) return quota_error(used, blob->size, limits_.quota_bytes);
        CHIRON_RETURN_IF_ERROR(tx.exec("INSERT INTO file_blobs (channel_id, sha256, size) VALUES (?, ?, ?)",
                                       {w.channel_id, blob->sha256, static_cast<int64_t>(blob->size)}));
        CHIRON_RETURN_IF_ERROR(tx.exec(
            "INSERT INTO file_usage (channel_id, owner_id, used_bytes) VALUES (?, ?, ?) "
            "ON CONFLICT (channel_id) DO UPDATE SET used_bytes = file_usage.used_bytes + excluded.used_bytes, "
            "owner_id = excluded.owner_id",
            {w.channel_id, w.owner_id, static_cast<int64_t>(blob->size)}));
      }
    }
    out.version = row ? row->integer(0) + 1 : 1;
    const int64_t deleted = out.deleted ? 1 : 0;
    CHIRON_RETURN_IF_ERROR(tx.exec(
        "INSERT INTO file_versions (channel_id, path, version, sha256, size, deleted, created_at, session_id, author_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {w.channel_id, out.path, out.version, out.sha256, static_cast<int64_t>(out.size), deleted, now, w.session_id,
         w.author_id}));
    CHIRON_RETURN_IF_ERROR(tx.exec(
        "INSERT INTO files (channel_id, path, version, sha256, size, deleted, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (channel_id, path) DO UPDATE SET version = excluded.version, sha256 = excluded.sha256, "
        "size = excluded.size, deleted = excluded.deleted, updated_at = excluded.updated_at",
        {w.channel_id, out.path, out.version, out.sha256, static_cast<int64_t>(out.size), deleted, now}));
    return out;
  });
}

Status FileStore::precheck(int64_t channel_id, std::string_view sha256, uint64_t size) {
  if (size > limits_.max_file_bytes) {
    return service::api_status(StatusCode::kResourceExhausted, "too_large",
                     "file is larger than the per-file limit of " + megabytes(limits_.max_file_bytes));
  }
  return db_.read([&](Tx& tx) -> Status {
    CHIRON_ASSIGN_OR_RETURN(auto known, tx.query_one("SELECT size FROM file_blobs WHERE channel_id = ? AND sha256 = ?",
                                                     {channel_id, std::string(sha256)}));
    if (known) return Status();
    CHIRON_ASSIGN_OR_RETURN(auto used_row, tx.query_one("SELECT used_bytes FROM file_usage WHERE channel_id = ?", {channel_id}));
    uint64_t used = used_row ? static_cast<uint64_t>(used_row->integer(0)) : 0;
    if (used + size > limits_.quota_bytes) return quota_error(used, size, limits_.quota_bytes);
    return Status();
  });
}

Result<std::vector<FileEntry>> FileStore::list(int64_t channel_id) {
  return db_.read_value<std::vector<FileEntry>>([&](Tx& tx) -> Result<std::vector<FileEntry>> {
    CHIRON_ASSIGN_OR_RETURN(auto rows, tx.query("SELECT version, sha256, size, deleted, updated_at, 0, 0, path FROM files "
                                                "WHERE channel_id = ? AND deleted = 0 ORDER BY path",
                                                {channel_id}));
    std::vector<FileEntry> out;
    out.reserve(rows.size());
    for (const Row& r : rows) out.push_back(entry_from(r, r.text(7)));
    return out;
  });
}

Result<FileEntry> FileStore::get(int64_t channel_id, std::string_view path, std::optional<int64_t> version) {
  return db_.read_value<FileEntry>([&](Tx& tx) -> Result<FileEntry> {
    std::optional<Row> row;
    if (version) {
      CHIRON_ASSIGN_OR_RETURN(row, tx.query_one("SELECT version, sha256, size, deleted, created_at, session_id, author_id "
                                                "FROM file_versions WHERE channel_id = ? AND path = ? AND version = ?",
                                                {channel_id, std::string(path), *version}));
      if (!row) return Status::not_found("no version " + std::to_string(*version) + " of " + std::string(path));
    } else {
      CHIRON_ASSIGN_OR_RETURN(row, tx.query_one("SELECT version, sha256, size, deleted, updated_at, 0, 0 "
                                                "FROM files WHERE channel_id = ? AND path = ?",
                                                {channel_id, std::string(path)}));
      if (!row || row->integer(3) != 0) return Status::not_found("no file " + std::string(path));
    }
    return entry_from(*row, std::string(path));
  });
}

Result<std::vector<FileEntry>> FileStore::history(int64_t channel_id, std::string_view path, int64_t limit) {
  return db_.read_value<std::vector<FileEntry>>([&](Tx& tx) -> Result<std::vector<FileEntry>> {
    CHIRON_ASSIGN_OR_RETURN(auto rows, tx.query("SELECT version, sha256, size, deleted, created_at, session_id, author_id "
                                                "FROM file_versions WHERE channel_id = ? AND path = ? "
                                                "ORDER BY version DESC LIMIT ?",
                                                {channel_id, std::string(path), limit}));
    if (rows.empty()) return Status::not_found("no file " + std::string(path));
    std::vector<FileEntry> out;
    out.reserve(rows.size());
    for (const Row& r : rows) out.push_back(entry_from(r, std::string(path)));
    return out;
  });
}

Result<Usage> FileStore::usage(int64_t channel_id) {
  return db_.read_value<Usage>([&](Tx& tx) -> Result<Usage> {
    Usage u;
    CHIRON_ASSIGN_OR_RETURN(auto used, tx.query_one("SELECT used_bytes FROM file_usage WHERE channel_id = ?", {channel_id}));
    if (used) u.used_bytes = static_cast<uint64_t>(used->integer(0));
    CHIRON_ASSIGN_OR_RETURN(auto live, tx.query_one("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM files "
                                                    "WHERE channel_id = ? AND deleted = 0",
                                                    {channel_id}));
    if (live) {
      u.live_files = static_cast<uint64_t>(live->integer(0));
      u.live_bytes = static_cast<uint64_t>(live->integer(1));
    }
    return u;
  });
}

}  // namespace chiron::store
