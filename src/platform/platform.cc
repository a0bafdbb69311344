#include "platform/platform.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <openssl/rand.h>

#include "chat/chat_server.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "common/log.h"
#include "flux/runtime.h"
#include "kernel/kernel.h"
#include "platform/live_hub.h"
#include "platform/media_hooks.h"
#include "service/http.h"
#include "review/review_service.h"
#include "service/db.h"
#include "store/files_service.h"

namespace chiron::platform {

namespace fs = std::filesystem;
namespace json = boost::json;

Result<std::string> resolve_chat_secret(const std::string& explicit_secret, const fs::path& data_dir) {
  if (!explicit_secret.empty()) return explicit_secret;
  const fs::path file = data_dir / "chat.secret";
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return Status::io_error("cannot create " + data_dir.string() + ": " + ec.message());
  if (std::ifstream in(file); in) {
    std::string secret;
    std::getline(in, secret);
    if (secret.size() >= 32) return secret;
    return Status::failed_precondition(file.string() + " holds no usable key (32+ characters); remove it to make a new one");
  }
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) return Status::internal("no randomness for the chat key");
  std::string secret = base64url_encode(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
  // O_EXCL: two processes starting at once agree on the first key written.
  const fs::path tmp = file.string() + ".tmp" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::from_errno("create " + tmp.string(), errno);
  std::string line = secret + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::link(tmp.c_str(), file.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    if (ok && err == EEXIST) return resolve_chat_secret("", data_dir);  // another process won
    return Status::from_errno("write " + file.string(), err);
  }
  ::unlink(tmp.c_str());
  return secret;
}

namespace {

// GET /api/v1/graph: JSON, or the fluxional text with ?format=text (or Accept: text/plain).
net::Response graph_response(const flux::Registry& graphs, const net::Request& req) {
  bool text = false;
  if (auto format = req.query_param("format")) {
    if (*format == "text") {
      text = true;
    } else if (*format != "json") {
      return service::error_response(Status::invalid_argument("format must be json or text"));
    }
  } else if (auto accept = req.headers.get("Accept")) {
    text = accept->find("text/plain") != std::string_view::npos && accept->find("json") == std::string_view::npos;
  }
  if (!text) return service::json_response(200, graphs.to_json());
  net::Response r = net::Response::text(200, flux::write_text(graphs.program()));
  r.headers.set("Cache-Control", "no-store");
  return r;
}

}  // namespace

struct Platform::Impl {
  kernel::Runtime& runtime;
  PlatformOptions options;
  std::shared_ptr<chat::ChatServer> chat;
  // Every fluxion graph of the process (GET /api/v1/graph); before the services that
  // register graphs, so it outlives them.
  flux::Registry graphs;
  std::unique_ptr<service::Db> db;
  std::shared_ptr<LiveHubServer> hub;
  // Review publishes to the hub and the hub asks review (access, participants): review is opened
  // first, with this forwarder, which reaches the hub once it exists.
  struct HubProxy final : service::LiveHub {
    std::weak_ptr<LiveHubServer> hub;
    void publish(int64_t channel_id, json::object event) override {
      if (auto h = hub.lock()) h->publish(channel_id, std::move(event));
    }
  } hub_proxy;
  std::shared_ptr<review::ReviewService> review;
  std::unique_ptr<store::FilesService> files;
  std::shared_ptr<const net::StaticFiles> pages;
  std::shared_ptr<PlatformMediaHooks> media_hooks;
  std::unique_ptr<media::MediaServer> media;

