#include "store/files_service.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <mutex>
#include <optional>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "net/mime.h"
#include "service/http.h"
#include "store/blob_store.h"
#include "store/comment_store.h"
#include "store/file_store.h"
#include "store/files_common.h"
#include "store/paths.h"
#include "store/put_flow.h"
#include "store/schema.h"
#include "common/check.h"
#include "common/clock.h"
#include "common/sha256.h"
#include "common/strings.h"
#include "store/upload_store.h"

namespace chiron::store {

namespace json = boost::json;
using net::Request;
using net::Response;
using service::Caller;
using service::ChannelRef;

Result<Scope> authorize(service::Access& access, const Request& r, std::string_view name, bool write) {
  CHIRON_ASSIGN_OR_RETURN(Caller caller, access.caller(r));
  auto channel = access.channel(name);
  if (!channel.ok()) {
    if (channel.status().code() == StatusCode::kNotFound) return Status::not_found("no channel " + std::string(name));
    return channel.status();
  }
  if (!access.can_read(caller, *channel)) return Status::not_found("no channel " + std::string(name));
  if (write && !access.can_write(caller, *channel)) {
    if (caller.anonymous()) return Status::unauthenticated("log in, or use the channel's push token");
    if (caller.via == Caller::Via::kCookie && !caller.csrf_ok) {
      return service::api_status(StatusCode::kPermissionDenied, "csrf", "missing or wrong X-CSRF-Token");
    }
    return service::api_status(StatusCode::kPermissionDenied, "forbidden", "only the channel's owner may change its files");
  }
  return Scope{std::move(caller), std::move(*channel)};
}

Status path_error(std::string_view path) {
  Status st = validate_path(path);
  if (st.ok()) return st;
  return service::api_status(StatusCode::kInvalidArgument, "invalid_path", st.message());
}

json::object file_event(const SaveResult& r) {
  return {{"type", "file"},       {"path", r.path},       {"version", r.version},
          {"size", static_cast<int64_t>(r.size)}, {"sha256", r.sha256},   {"deleted", r.deleted}};
}

json::object save_json(const SaveResult& r) {
  return {{"path", r.path}, {"version", r.version}, {"size", static_cast<int64_t>(r.size)}, {"sha256", r.sha256}, {"unchanged", r.unchanged}};
}

namespace {

constexpr uint64_t kInlineBodyBytes = 256 * 1024;  // smaller contents go in the body, bigger are streamed
constexpr int64_t kSweepEveryMs = 10 * 60 * 1000;

json::value session_or_null(int64_t id) { return id > 0 ? json::value(id) : json::value(nullptr); }

// Text if it has no NUL and is UTF-8 (a multi-byte sequence cut by the prefix end is fine).
bool looks_like_text(std::string_view prefix, bool truncated) {
  if (prefix.find('\0') != std::string_view::npos) return false;
  if (is_valid_utf8(prefix)) return true;
  if (!truncated) return false;
  for (size_t cut = 1; cut <= 3 && cut < prefix.size(); ++cut) {
    if (is_valid_utf8(prefix.substr(0, prefix.size() - cut))) return true;
  }
  return false;
}

class FilesServiceImpl final : public FilesService {
 public:
  FilesServiceImpl(service::Db& db, service::Access& access, service::LiveHub& hub, FilesOptions options,
                   std::unique_ptr<BlobStore> blobs, std::unique_ptr<UploadStore> uploads)
      : db_(db),
        access_(access),
        hub_(hub),
        options_(std::move(options)),
        clock_(*options_.clock),
        blobs_(std::move(blobs)),
        uploads_(std::move(uploads)),
        files_(db, *blobs_, {options_.quota_bytes, options_.max_file_bytes, options_.max_files}, clock_),
        comments_(db, clock_),
        last_sweep_ms_(clock_.unix_ms()) {}

