#include "push/files_client.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "push/sha256.h"

namespace chiron::push {
namespace {

namespace json = boost::json;

std::optional<json::object> parse_object(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

std::string string_field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

std::optional<uint64_t> uint_field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return std::nullopt;
  if (it->value().is_uint64()) return it->value().as_uint64();
  if (it->value().is_int64() && it->value().as_int64() >= 0) return static_cast<uint64_t>(it->value().as_int64());
  return std::nullopt;
}

Result<std::string> read_range(int fd, uint64_t offset, uint64_t n) {
  std::string out(n, '\0');
  uint64_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::from_errno("read", errno);
    }
    if (r == 0) break;  // the file shrank: the server's checksum check will say so
    got += static_cast<uint64_t>(r);
  }
  out.resize(got);
  return out;
}

}  // namespace

std::string ApiReply::describe() const {
  std::string s = std::to_string(status);
  if (!code.empty()) s += " " + code;
  if (!message.empty()) s += ": " + message;
  return s;
}

ApiReply to_reply(const HttpResponse& response) {
  ApiReply r;
  r.status = response.status;
  r.body = response.body;
  if (!r.ok()) {
    if (auto o = parse_object(response.body)) {
      if (auto e = o->find("error"); e != o->end() && e->value().is_object()) {
        r.code = string_field(e->value().as_object(), "code");
        r.message = string_field(e->value().as_object(), "message");
      }
    }
    if (r.code.empty() && r.message.empty()) r.message = response.body.substr(0, 200);
  }
  return r;
}