  Impl(kernel::Runtime& rt, PlatformOptions o, std::shared_ptr<chat::ChatServer> c)
      : runtime(rt), options(std::move(o)), chat(std::move(c)) {}
};

Platform::Platform(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Platform::~Platform() {
  stop();
  // The chat server may outlive us: its observer must not reach a destroyed review.
  if (impl_->chat) impl_->chat->set_message_observer(nullptr);
}

Result<std::unique_ptr<Platform>> Platform::open(kernel::Runtime& runtime, PlatformOptions options,
                                                  std::shared_ptr<chat::ChatServer> chat) {
  auto impl = std::make_unique<Impl>(runtime, std::move(options), std::move(chat));
  Impl& p = *impl;
  const PlatformOptions& o = p.options;
  service::DbOptions db_opts;
  db_opts.pool_size = std::max(2u, runtime.threads(kernel::Device::kDisk) + 1);
  auto db = o.postgres_url.empty() ? service::Db::open_sqlite((o.data_dir / "platform.db").string(), db_opts)
                                   : service::Db::open_postgres(o.postgres_url, db_opts);
  if (!db.ok()) return std::move(db).status().context("database");
  p.db = std::move(*db);

  review::ReviewOptions ro;
  ro.secure_cookies = o.secure_cookies;
  ro.chat_secret = o.chat_secret;
  ro.activity = [](service::Tx& tx, int64_t session_id) -> Result<std::pair<int64_t, int64_t>> {
    CHIRON_ASSIGN_OR_RETURN(store::SessionActivity a, store::session_activity(tx, session_id));
    return std::pair<int64_t, int64_t>(a.files_touched, a.comments);
  };
  auto review = review::ReviewService::open(*p.db, p.hub_proxy, std::move(ro));
  if (!review.ok()) return std::move(review).status().context("accounts");
  p.review = std::shared_ptr<review::ReviewService>(std::move(*review));

  store::FilesOptions fo;
  fo.data_dir = o.data_dir;
  fo.quota_bytes = o.quota_bytes;
  fo.max_file_bytes = o.max_file_bytes;
  fo.graphs = &p.graphs;
  auto files = store::FilesService::open(*p.db, *p.review, p.hub_proxy, fo);
  if (!files.ok()) return std::move(files).status().context("file store");
  p.files = std::move(*files);

  std::weak_ptr<review::ReviewService> weak_review = p.review;
  p.hub = LiveHubServer::create(runtime, *p.review, [weak_review](int64_t session_id, int64_t user_id) {
    if (auto r = weak_review.lock()) {
      if (Status st = r->record_participant(session_id, user_id); !st.ok())
        log::warn("platform", "participant not recorded", {{"session", session_id}, {"error", st.to_string()}});
    }
  }, {});
  p.hub_proxy.hub = p.hub;

  if (p.chat) {
    p.chat->set_message_observer([weak_review](const std::string& room) {
      if (auto r = weak_review.lock()) r->count_chat_message(room);
    });
    std::weak_ptr<chat::ChatServer> weak_chat = p.chat;
    p.files->on_comment([weak_chat](const service::ChannelRef& channel, const json::object& comment) {
      auto c = weak_chat.lock();
      if (!c || channel.chat_room.empty()) return;
      json::object msg{{"type", "comment"}, {"comment", comment}};
      // A readable line for clients that only show "text".
      std::string author, path;
      int64_t line = 0;
      if (auto* a = comment.if_contains("author"); a && a->is_object())
        if (auto* n = a->as_object().if_contains("name"); n && n->is_string()) author = n->as_string();
      if (auto* pth = comment.if_contains("path"); pth && pth->is_string()) path = pth->as_string();
      if (auto* l = comment.if_contains("line"); l && l->is_int64()) line = l->as_int64();
      std::string body;
      if (auto* b = comment.if_contains("body"); b && b->is_string()) body = b->as_string();
      msg["text"] = author + " commented on " + path + ":" + std::to_string(line) + " — " + body;
      c->post_system(channel.chat_room, std::move(msg));
    });
  }
  if (!o.web_root.empty()) p.pages = std::make_shared<net::StaticFiles>(o.web_root.string());
  if (o.media) {
    // Recordings of channels with "Record sessions" on, listed per session.
    CHIRON_RETURN_IF_ERROR(p.db->migrate("platform", {{1, R"SQL(
CREATE TABLE recordings (
  id {{id}},
  session_id BIGINT NOT NULL,
  channel_id BIGINT NOT NULL,
  path TEXT NOT NULL,
  bytes BIGINT NOT NULL,
  duration_ms BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX recordings_session ON recordings (session_id)
)SQL"}}).context("recordings"));
    media::MediaOptions mo = *o.media;
    if (mo.recordings_dir.empty()) mo.recordings_dir = (o.data_dir / "recordings").string();
    p.media_hooks = std::make_shared<PlatformMediaHooks>(runtime, p.review, p.hub_proxy, *p.db, !mo.origin.empty());
    auto started = media::MediaServer::start(runtime.net_contexts(), std::move(mo), p.media_hooks);
    if (!started.ok()) return std::move(started).status().context("video");
    p.media = std::move(*started);
  }
  return std::unique_ptr<Platform>(new Platform(std::move(impl)));
}

void Platform::register_routes(net::Router& router) {
  Impl& p = *impl_;
  p.review->register_routes(router, p.runtime);
  p.files->register_routes(router, p.runtime);
  router.websocket("/api/v1/live", p.hub->handlers(), p.hub->ws_options());
  // The process as a fluxion program with live counters (public, like the page drawing it:
  // names and counts only). Cheap atomic reads: answered on the net thread.
  router.get("/api/v1/graph", [graphs = &p.graphs](const net::Request& req) { return graph_response(*graphs, req); });
  if (p.media) {
    p.media->register_routes(router);
    // The channel's stream state (the `stream` live event's body), for pages opening mid-stream.
    router.get("/api/v1/channels/:name/stream",
               service::on_disk(p.runtime, [review = p.review, media = p.media.get()](const net::Request& req) {
                 auto caller = review->caller(req);
                 if (!caller.ok()) return net::Response::from_status(caller.status());
                 auto ch = review->channel(req.param("name"));
                 if (!ch.ok() || !review->can_read(*caller, *ch))
                   return net::Response::error(404, "not_found", "no such channel");
                 net::Response r = net::Response::json(200, media::stream_state_json(ch->name, media->state(ch->name)));
                 r.headers.add("Cache-Control", "no-cache");
                 return r;
               }));
    // A session's recording: its metadata, and the FLV file itself (Range requests for seeking).
    auto recording_of = [review = p.review, db = p.db.get()](const net::Request& req) -> Result<json::object> {
      auto id = parse_u64(req.param("id"));
      if (!id) return Status::not_found("no such session");
      auto caller = review->caller(req);
      if (!caller.ok()) return caller.status();
      auto row = db->read_value<std::optional<service::Row>>([&](service::Tx& tx) {
        return tx.query_one("SELECT r.path, r.bytes, r.duration_ms, r.created_at, c.name FROM recordings r "
                            "JOIN channels c ON c.id = r.channel_id WHERE r.session_id = ? ORDER BY r.id DESC",
                            {static_cast<int64_t>(*id)});
      });
      if (!row.ok()) return row.status();
      if (!*row) return Status::not_found("this session has no recording");
      auto ch = review->channel((*row)->text(4));
      if (!ch.ok() || !review->can_read(*caller, *ch)) return Status::not_found("this session has no recording");
      const std::string url = "/api/v1/sessions/" + std::to_string(*id) + "/recording.flv";
      return json::object{{"session_id", static_cast<int64_t>(*id)}, {"url", url}, {"path", (*row)->text(0)},
                          {"bytes", (*row)->integer(1)}, {"duration_s", static_cast<double>((*row)->integer(2)) / 1000.0},
                          {"created_at", format_utc_ms((*row)->integer(3))}};
    };
    router.get("/api/v1/sessions/:id/recording", service::on_disk(p.runtime, [recording_of](const net::Request& req) {
      auto rec = recording_of(req);
      if (!rec.ok()) return net::Response::from_status(rec.status());
      rec->erase("path");
      return net::Response::json(200, json::serialize(*rec));
    }));
    auto files = std::make_shared<net::StaticFiles>(p.options.data_dir.string());
    router.get("/api/v1/sessions/:id/recording.flv",
               service::on_disk(p.runtime, [recording_of, files](const net::Request& req) {
                 auto rec = recording_of(req);
                 if (!rec.ok()) return net::Response::from_status(rec.status());
                 net::Response r = files->serve_file(req, std::string(rec->at("path").as_string()));
                 r.headers.set("Content-Type", "video/x-flv");
                 return r;
               }));
  }
  // Pages with a name in the URL are one HTML file each; the page reads the name from location.
  if (p.pages) {
    const auto page = [pages = p.pages](std::string file) {
      return [pages, file = std::move(file)](const net::Request& req) {
        net::Response r = pages->serve_file(req, (std::filesystem::path(pages->root()) / file).string());
        r.headers.set("Cache-Control", "no-cache");
        return r;
      };
    };
    router.get("/c/:name", page("channel.html"));
    router.get("/u/:name", page("profile.html"));
    router.get("/s/:id", page("session.html"));
    router.get("/login", page("login.html"));
    router.get("/signup", page("signup.html"));
    router.get("/settings", page("settings.html"));
  }
  // Browser libraries from npm (package.json pins them), served as shipped.
  const fs::path& nm = p.options.node_modules;
  const std::pair<const char*, fs::path> vendors[] = {
      {"/vendor/highlight.js/", nm / "@highlightjs" / "cdn-assets"},
      {"/vendor/diff/", nm / "diff" / "dist"},
      {"/vendor/uplot/", nm / "uplot" / "dist"},
      {"/vendor/mpegts.js/", nm / "mpegts.js" / "dist"},
      {"/vendor/hls.js/", nm / "hls.js" / "dist"},
  };
  for (const auto& [prefix, dir] : vendors)
    if (!nm.empty() && fs::exists(dir)) router.static_dir(prefix, dir.string());
}

void Platform::stop() {
  if (impl_->media) impl_->media->stop();
  if (impl_->hub) impl_->hub->stop();
}

uint16_t Platform::rtmp_port() const { return impl_->media ? impl_->media->rtmp_port() : 0; }

review::ReviewService& Platform::review() { return *impl_->review; }

std::string Platform::database() const { return impl_->db->describe(); }

}  // namespace chiron::platform