  void register_routes(net::Router& router, kernel::Runtime& runtime) override {
    auto wrap = [this, &runtime](Response (FilesServiceImpl::*fn)(const Request&)) {
      return service::on_disk(runtime, [this, fn](const Request& r) { return (this->*fn)(r); });
    };
    router.get("/api/v1/channels/:name/files", wrap(&FilesServiceImpl::list_files));
    router.get("/api/v1/channels/:name/files/*path", wrap(&FilesServiceImpl::get_file));
    // The save path is a fluxion graph (put_flow.h); the other routes are one disk handler each.
    auto flow = PutFlow::start(runtime, {access_, *blobs_, files_, hub_, options_.max_put_bytes}, options_.graphs);
    CHIRON_CHECK(flow.ok(), "the files PUT graph does not start: " + flow.status().to_string());
    put_flow_ = std::move(*flow);
    router.put("/api/v1/channels/:name/files/*path",
               [flow = put_flow_.get()](Request r, net::Responder res) { flow->handle(std::move(r), std::move(res)); });
    router.del("/api/v1/channels/:name/files/*path", wrap(&FilesServiceImpl::delete_file));
    router.get("/api/v1/channels/:name/history/*path", wrap(&FilesServiceImpl::history));
    router.post("/api/v1/channels/:name/uploads", wrap(&FilesServiceImpl::create_upload));
    router.get("/api/v1/uploads/:id", wrap(&FilesServiceImpl::get_upload));
    router.put("/api/v1/uploads/:id", wrap(&FilesServiceImpl::put_chunk));
    router.del("/api/v1/uploads/:id", wrap(&FilesServiceImpl::delete_upload));
    router.get("/api/v1/channels/:name/comments", wrap(&FilesServiceImpl::list_comments));
    router.post("/api/v1/channels/:name/comments", wrap(&FilesServiceImpl::add_comment));
    router.del("/api/v1/comments/:id", wrap(&FilesServiceImpl::delete_comment));
  }

  void on_comment(std::function<void(const ChannelRef&, const json::object&)> fn) override {
    std::lock_guard lock(mu_);
    comment_listener_ = std::move(fn);
  }

 private:
  Result<Scope> authorize(const Request& r, std::string_view name, bool write) {
    return store::authorize(access_, r, name, write);
  }

  void maybe_sweep() {
    int64_t now = clock_.unix_ms();
    int64_t last = last_sweep_ms_.load();
    if (now - last < kSweepEveryMs || !last_sweep_ms_.compare_exchange_strong(last, now)) return;
    (void)uploads_->sweep();
  }

  std::string content_type(const FileEntry& e) {
    std::string_view name = e.path;
    if (auto slash = name.rfind('/'); slash != std::string_view::npos) name.remove_prefix(slash + 1);
    std::string_view m = net::mime_type_for(name);
    // Images render inline; every other type is served as plain text or bytes, so stored
    // HTML/SVG/JS never runs in the platform's origin.
    if (m.starts_with("image/") && !m.starts_with("image/svg")) return std::string(m);
    if (m.starts_with("text/") || m.find("json") != std::string_view::npos ||
        m.find("javascript") != std::string_view::npos || m.find("xml") != std::string_view::npos) {
      return "text/plain; charset=utf-8";
    }
    if (e.size == 0) return "text/plain; charset=utf-8";
    auto prefix = blobs_->read_prefix(e.sha256, 8192);
    if (prefix.ok() && looks_like_text(*prefix, e.size > prefix->size())) return "text/plain; charset=utf-8";
    return "application/octet-stream";
  }

  Response list_files(const Request& r) {
    auto scope = authorize(r, r.param("name"), false);
    if (!scope.ok()) return service::error_response(scope.status());
    auto files = files_.list(scope->channel.id);
    if (!files.ok()) return service::error_response(files.status());
    auto usage = files_.usage(scope->channel.id);
    if (!usage.ok()) return service::error_response(usage.status());
    json::array arr;
    uint64_t total = 0;
    for (const FileEntry& e : *files) {
      total += e.size;
      arr.push_back(json::object{{"path", e.path},
                                 {"size", e.size},
                                 {"sha256", e.sha256},
                                 {"version", e.version},
                                 {"updated_at", format_utc_ms(e.updated_at)}});
    }
    json::object body{{"count", files->size()},       {"total_bytes", total},
                      {"usage_bytes", usage->used_bytes}, {"quota_bytes", options_.quota_bytes}};
    body["files"] = std::move(arr);
    return service::json_response(200, body);
  }

