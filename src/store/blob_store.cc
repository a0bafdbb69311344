#include "store/blob_store.h"

#include "service/http.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

#include "common/ids.h"
#include "common/sha256.h"

namespace chiron::store {

namespace fs = std::filesystem;

Status fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::from_errno("open dir " + dir.string(), errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::from_errno("fsync dir " + dir.string(), err);
  return Status();
}

namespace {

Status make_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::io_error("create " + dir.string() + ": " + ec.message());
  return Status();
}

Status write_all(int fd, std::string_view bytes, const fs::path& p) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::from_errno("write " + p.string(), errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status();
}

}  // namespace

Result<std::unique_ptr<BlobStore>> BlobStore::open(const fs::path& data_dir) {
  fs::path blobs = data_dir / "blobs";
  fs::path tmp = data_dir / "tmp";
  CHIRON_RETURN_IF_ERROR(make_dir(blobs));
  CHIRON_RETURN_IF_ERROR(make_dir(tmp));
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(tmp, ec)) {
    std::error_code rm_ec;
    fs::remove_all(entry.path(), rm_ec);
  }
  if (ec) return Status::io_error("list " + tmp.string() + ": " + ec.message());
  return std::unique_ptr<BlobStore>(new BlobStore(std::move(blobs), std::move(tmp)));
}

fs::path BlobStore::path_of(std::string_view sha256) const {
  return blobs_ / std::string(sha256.substr(0, 2)) / std::string(sha256);
}

bool BlobStore::exists(std::string_view sha256) const {
  if (!is_sha256_hex(sha256)) return false;
  struct stat st{};
  return ::stat(path_of(sha256).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<uint64_t> BlobStore::size(std::string_view sha256) const {
  struct stat st{};
  if (!is_sha256_hex(sha256) || ::stat(path_of(sha256).c_str(), &st) != 0) {
    return Status::not_found("blob " + std::string(sha256));
  }
  return static_cast<uint64_t>(st.st_size);
}

Status BlobStore::install(const fs::path& from, std::string_view sha256) {
  fs::path dir = blobs_ / std::string(sha256.substr(0, 2));
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0) {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Status::from_errno("mkdir " + dir.string(), errno);
    CHIRON_RETURN_IF_ERROR(fsync_dir(blobs_));
  }
  fs::path to = dir / std::string(sha256);
  if (::rename(from.c_str(), to.c_str()) != 0) return Status::from_errno("rename to " + to.string(), errno);
  return fsync_dir(dir);
}

Result<BlobInfo> BlobStore::put(std::string_view bytes, std::string_view sha256) {
  BlobInfo info{sha256.empty() ? sha256_hex(bytes) : std::string(sha256), bytes.size()};
  if (exists(info.sha256)) return info;
  fs::path tmp = tmp_ / ("blob-" + random_hex(12));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd < 0) return Status::from_errno("create " + tmp.string(), errno);
  Status st = write_all(fd, bytes, tmp);
  if (st.ok() && ::fsync(fd) != 0) st = Status::from_errno("fsync " + tmp.string(), errno);
  ::close(fd);
  if (st.ok()) st = install(tmp, info.sha256);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return info;
}

Result<BlobInfo> BlobStore::adopt(const fs::path& file, std::string_view sha256) {
  uint64_t size = 0;
  CHIRON_ASSIGN_OR_RETURN(std::string actual, sha256_file(file, &size));
  if (actual != sha256) {
    return service::api_status(StatusCode::kInvalidArgument, "checksum_mismatch",
                              "content hashes to " + actual + ", expected " + std::string(sha256));
  }
  BlobInfo info{actual, size};
  if (exists(actual)) {
    ::unlink(file.c_str());
    return info;
  }
  ::chmod(file.c_str(), 0444);
  CHIRON_RETURN_IF_ERROR(install(file, actual));
  return info;
}

Result<std::string> BlobStore::read_prefix(std::string_view sha256, size_t max_bytes) const {
  if (!is_sha256_hex(sha256)) return Status::not_found("blob " + std::string(sha256));
  const fs::path p = path_of(sha256);
  std::error_code ec;
  if (!fs::exists(p, ec)) return Status::not_found("blob " + std::string(sha256));
  std::string out;
  CHIRON_RETURN_IF_ERROR(for_each_file_chunk(p, 1 << 16, [&](std::string_view bytes) {
    out.append(bytes.substr(0, max_bytes - out.size()));
    return out.size() < max_bytes;
  }));
  return out;
}

Result<std::string> BlobStore::read(std::string_view sha256) const { return read_prefix(sha256, SIZE_MAX); }

Result<int64_t> BlobStore::line_count(std::string_view sha256) const {
  if (!is_sha256_hex(sha256)) return Status::not_found("blob " + std::string(sha256));
  int64_t newlines = 0;
  char last = '\n';
  CHIRON_RETURN_IF_ERROR(for_each_file_chunk(path_of(sha256), 1 << 20, [&](std::string_view bytes) {
    for (char c : bytes) newlines += c == '\n';
    last = bytes.back();
    return true;
  }));
  return newlines + (last == '\n' ? 0 : 1);
}

}  // namespace chiron::store
