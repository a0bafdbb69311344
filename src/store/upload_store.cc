#include "store/upload_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <optional>
#include <system_error>

#include "common/ids.h"
#include "service/http.h"
#include "store/blob_store.h"

namespace chiron::store {

namespace fs = std::filesystem;
using service::Row;
using service::Tx;

namespace {

constexpr std::string_view kColumns =
    "id, channel_id, channel_name, path, size, sha256, received, author_id, version, updated_at";

Upload upload_from(const Row& r) {
  Upload u;
  u.id = r.text(0);
  u.channel_id = r.integer(1);
  u.channel_name = r.text(2);
  u.path = r.text(3);
  u.size = static_cast<uint64_t>(r.integer(4));
  u.sha256 = r.text(5);
  u.received = static_cast<uint64_t>(r.integer(6));
  u.author_id = r.integer(7);
  u.version = r.integer(8);
  u.updated_at = r.integer(9);
  return u;
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<UploadStore>> UploadStore::open(service::Db& db, const fs::path& data_dir, const Clock& clock) {
  fs::path dir = data_dir / "uploads";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::io_error("create " + dir.string() + ": " + ec.message());
  std::unique_ptr<UploadStore> store(new UploadStore(db, dir, clock));
  CHIRON_RETURN_IF_ERROR(store->sweep().status());
  CHIRON_RETURN_IF_ERROR(store->remove_orphan_parts());
  return store;
}

fs::path UploadStore::part_path(std::string_view id) const { return dir_ / (std::string(id) + ".part"); }

std::unique_lock<std::mutex> UploadStore::lock(std::string_view id) {
  return std::unique_lock<std::mutex>(stripes_[std::hash<std::string_view>{}(id) % stripes_.size()]);
}

Result<Upload> UploadStore::create(int64_t channel_id, std::string_view channel_name, std::string_view path,
                                   uint64_t size, std::string_view sha256, int64_t author_id) {
  Upload u;
  u.id = random_hex(16);
  u.channel_id = channel_id;
  u.channel_name = std::string(channel_name);
  u.path = std::string(path);
  u.size = size;
  u.sha256 = std::string(sha256);
  u.author_id = author_id;
  u.updated_at = clock_.unix_ms();
  fs::path part = part_path(u.id);
  int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::from_errno("create " + part.string(), errno);
  ::close(fd);
  CHIRON_RETURN_IF_ERROR(fsync_dir(dir_));
  Status st = db_.write([&](Tx& tx) -> Status {
    return tx.exec("INSERT INTO file_uploads (id, channel_id, channel_name, path, size, sha256, received, author_id, "
                   "version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, 0, ?, ?)",
                   {u.id, channel_id, u.channel_name, u.path, static_cast<int64_t>(size), u.sha256, author_id,
                    u.updated_at, u.updated_at})
        .status();
  });
  if (!st.ok()) {
    ::unlink(part.c_str());
    return st;
  }
  return u;
}

Result<Upload> UploadStore::get(std::string_view id) {
  if (!valid_id(id)) return Status::not_found("no upload " + std::string(id));
  const int64_t cutoff = clock_.unix_ms() - kUploadExpiryMs;
  return db_.read_value<Upload>([&](Tx& tx) -> Result<Upload> {
    CHIRON_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT " + std::string(kColumns) + " FROM file_uploads WHERE id = ?",
                                                   {std::string(id)}));
    if (!row || row->integer(9) < cutoff) return Status::not_found("no upload " + std::string(id));
    return upload_from(*row);
  });
}

Result<Upload> UploadStore::append(std::string_view id, uint64_t offset, std::string_view chunk) {
  CHIRON_ASSIGN_OR_RETURN(Upload u, get(id));
  if (offset != u.received) {
    return service::api_status(StatusCode::kFailedPrecondition, "offset_mismatch",
                     "offset " + std::to_string(offset) + " but the server has received " + std::to_string(u.received) +
                         " bytes");
  }
  if (u.received + chunk.size() > u.size) {
    return Status::invalid_argument("chunk runs past the declared size " + std::to_string(u.size));
  }
  fs::path part = part_path(id);
  int fd = ::open(part.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Status::from_errno("open " + part.string(), errno);
  Status st;
  // Bytes past `received` were never acknowledged (a crash between write and commit).
  if (::ftruncate(fd, static_cast<off_t>(u.received)) != 0) st = Status::from_errno("truncate " + part.string(), errno);
  std::string_view rest = chunk;
  off_t at = static_cast<off_t>(u.received);
  while (st.ok() && !rest.empty()) {
    ssize_t n = ::pwrite(fd, rest.data(), rest.size(), at);
    if (n < 0) {
      if (errno == EINTR) continue;
      st = Status::from_errno("write " + part.string(), errno);
      break;
    }
    rest.remove_prefix(static_cast<size_t>(n));
    at += n;
  }
  if (st.ok() && ::fsync(fd) != 0) st = Status::from_errno("fsync " + part.string(), errno);
  ::close(fd);
  CHIRON_RETURN_IF_ERROR(st);
  const int64_t now = clock_.unix_ms();
  const uint64_t received = u.received + chunk.size();
  CHIRON_RETURN_IF_ERROR(db_.write([&](Tx& tx) -> Status {
    CHIRON_ASSIGN_OR_RETURN(int64_t n, tx.exec("UPDATE file_uploads SET received = ?, updated_at = ? WHERE id = ? AND received = ?",
                                               {static_cast<int64_t>(received), now, std::string(id),
                                                static_cast<int64_t>(u.received)}));
    if (n != 1) return Status::aborted("upload " + std::string(id) + " changed concurrently");
    return Status();
  }));
  u.received = received;
  u.updated_at = now;
  return u;
}

Status UploadStore::mark_committed(std::string_view id, int64_t version) {
  const int64_t now = clock_.unix_ms();
  return db_.write([&](Tx& tx) -> Status {
    return tx.exec("UPDATE file_uploads SET version = ?, updated_at = ? WHERE id = ?", {version, now, std::string(id)})
        .status();
  });
}

Status UploadStore::discard(std::string_view id) {
  CHIRON_RETURN_IF_ERROR(db_.write([&](Tx& tx) -> Status {
    return tx.exec("DELETE FROM file_uploads WHERE id = ?", {std::string(id)}).status();
  }));
  if (valid_id(id)) ::unlink(part_path(id).c_str());
  return Status();
}

Result<int64_t> UploadStore::sweep() {
  const int64_t cutoff = clock_.unix_ms() - kUploadExpiryMs;
  CHIRON_ASSIGN_OR_RETURN(auto ids, db_.read_value<std::vector<std::string>>([&](Tx& tx) -> Result<std::vector<std::string>> {
    CHIRON_ASSIGN_OR_RETURN(auto rows, tx.query("SELECT id FROM file_uploads WHERE updated_at < ?", {cutoff}));
    std::vector<std::string> out;
    for (const Row& r : rows) out.push_back(r.text(0));
    return out;
  }));
  for (const std::string& id : ids) CHIRON_RETURN_IF_ERROR(discard(id));
  return static_cast<int64_t>(ids.size());
}

Status UploadStore::remove_orphan_parts() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() <= 5 || name.substr(name.size() - 5) != ".part") {
      std::error_code rm;
      fs::remove_all(entry.path(), rm);
      continue;
    }
    std::string id = name.substr(0, name.size() - 5);
    CHIRON_ASSIGN_OR_RETURN(bool known, db_.read_value<bool>([&](Tx& tx) -> Result<bool> {
      CHIRON_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT received FROM file_uploads WHERE id = ?", {id}));
      return row.has_value();
    }));
    if (!known) ::unlink(entry.path().c_str());
  }
  if (ec) return Status::io_error("list " + dir_.string() + ": " + ec.message());
  return Status();
}

}  // namespace chiron::store