  Response get_file(const Request& r) {
    std::string path(r.param("path"));
    auto scope = authorize(r, r.param("name"), false);
    if (!scope.ok()) return service::error_response(scope.status());
    if (Status st = path_error(path); !st.ok()) return service::error_response(st);
    std::optional<int64_t> version;
    if (auto v = r.query_param("version")) {
      auto n = parse_u64(*v);
      if (!n || *n == 0 || *n > INT64_MAX) return service::error_response(Status::invalid_argument("version must be a positive integer"));
      version = static_cast<int64_t>(*n);
    }
    auto entry = files_.get(scope->channel.id, path, version);
    if (!entry.ok()) return service::error_response(entry.status());
    if (entry->deleted) return service::error_response(Status::not_found("version " + std::to_string(entry->version) + " of " + path + " is a deletion"));
    Response resp;
    resp.headers.set("ETag", "\"" + entry->sha256 + "\"");
    resp.headers.set("X-Chiron-Version", std::to_string(entry->version));
    resp.headers.set("X-Chiron-Sha256", entry->sha256);
    resp.headers.set("Cache-Control", scope->channel.is_private ? "private, no-cache" : "no-cache");
    resp.headers.set("X-Content-Type-Options", "nosniff");
    resp.headers.set("Content-Security-Policy", "sandbox; default-src 'none'");
    if (auto inm = r.headers.get("If-None-Match"); inm && inm->find(entry->sha256) != std::string_view::npos) {
      resp.status = 304;
      return resp;
    }
    resp.headers.set("Content-Type", content_type(*entry));
    if (entry->size <= kInlineBodyBytes) {
      auto bytes = blobs_->read(entry->sha256);
      if (!bytes.ok()) return service::error_response(Status::internal("blob of " + path + " is unreadable: " + bytes.status().message()));
      resp.body = std::move(*bytes);
    } else {
      resp.file_path = blobs_->path_of(entry->sha256).string();
      resp.file_length = entry->size;
    }
    return resp;
  }

  void publish(const ChannelRef& channel, json::object event) { hub_.publish(channel.id, std::move(event)); }

  Response delete_file(const Request& r) {
    std::string path(r.param("path"));
    auto scope = authorize(r, r.param("name"), true);
    if (!scope.ok()) return service::error_response(scope.status());
    if (Status st = path_error(path); !st.ok()) return service::error_response(st);
    auto removed = files_.remove(scope->writer(), path);
    if (!removed.ok()) return service::error_response(removed.status());
    publish(scope->channel, file_event(*removed));
    return service::json_response(200, json::object{{"path", path}, {"version", removed->version}, {"deleted", true}});
  }

  Response history(const Request& r) {
    std::string path(r.param("path"));
    auto scope = authorize(r, r.param("name"), false);
    if (!scope.ok()) return service::error_response(scope.status());
    if (Status st = path_error(path); !st.ok()) return service::error_response(st);
    int64_t limit = 1000;
    if (auto l = r.query_param("limit")) {
      auto n = parse_u64(*l);
      if (!n || *n == 0 || *n > 10000) return service::error_response(Status::invalid_argument("limit must be 1..10000"));
      limit = static_cast<int64_t>(*n);
    }
    auto versions = files_.history(scope->channel.id, path, limit);
    if (!versions.ok()) return service::error_response(versions.status());
    json::array arr;
    for (const FileEntry& e : *versions) {
      arr.push_back(json::object{{"version", e.version},
                                 {"size", e.size},
                                 {"sha256", e.sha256},
                                 {"deleted", e.deleted},
                                 {"created_at", format_utc_ms(e.updated_at)},
                                 {"session_id", session_or_null(e.session_id)}});
    }
    return service::json_response(200, json::object{{"path", path}, {"versions", std::move(arr)}});
  }

  // ---- resumable uploads ----

  json::object upload_json(const Upload& u) {
    json::object o{{"upload_id", u.id}, {"path", u.path},          {"size", u.size},
                   {"sha256", u.sha256}, {"received", u.received}, {"chunk_size", options_.chunk_size},
                   {"done", u.version > 0}};
    if (u.version > 0) o["version"] = u.version;
    return o;
  }

  Response create_upload(const Request& r) {
    maybe_sweep();
    auto scope = authorize(r, r.param("name"), true);
    if (!scope.ok()) return service::error_response(scope.status());
    auto body = service::json_body(r);
    if (!body.ok()) return service::error_response(body.status());
    auto path = service::string_field(*body, "path", true, 4 * kMaxPathBytes);
    if (!path.ok()) return service::error_response(path.status());
    if (Status st = path_error(*path); !st.ok()) return service::error_response(st);
    auto size = service::int_field(*body, "size", 0, INT64_MAX);
    if (!size.ok()) return service::error_response(size.status());
    auto sha = service::string_field(*body, "sha256", true, 64);
    if (!sha.ok()) return service::error_response(sha.status());
    std::string hex = to_lower(*sha);
    if (!is_sha256_hex(hex)) return service::error_response(Status::invalid_argument("field 'sha256' must be 64 hex digits"));
    if (Status st = files_.precheck(scope->channel.id, hex, static_cast<uint64_t>(*size)); !st.ok()) return service::error_response(st);
    auto up = uploads_->create(scope->channel.id, scope->channel.name, *path, static_cast<uint64_t>(*size), hex,
                               scope->caller.user_id);
    if (!up.ok()) return service::error_response(up.status());
    return service::json_response(201, upload_json(*up));
  }

