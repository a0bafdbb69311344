#include "net/static_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "common/log.h"
#include "common/strings.h"
#include "net/http_date.h"
#include "net/http_gzip.h"
#include "net/mime.h"

namespace chiron::net {
namespace {

struct FileInfo {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  std::time_t mtime_s = 0;
};

std::string hex(uint64_t v) {
  char buf[24];
  int n = std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return std::string(buf, static_cast<size_t>(n));
}

std::string canonical(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) return {};
  return buf;
}

// RFC 9110 §13.1.2: weak comparison of a list of entity-tags against ours.
bool etag_list_matches(std::string_view list, std::string_view etag_a, std::string_view etag_b) {
  if (trim(list) == "*") return true;
  auto opaque = [](std::string_view t) {
    t = trim(t);
    if (t.starts_with("W/")) t.remove_prefix(2);
    return t;
  };
  for (std::string_view tag : split(list, ',')) {
    std::string_view t = opaque(tag);
    if (t == opaque(etag_a) || t == opaque(etag_b)) return true;
  }
  return false;
}

struct ByteRange {
  uint64_t first = 0;
  uint64_t length = 0;
};
enum class RangeResult { kIgnore, kSatisfiable, kUnsatisfiable };

// RFC 9110 §14.1.2: one "bytes=first-last", "bytes=first-" or "bytes=-suffix".
RangeResult parse_range(std::string_view header, uint64_t size, ByteRange* out) {
  header = trim(header);
  if (!header.starts_with("bytes=")) return RangeResult::kIgnore;
  std::string_view spec = trim(header.substr(6));
  if (spec.find(',') != std::string_view::npos) return RangeResult::kIgnore;  // several ranges: send it all
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeResult::kIgnore;
  std::string_view a = trim(spec.substr(0, dash));
  std::string_view b = trim(spec.substr(dash + 1));
  if (a.empty()) {
    auto suffix = parse_u64(b);
    if (!suffix.ok()) return RangeResult::kIgnore;
    if (*suffix == 0 || size == 0) return RangeResult::kUnsatisfiable;
    uint64_t n = std::min<uint64_t>(*suffix, size);
    *out = {size - n, n};
    return RangeResult::kSatisfiable;
  }
  auto first = parse_u64(a);
  if (!first.ok()) return RangeResult::kIgnore;
  uint64_t last = size == 0 ? 0 : size - 1;
  if (!b.empty()) {
    auto l = parse_u64(b);
    if (!l.ok() || *l < *first) return RangeResult::kIgnore;
    last = std::min<uint64_t>(*l, last);
  }
  if (*first >= size) return RangeResult::kUnsatisfiable;
  *out = {*first, last - *first + 1};
  return RangeResult::kSatisfiable;
}

bool read_whole_file(const std::string& path, uint64_t size, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->resize(size);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, out->data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  out->resize(done);
  return done == size;
}

Response bad_path() { return Response::error(400, "bad_request", "path traversal refused"); }

}  // namespace

StaticFiles::StaticFiles(std::string root_dir, StaticFilesOptions options) : options_(std::move(options)) {
  while (root_dir.size() > 1 && root_dir.back() == '/') root_dir.pop_back();
  root_ = std::move(root_dir);
  canonical_root_ = canonical(root_);
  if (canonical_root_.empty())
    log::warn("http", "static root does not exist (yet)", {{"root", root_}});
}

StaticFiles::~StaticFiles() = default;

Response StaticFiles::serve(const Request& request, std::string_view rel_path) const {
  // Decoding has already turned "%2e%2e" into "..", caught below; an encoded
  // "/", "\" or NUL would hide a separator inside one segment, so refuse them.
  std::string_view raw = std::string_view(request.target).substr(0, request.target.find('?'));
  for (size_t i = 0; i + 2 < raw.size(); ++i) {
    if (raw[i] != '%') continue;
    std::string_view esc = raw.substr(i + 1, 2);
    if (esc == "00" || iequals(esc, "2f") || iequals(esc, "5c")) return bad_path();
  }
  std::string path = root_;
  for (std::string_view seg : split(rel_path, '/')) {
    if (seg.empty()) continue;
    if (seg == "." || seg == ".." || seg.find('\\') != std::string_view::npos ||
        seg.find('\0') != std::string_view::npos) {
      return bad_path();
    }
    path += '/';
    path += seg;
  }
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return Response::error(404, "not_found", "no such file");
  if (S_ISDIR(st.st_mode)) {
    if (!request.path.ends_with('/')) {
      Response r;
      r.status = 301;
      std::string location = request.path + "/";
      if (!request.query.empty()) location += "?" + request.query;
      // The decoded path may hold bytes a header must not carry.
      if (location.find_first_of("\r\n") != std::string::npos) return bad_path();
      r.headers.set("Location", std::move(location));
      return r;
    }
    path += '/';
    path += options_.index_file;
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      return Response::error(404, "not_found", "no index file");
  }
  if (!S_ISREG(st.st_mode)) return Response::error(404, "not_found", "not a regular file");
  // Symlinks may point anywhere; only what resolves below the root is served.
  std::string resolved = canonical(path);
  if (resolved.empty() || canonical_root_.empty() ||
      !(resolved.starts_with(canonical_root_) &&
        (resolved.size() == canonical_root_.size() || resolved[canonical_root_.size()] == '/' ||
         canonical_root_ == "/"))) {
    return Response::error(404, "not_found", "no such file");
  }
  return serve_file(request, path);
}