std::string url_encode_path(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

FilesClient::FilesClient(std::unique_ptr<Transport> transport, std::string channel, RetryPolicy policy,
                         ClientHooks hooks)
    : transport_(std::move(transport)),
      channel_(std::move(channel)),
      policy_(policy),
      hooks_(std::move(hooks)),
      rng_(std::random_device{}()) {}

std::string FilesClient::files_target(const std::string& path) const {
  return "/api/v1/channels/" + url_encode_path(channel_) + "/files/" + url_encode_path(path);
}

Result<HttpResponse> FilesClient::call(const HttpRequest& request) {
  for (int attempt = 0;; ++attempt) {
    if (stopping()) return Status::cancelled("stopping");
    auto r = transport_->send(request);
    std::string why;
    if (r.ok()) {
      if (!retryable_http_status(r->status)) {
        if (attempt > 0 && hooks_.on_recovered) hooks_.on_recovered();
        return r;
      }
      why = request.method + " " + request.target + ": " + to_reply(*r).describe();
    } else {
      // Stopping, or a TLS peer that failed verification (configuration, not weather).
      if (r.status().code() == StatusCode::kCancelled || r.status().code() == StatusCode::kPermissionDenied) return r;
      why = r.status().message();
    }
    if (policy_.max_attempts > 0 && attempt + 1 >= policy_.max_attempts) {
      return Status::unavailable(why + " (gave up after " + std::to_string(attempt + 1) + " attempts)");
    }
    const int64_t delay = backoff_delay_ms(attempt, std::uniform_real_distribution<double>(0, 1)(rng_),
                                           policy_.initial_ms, policy_.max_ms);
    if (hooks_.on_retry) hooks_.on_retry(delay, why);
    if (hooks_.sleep && !hooks_.sleep(delay)) return Status::cancelled("stopping");
  }
}

Result<std::vector<RemoteFile>> FilesClient::list() {
  CHIRON_ASSIGN_OR_RETURN(auto res, call({"GET", "/api/v1/channels/" + url_encode_path(channel_) + "/files", {}, {}}));
  ApiReply reply = to_reply(res);
  if (!reply.ok()) return Status::failed_precondition("list files: " + reply.describe());
  auto o = parse_object(res.body);
  if (!o) return Status::internal("list files: answer is not a JSON object");
  std::vector<RemoteFile> out;
  auto files = o->find("files");
  if (files == o->end() || !files->value().is_array()) return Status::internal("list files: no files array");
  for (const auto& f : files->value().as_array()) {
    if (!f.is_object()) continue;
    RemoteFile rf;
    rf.path = string_field(f.as_object(), "path");
    rf.state.sha256 = string_field(f.as_object(), "sha256");
    rf.state.size = uint_field(f.as_object(), "size").value_or(0);
    if (!rf.path.empty()) out.push_back(std::move(rf));
  }
  return out;
}

Result<ApiReply> FilesClient::put(const std::string& path, const std::string& content, const std::string& sha256) {
  HttpRequest req{"PUT", files_target(path), {{"X-Chiron-Sha256", sha256}, {"Content-Type", "application/octet-stream"}}, content};
  CHIRON_ASSIGN_OR_RETURN(auto res, call(req));
  return to_reply(res);
}

Result<ApiReply> FilesClient::put_from(const std::string& path, const std::string& sha256) {
  CHIRON_ASSIGN_OR_RETURN(auto res, call({"PUT", files_target(path) + "?from_sha256=" + sha256, {}, {}}));
  return to_reply(res);
}

Result<ApiReply> FilesClient::remove(const std::string& path) {
  CHIRON_ASSIGN_OR_RETURN(auto res, call({"DELETE", files_target(path), {}, {}}));
  return to_reply(res);
}

Result<ApiReply> FilesClient::upload(const std::string& path, const std::string& abs_path, uint64_t size,
                                     const std::string& sha256,
                                     const std::function<void(uint64_t sent)>& on_progress) {
  const int fd = ::open(abs_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Status::from_errno("open " + abs_path, errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  // An upload the server lost (restarted without it, expired) is begun again, a few times.
  for (int restart = 0; restart < 3; ++restart) {
    json::object start{{"path", path}, {"size", size}, {"sha256", sha256}};
    CHIRON_ASSIGN_OR_RETURN(
        auto res, call({"POST", "/api/v1/channels/" + url_encode_path(channel_) + "/uploads",
                        {{"Content-Type", "application/json"}}, json::serialize(start)}));
    ApiReply reply = to_reply(res);
    if (!reply.ok()) return reply;
    auto o = parse_object(res.body);
    if (!o) return Status::internal("upload: answer is not a JSON object");
    const std::string id = string_field(*o, "upload_id");
    const uint64_t chunk = std::max<uint64_t>(uint_field(*o, "chunk_size").value_or(kMaxPutBytes), 1);
    uint64_t offset = uint_field(*o, "received").value_or(0);
    if (id.empty()) return Status::internal("upload: no upload_id");
    const std::string target = "/api/v1/uploads/" + url_encode_path(id);

    bool lost = false;
    bool retried = false;
    int failures = 0;  // consecutive failed chunk sends: same backoff and attempt cap as call()
    while (!lost) {
      if (stopping()) return Status::cancelled("stopping");
      CHIRON_ASSIGN_OR_RETURN(std::string bytes, read_range(fd, offset, std::min(chunk, size - std::min(size, offset))));
      HttpRequest put{"PUT", target + "?offset=" + std::to_string(offset),
                      {{"X-Chiron-Chunk-Sha256", sha256_hex(bytes)}, {"Content-Type", "application/octet-stream"}},
                      std::move(bytes)};
      // Retried here rather than in call(): after an interruption the server's `received`
      // (GET /uploads/:id) says where to resume — the chunk may or may not have landed.
      auto sent = transport_->send(put);
      if (!sent.ok() || retryable_http_status(sent->status)) {
        if (!sent.ok() && (sent.status().code() == StatusCode::kCancelled ||
                           sent.status().code() == StatusCode::kPermissionDenied)) {
          return std::move(sent).status();
        }
        const std::string why = sent.ok() ? "upload chunk: " + to_reply(*sent).describe() : sent.status().message();
        if (policy_.max_attempts > 0 && failures + 1 >= policy_.max_attempts)
          return Status::unavailable(why + " (gave up after " + std::to_string(failures + 1) + " attempts)");
        const int64_t delay = backoff_delay_ms(failures++, std::uniform_real_distribution<double>(0, 1)(rng_),
                                               policy_.initial_ms, policy_.max_ms);
        if (hooks_.on_retry) hooks_.on_retry(delay, why);
        if (hooks_.sleep && !hooks_.sleep(delay)) return Status::cancelled("stopping");
        retried = true;
        CHIRON_ASSIGN_OR_RETURN(auto st, call({"GET", target, {}, {}}));
        ApiReply sr = to_reply(st);
        if (sr.status == 404) {
          lost = true;
          break;
        }
        if (!sr.ok()) return sr;
        auto so = parse_object(st.body);
        if (so) offset = uint_field(*so, "received").value_or(offset);
        continue;
      }
      ApiReply pr = to_reply(*sent);
      failures = 0;
      if (retried && hooks_.on_recovered) {
        hooks_.on_recovered();
        retried = false;
      }
      if (pr.status == 409 && pr.code == "offset_mismatch") {
        // The contract puts `received` in the error answer; fall back to asking.
        auto eo = parse_object(sent->body);
        std::optional<uint64_t> received;
        if (eo) {
          received = uint_field(*eo, "received");
          if (!received) {
            if (auto e = eo->find("error"); e != eo->end() && e->value().is_object()) {
              received = uint_field(e->value().as_object(), "received");
            }
          }
        }
        if (!received) {
          CHIRON_ASSIGN_OR_RETURN(auto st, call({"GET", target, {}, {}}));
          auto so = parse_object(st.body);
          if (so) received = uint_field(*so, "received");
        }
        if (!received) return pr;
        offset = *received;
        continue;
      }
      if (pr.status == 404) {
        lost = true;
        break;
      }
      if (!pr.ok()) return pr;
      auto po = parse_object(sent->body);
      if (!po) return Status::internal("upload chunk: answer is not a JSON object");
      offset = uint_field(*po, "received").value_or(offset);
      if (on_progress) on_progress(offset);
      auto done = po->find("done");
      if (done != po->end() && done->value().is_bool() && done->value().as_bool()) return pr;
      if (offset >= size && size > 0) return Status::internal("upload: server received everything but is not done");
    }
  }
  return Status::aborted("upload " + path + ": the server lost the upload three times");
}

}  // namespace chiron::push