  // The upload and the scope allowing the caller to write it.
  Result<std::pair<Upload, Scope>> upload_scope(const Request& r) {
    CHIRON_ASSIGN_OR_RETURN(Upload up, uploads_->get(r.param("id")));
    CHIRON_ASSIGN_OR_RETURN(Scope scope, authorize(r, up.channel_name, true));
    if (scope.channel.id != up.channel_id) return Status::not_found("no upload " + up.id);
    return std::pair<Upload, Scope>{std::move(up), std::move(scope)};
  }

  Response get_upload(const Request& r) {
    auto us = upload_scope(r);
    if (!us.ok()) return service::error_response(us.status());
    return service::json_response(200, upload_json(us->first));
  }

  Response delete_upload(const Request& r) {
    auto lock = uploads_->lock(r.param("id"));
    auto us = upload_scope(r);
    if (!us.ok()) return service::error_response(us.status());
    if (Status st = uploads_->discard(us->first.id); !st.ok()) return service::error_response(st);
    Response resp;
    resp.status = 204;
    return resp;
  }

  Response offset_mismatch(const Status& st, uint64_t received) {
    json::object err{{"code", "offset_mismatch"},
                     {"message", std::string(service::api_message_of(st))},
                     {"received", received}};
    return service::json_response(409, json::object{{"error", std::move(err)}, {"received", received}});
  }

  Response put_chunk(const Request& r) {
    maybe_sweep();
    auto lock = uploads_->lock(r.param("id"));
    auto us = upload_scope(r);
    if (!us.ok()) return service::error_response(us.status());
    Upload up = std::move(us->first);
    const Scope& scope = us->second;
    auto offset_text = r.query_param("offset");
    if (!offset_text) return service::error_response(Status::invalid_argument("missing query parameter 'offset'"));
    auto offset = parse_u64(*offset_text);
    if (!offset) return service::error_response(Status::invalid_argument("offset must be a non-negative integer"));
    if (up.version > 0) {  // already committed: a retried last chunk answers the same
      if (*offset == up.size && r.body.empty()) return done_response(up, up.version, false);
      return offset_mismatch(service::api_status(StatusCode::kFailedPrecondition, "offset_mismatch",
                                       "the upload is complete (" + std::to_string(up.size) + " bytes)"),
                             up.received);
    }
    if (r.body.size() > options_.chunk_size) {
      return service::error_response(service::api_status(StatusCode::kResourceExhausted, "too_large",
                                   "a chunk is at most " + std::to_string(options_.chunk_size) + " bytes"));
    }
    if (auto want = r.headers.get("X-Chiron-Chunk-Sha256")) {
      std::string actual = sha256_hex(r.body);
      if (to_lower(*want) != actual) {
        return service::error_response(service::api_status(StatusCode::kInvalidArgument, "checksum_mismatch",
                                     "chunk hashes to " + actual + ", X-Chiron-Chunk-Sha256 says " + std::string(*want) +
                                         "; nothing was stored, resend it"));
      }
    }
    if (!(r.body.empty() && *offset == up.received && up.received == up.size)) {
      auto appended = uploads_->append(up.id, *offset, r.body);
      if (!appended.ok()) {
        if (service::api_code_of(appended.status()) == "offset_mismatch") return offset_mismatch(appended.status(), up.received);
        return service::error_response(appended.status());
      }
      up = std::move(*appended);
    }
    if (up.received < up.size) {
      return service::json_response(200, json::object{{"received", up.received}, {"done", false}});
    }
    return finish_upload(up, scope);
  }

  Response done_response(const Upload& up, int64_t version, bool unchanged) {
    return service::json_response(200, json::object{{"received", up.received},
                                                    {"done", true},
                                                    {"version", version},
                                                    {"path", up.path},
                                                    {"size", up.size},
                                                    {"sha256", up.sha256},
                                                    {"unchanged", unchanged}});
  }