Response StaticFiles::serve_file(const Request& request, const std::string& file_path) const {
  struct stat st{};
  if (::stat(file_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return Response::error(404, "not_found", "no such file");
  FileInfo info;
  info.size = static_cast<uint64_t>(st.st_size);
  info.mtime_s = st.st_mtim.tv_sec;
  info.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;

  const std::string_view type = mime_type_for(file_path);
  const bool compressible = options_.gzip && is_compressible_type(type) && info.size >= options_.gzip_min_bytes &&
                            info.size <= options_.gzip_max_bytes;
  const std::string etag = "\"" + hex(info.size) + "-" + hex(static_cast<uint64_t>(info.mtime_ns)) + "\"";
  const std::string etag_gz = etag.substr(0, etag.size() - 1) + "-gz\"";
  const bool revalidate = type.starts_with("text/html") || type == "application/vnd.apple.mpegurl";

  Response r;
  r.headers.add("Content-Type", std::string(type));
  r.headers.add("Last-Modified", format_http_date(info.mtime_s));
  r.headers.add("Cache-Control", revalidate ? options_.revalidate_cache_control : options_.asset_cache_control);
  r.headers.add("Accept-Ranges", "bytes");
  if (compressible) r.headers.add("Vary", "Accept-Encoding");

  // RFC 9110 §13.2.2: If-None-Match first; If-Modified-Since only without it.
  bool not_modified = false;
  if (auto inm = request.headers.get("If-None-Match")) {
    not_modified = etag_list_matches(*inm, etag, etag_gz);
  } else if (auto ims = request.headers.get("If-Modified-Since")) {
    auto t = parse_http_date(*ims);
    not_modified = t && info.mtime_s <= *t;
  }

  const bool use_gzip = compressible && !request.headers.has("Range") &&
                        accepts_gzip(request.headers.get("Accept-Encoding").value_or(""));
  if (not_modified) {
    r.status = 304;
    r.headers.add("ETag", use_gzip ? etag_gz : etag);
    return r;
  }

  if (use_gzip) {
    if (auto gz = gzipped(file_path, info.size, info.mtime_ns)) {
      r.headers.add("ETag", etag_gz);
      r.headers.add("Content-Encoding", "gzip");
      r.body = *gz;
      return r;
    }
  }
  r.headers.add("ETag", etag);

  if (auto range = request.headers.get("Range")) {
    // RFC 9110 §13.1.5: If-Range with a stale validator means "send it all".
    bool range_applies = true;
    if (auto if_range = request.headers.get("If-Range")) {
      std::string_view v = trim(*if_range);
      if (v.starts_with("\"")) {
        range_applies = v == etag;
      } else {
        auto t = parse_http_date(v);
        range_applies = t && *t == info.mtime_s;
      }
    }
    ByteRange br;
    switch (range_applies ? parse_range(*range, info.size, &br) : RangeResult::kIgnore) {
      case RangeResult::kIgnore:
        break;
      case RangeResult::kUnsatisfiable: {
        Response e = Response::error(416, "range_not_satisfiable", "range not satisfiable");
        e.headers.add("Content-Range", "bytes */" + std::to_string(info.size));
        return e;
      }
      case RangeResult::kSatisfiable:
        r.status = 206;
        r.headers.add("Content-Range", "bytes " + std::to_string(br.first) + "-" +
                                           std::to_string(br.first + br.length - 1) + "/" +
                                           std::to_string(info.size));
        r.file_path = file_path;
        r.file_offset = br.first;
        r.file_length = br.length;
        return r;
    }
  }
  r.file_path = file_path;
  r.file_offset = 0;
  r.file_length = info.size;
  return r;
}

std::shared_ptr<const std::string> StaticFiles::gzipped(const std::string& path, uint64_t size,
                                                        int64_t mtime_ns) const {
  std::string key = path + '\0' + std::to_string(size) + '\0' + std::to_string(mtime_ns);
  {
    std::lock_guard lock(mu_);
    if (auto it = gzip_cache_.find(key); it != gzip_cache_.end()) return it->second;
  }
  std::string raw;
  if (!read_whole_file(path, size, &raw)) return nullptr;
  auto gz = gzip_compress(raw);
  if (!gz.ok() || gz->size() >= raw.size()) return nullptr;
  auto shared = std::make_shared<const std::string>(std::move(gz).value());
  if (shared->size() > options_.gzip_cache_bytes) return shared;
  std::lock_guard lock(mu_);
  auto [it, inserted] = gzip_cache_.emplace(key, shared);
  if (!inserted) return it->second;
  gzip_cache_order_.push_back(std::move(key));
  gzip_cache_size_ += shared->size();
  while (gzip_cache_size_ > options_.gzip_cache_bytes && !gzip_cache_order_.empty()) {
    auto old = gzip_cache_.find(gzip_cache_order_.front());
    gzip_cache_size_ -= old->second->size();
    gzip_cache_.erase(old);
    gzip_cache_order_.pop_front();
  }
  return shared;
}

}  // namespace chiron::net