  // Verifies the whole content, moves it into the blob store and commits a version.
  Response finish_upload(const Upload& up, const Scope& scope) {
    std::filesystem::path part = uploads_->part_path(up.id);
    BlobInfo blob{up.sha256, up.size};
    std::error_code ec;
    if (std::filesystem::exists(part, ec)) {
      auto adopted = blobs_->adopt(part, up.sha256);
      if (!adopted.ok()) {
        if (service::api_code_of(adopted.status()) == "checksum_mismatch") {
          (void)uploads_->discard(up.id);
          return service::error_response(service::api_status(StatusCode::kAborted, "checksum_mismatch",
                                       std::string(service::api_message_of(adopted.status())) + "; the upload was discarded"));
        }
        // A passing failure (disk): the upload stays; the last chunk's PUT can be repeated.
        return service::error_response(adopted.status());
      }
      blob = *adopted;
    } else if (!blobs_->exists(up.sha256)) {  // neither part nor blob: nothing to commit
      (void)uploads_->discard(up.id);
      return service::error_response(Status::not_found("upload " + up.id + " lost its data; start again"));
    }
    auto saved = files_.save_blob(scope.writer(), up.path, blob, false);
    if (!saved.ok()) {
      // Refusals that a retry cannot change end the upload; anything else (database busy) keeps
      // it: the content is a blob now, and repeating the last PUT commits it.
      const std::string_view code = service::api_code_of(saved.status());
      if (code == "quota_exceeded" || code == "too_many_files" || code == "too_large") (void)uploads_->discard(up.id);
      return service::error_response(saved.status());
    }
    (void)uploads_->mark_committed(up.id, saved->version);
    if (!saved->unchanged) publish(scope.channel, file_event(*saved));
    return done_response(up, saved->version, saved->unchanged);
  }

  // ---- comments ----

  Response list_comments(const Request& r) {
    auto scope = authorize(r, r.param("name"), false);
    if (!scope.ok()) return service::error_response(scope.status());
    std::optional<std::string> path = r.query_param("path");
    if (path) {
      if (Status st = path_error(*path); !st.ok()) return service::error_response(st);
    }
    auto list = comments_.list(scope->channel.id, path);
    if (!list.ok()) return service::error_response(list.status());
    json::array arr;
    for (const Comment& c : *list) arr.push_back(comment_json(c));
    return service::json_response(200, json::object{{"comments", std::move(arr)}});
  }

  // Comments are written by people: a logged-in browser session with its CSRF token.
  Status check_commenter(const Caller& caller) {
    if (caller.anonymous()) return Status::unauthenticated("log in to comment");
    if (caller.via != Caller::Via::kCookie) {
      return service::api_status(StatusCode::kPermissionDenied, "forbidden", "a push token cannot comment");
    }
    if (!caller.csrf_ok) return service::api_status(StatusCode::kPermissionDenied, "csrf", "missing or wrong X-CSRF-Token");
    return Status();
  }

  Response add_comment(const Request& r) {
    auto scope = authorize(r, r.param("name"), false);
    if (!scope.ok()) return service::error_response(scope.status());
    if (Status st = check_commenter(scope->caller); !st.ok()) return service::error_response(st);
    auto body = service::json_body(r);
    if (!body.ok()) return service::error_response(body.status());
    auto path = service::string_field(*body, "path", true, 4 * kMaxPathBytes);
    if (!path.ok()) return service::error_response(path.status());
    if (Status st = path_error(*path); !st.ok()) return service::error_response(st);
    auto version = service::int_field(*body, "version", 1, INT64_MAX);
    if (!version.ok()) return service::error_response(version.status());
    auto line = service::int_field(*body, "line", 1, INT64_MAX);
    if (!line.ok()) return service::error_response(line.status());
    auto text = service::string_field(*body, "body", true, kMaxCommentBytes);
    if (!text.ok()) return service::error_response(text.status());
    if (text->empty()) return service::error_response(Status::invalid_argument("field 'body' is empty"));
    if (!is_valid_utf8(*text)) return service::error_response(Status::invalid_argument("field 'body' is not UTF-8"));
    auto entry = files_.get(scope->channel.id, *path, *version);
    if (!entry.ok()) return service::error_response(entry.status());
    if (entry->deleted) {
      return service::error_response(Status::invalid_argument("version " + std::to_string(*version) + " of " + *path + " is a deletion"));
    }
    auto lines = blobs_->line_count(entry->sha256);
    if (!lines.ok()) return service::error_response(lines.status());
    if (*line > *lines) {
      return service::error_response(Status::invalid_argument("line " + std::to_string(*line) + " is past the end of version " +
                                                  std::to_string(*version) + " (" + std::to_string(*lines) + " lines)"));
    }
    Comment c;
    c.channel_id = scope->channel.id;
    c.channel_name = scope->channel.name;
    c.path = *path;
    c.version = *version;
    c.line = *line;
    c.body = *text;
    c.author_id = scope->caller.user_id;
    c.author_name = scope->caller.name;
    c.author_display = scope->caller.display_name.empty() ? scope->caller.name : scope->caller.display_name;
    c.session_id = scope->channel.live_session_id;
    auto added = comments_.add(std::move(c));
    if (!added.ok()) return service::error_response(added.status());
    json::object cj = comment_json(*added);
    publish(scope->channel, json::object{{"type", "comment"}, {"comment", cj}});
    std::function<void(const ChannelRef&, const json::object&)> listener;
    {
      std::lock_guard lock(mu_);
      listener = comment_listener_;
    }
    if (listener) listener(scope->channel, cj);
    return service::json_response(201, cj);
  }

  Response delete_comment(const Request& r) {
    auto id = parse_u64(r.param("id"));
    if (!id || *id > INT64_MAX) return service::error_response(Status::not_found("no comment " + std::string(r.param("id"))));
    auto c = comments_.get(static_cast<int64_t>(*id));
    if (!c.ok()) return service::error_response(c.status());
    auto scope = authorize(r, c->channel_name, false);
    if (!scope.ok()) {
      if (scope.status().code() == StatusCode::kNotFound) return service::error_response(Status::not_found("no comment " + std::to_string(*id)));
      return service::error_response(scope.status());
    }
    if (Status st = check_commenter(scope->caller); !st.ok()) return service::error_response(st);
    if (scope->caller.user_id != c->author_id && scope->caller.user_id != scope->channel.owner_id) {
      return service::error_response(service::api_status(StatusCode::kPermissionDenied, "forbidden",
                                   "only the comment's author or the channel's owner may delete it"));
    }
    if (Status st = comments_.remove(c->id); !st.ok()) return service::error_response(st);
    publish(scope->channel, json::object{{"type", "comment_deleted"}, {"id", c->id}});
    Response resp;
    resp.status = 204;
    return resp;
  }

  service::Db& db_;
  service::Access& access_;
  service::LiveHub& hub_;
  FilesOptions options_;
  const Clock& clock_;
  std::unique_ptr<BlobStore> blobs_;
  std::unique_ptr<UploadStore> uploads_;
  FileStore files_;
  CommentStore comments_;
  std::atomic<int64_t> last_sweep_ms_;
  std::mutex mu_;
  std::function<void(const ChannelRef&, const json::object&)> comment_listener_;  // Guarded by mu_
  // Last: destroyed first, waiting for the PUTs in flight while the stores still exist.
  std::unique_ptr<PutFlow> put_flow_;
};

}  // namespace

Result<std::unique_ptr<FilesService>> FilesService::open(service::Db& db, service::Access& access,
                                                         service::LiveHub& hub, FilesOptions options) {
  if (options.clock == nullptr) options.clock = &Clock::system();
  if (options.chunk_size == 0 || options.max_put_bytes == 0) return Status::invalid_argument("chunk and PUT sizes must be > 0");
  CHIRON_RETURN_IF_ERROR(db.migrate("store", store_migrations()));
  CHIRON_ASSIGN_OR_RETURN(auto blobs, BlobStore::open(options.data_dir));
  CHIRON_ASSIGN_OR_RETURN(auto uploads, UploadStore::open(db, options.data_dir, *options.clock));
  return std::unique_ptr<FilesService>(
      new FilesServiceImpl(db, access, hub, std::move(options), std::move(blobs), std::move(uploads)));
}

Result<SessionActivity> session_activity(service::Tx& tx, int64_t session_id) {
  SessionActivity a;
  if (session_id <= 0) return a;
  CHIRON_ASSIGN_OR_RETURN(auto files, tx.query_one("SELECT COUNT(*) FROM (SELECT DISTINCT channel_id, path FROM file_versions "
                                                   "WHERE session_id = ?) t",
                                                   {session_id}));
  if (files) a.files_touched = files->integer(0);
  CHIRON_ASSIGN_OR_RETURN(auto comments, tx.query_one("SELECT COUNT(*) FROM file_comments WHERE session_id = ?", {session_id}));
  if (comments) a.comments = comments->integer(0);
  return a;
}

}  // namespace chiron::store
