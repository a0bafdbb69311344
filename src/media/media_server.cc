#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>

#include "common/clock.h"
#include "common/log.h"
#include "common/strings.h"
#include "media/media_server_impl.h"
#include "media/recorder.h"

namespace chiron::media {

namespace asio = boost::asio;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

constexpr int64_t kTickMs = 2'000;           // state events and housekeeping
constexpr int64_t kHlsClientTtlMs = 15'000;  // an HLS client counts as a viewer this long after a request
constexpr int64_t kHlsEndGraceMs = 30'000;   // a publisher gone this long: the playlist ends
constexpr int64_t kStalePublisherMs = 5'000;  // a publisher silent this long may be replaced

// Channel names in URLs: what the platform allows (lower-case letters, digits, '-', '_').
bool valid_channel(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || (c >= 'A' && c <= 'Z')))
      return false;
  return true;
}

// "127.0.0.1:53412" → "127.0.0.1": clients open new connections now and then.
std::string host_of(const std::string& address) { return address.substr(0, address.rfind(':')); }

net::Response not_live(std::string_view channel) {
  net::Response r = net::Response::error(404, "offline", std::string(channel) + " is not live");
  r.headers.add("Access-Control-Allow-Origin", "*");
  r.headers.add("Cache-Control", "no-cache");
  return r;
}

json::object state_object(std::string_view channel, const StreamState& s) {
  json::array health;
  for (const auto& h : s.health) health.push_back(json::object{{"level", h.level}, {"code", h.code}, {"message", h.message}});
  auto round1 = [](double v) { return static_cast<double>(static_cast<int64_t>(v * 10 + 0.5)) / 10; };
  json::object o{{"channel", channel},
                 {"state", s.live ? "live" : "offline"},
                 {"since", s.live ? json::value(format_utc_ms(s.since_ms)) : json::value(nullptr)},
                 {"bitrate", static_cast<int64_t>(s.bitrate_kbps + 0.5)},
                 {"fps", round1(s.fps)},
                 {"width", s.width},
                 {"height", s.height},
                 {"viewers", s.viewers},
                 {"video_codec", s.video_codec.empty() ? json::value(nullptr) : json::value(s.video_codec)},
                 {"audio_codec", s.audio_codec.empty() ? json::value(nullptr) : json::value(s.audio_codec)},
                 {"keyframe_interval", s.keyframe_interval_s > 0 ? json::value(round1(s.keyframe_interval_s)) : json::value(nullptr)},
                 {"relayed", s.relayed},
                 {"flv", "/live/" + std::string(channel) + ".flv"},
                 {"hls", "/live/" + std::string(channel) + "/index.m3u8"},
                 {"health", std::move(health)}};
  return o;
}

}  // namespace

std::string stream_state_json(std::string_view channel, const StreamState& state) {
  return json::serialize(state_object(channel, state));
}

// ---------------------------------------------------------------------------------- registry

void ChannelMedia::start_feeding(const Stream* stream) {
  std::lock_guard lock(mu);
  if (feeding || hls.stats().segments > 0) hls.discontinuity();
  feeding = stream;
  offline_since_ms = 0;
}

asio::io_context& MediaServer::Impl::next_context() {
  return *contexts[rr.fetch_add(1, std::memory_order_relaxed) % contexts.size()];
}

void MediaServer::Impl::track(const std::shared_ptr<MediaConnection>& c) {
  std::lock_guard lock(mu);
  conns[c.get()] = c;
}

void MediaServer::Impl::untrack(const MediaConnection* c) {
  std::lock_guard lock(mu);
  conns.erase(c);
}

namespace {
constexpr int kMaxPendingPerAddress = 16;
}  // namespace

bool MediaServer::Impl::add_pending(const std::string& address) {
  std::lock_guard lock(mu);
  int& n = pending[host_of(address)];
  if (n >= kMaxPendingPerAddress) return false;
  ++n;
  return true;
}

void MediaServer::Impl::remove_pending(const std::string& address) {
  std::lock_guard lock(mu);
  auto it = pending.find(host_of(address));
  if (it != pending.end() && --it->second <= 0) pending.erase(it);
}

Result<std::pair<std::shared_ptr<Stream>, std::shared_ptr<ChannelMedia>>> MediaServer::Impl::begin_publish(
    const PublishGrant& granted, const std::shared_ptr<MediaConnection>& publisher) {
  if (stopping.load()) return Status::unavailable("shutting down");
  PublishGrant grant = granted;
  grant.publish_id = publishes.fetch_add(1) + 1;
  std::shared_ptr<Stream> old;
  std::shared_ptr<MediaConnection> old_publisher;
  std::shared_ptr<EdgePull> old_pull;
  auto stream = std::make_shared<Stream>(grant, options, Clock::system().unix_ms(), false);
  std::shared_ptr<ChannelMedia> media;
  {
    std::lock_guard lock(mu);
    ChannelEntry& e = channels[grant.channel];
    if (e.stream && !e.stream->ended()) {
      // The same streamer reconnecting after a silent network drop finds its old connection still
      // open (no FIN ever came): a publisher that has sent nothing for kStalePublisherMs is replaced.
      const bool stale = media_steady_ms() - e.stream->last_packet_ms() >= kStalePublisherMs;
      if (!e.stream->relayed() && !options.replace_publisher && !stale)
        return Status::already_exists("channel " + grant.channel + " is already live");
      old = e.stream;
      old_publisher = e.publisher.lock();
      old_pull = std::move(e.pull);
    }
    if (!e.media) e.media = std::make_shared<ChannelMedia>(options.hls);
    media = e.media;
    e.stream = stream;
    e.publisher = publisher;
    e.pull.reset();
    e.idle_since_ms = 0;
  }
  if (old) {
    old->end();
    if (old_pull) old_pull->stop();
    if (old_publisher) asio::post(old_publisher->context(), [old_publisher] { old_publisher->close(); });
    if (!old->relayed()) hooks->on_publish_end(old->grant());
  }
  media->start_feeding(stream.get());
  hooks->on_publish_start(grant);
  if (grant.record && !options.recordings_dir.empty()) {
    RecorderOptions ro;
    ro.dir = options.recordings_dir;
    auto rec = start_recording(next_context(), stream, ro, [hooks = hooks, grant](RecordingInfo info) {
      if (!info.status.ok() && info.bytes == 0) return;
      hooks->on_recording(grant, Recording{info.path.string(), info.bytes, info.duration_ms});
    });
    if (rec.ok()) {
      std::lock_guard lock(mu);
      recordings.push_back(std::move(*rec));
    } else {
      log::error("media", "cannot record", {{"channel", grant.channel}, {"error", rec.status().to_string()}});
    }
  }
  publish_state(stream);
  return std::make_pair(stream, media);
}

void MediaServer::Impl::ingest(const std::shared_ptr<Stream>& stream, ChannelMedia& media, MediaPacket&& packet) {
  if (options.hls_enabled) {
    std::lock_guard lock(media.mu);
    if (media.feeding == stream.get()) {
      Status st = media.hls.push(packet);
      if (!st.ok() && media.hls_errors++ % 100 == 0)  // a broken stream would log every packet
        log::warn("hls", "segmenter refused a packet", {{"channel", stream->grant().channel}, {"error", st.to_string()}});
    }
  }
  stream->publish(std::move(packet));
}

void MediaServer::Impl::end_publish(const std::shared_ptr<Stream>& stream) {
  if (!stream) return;
  bool current = false;
  std::shared_ptr<ChannelMedia> media;
  {
    std::lock_guard lock(mu);
    auto it = channels.find(stream->grant().channel);
    if (it != channels.end()) {
      media = it->second.media;
      if (it->second.stream == stream) {
        current = true;
        it->second.stream.reset();
        it->second.publisher.reset();
        it->second.pull.reset();
      }
    }
  }
  const bool was_live = !stream->ended();
  stream->end();
  if (media) {
    std::lock_guard lock(media->mu);
    if (media->feeding == stream.get()) {
      media->feeding = nullptr;
      // The ticker ends the playlist after the grace period (nothing to end if it never had a segment).
      media->offline_since_ms = media->hls.stats().segments > 0 ? media_steady_ms() : 0;
    }
  }
  if (current && was_live) {
    if (!stream->relayed()) hooks->on_publish_end(stream->grant());
    publish_state(stream);
  }
}

std::shared_ptr<Stream> MediaServer::Impl::stream_for_viewer(const std::string& channel, int64_t channel_id) {
  if (stopping.load()) return nullptr;
  std::shared_ptr<Stream> stream;
  std::shared_ptr<ChannelMedia> media;
  {
    std::lock_guard lock(mu);
    auto it = channels.find(channel);
    if (it != channels.end() && it->second.stream && !it->second.stream->ended()) {
      it->second.idle_since_ms = 0;
      return it->second.stream;
    }
    if (options.origin.empty()) return nullptr;
    // Edge: pull it from the origin; viewers share this one upstream.
    ChannelEntry& e = channels[channel];
    PublishGrant grant{channel_id, channel, true};
    stream = std::make_shared<Stream>(grant, options, Clock::system().unix_ms(), true);
    if (!e.media) e.media = std::make_shared<ChannelMedia>(options.hls);
    media = e.media;
    e.stream = stream;
    e.idle_since_ms = 0;
    e.pull = start_edge_pull(shared_from_this(), next_context(), channel, stream, media);
  }
  media->start_feeding(stream.get());
  log::info("edge", "pulling from the origin", {{"channel", channel}, {"origin", options.origin}});
  return stream;
}

std::shared_ptr<ChannelMedia> MediaServer::Impl::channel_media(const std::string& channel) {
  std::lock_guard lock(mu);
  auto it = channels.find(channel);
  return it == channels.end() ? nullptr : it->second.media;
}

void MediaServer::Impl::note_hls_client(const std::string& channel, const std::string& address) {
  std::lock_guard lock(mu);
  auto it = channels.find(channel);
  if (it != channels.end()) it->second.hls_clients[host_of(address)] = media_steady_ms();
}

void MediaServer::Impl::publish_state(const std::shared_ptr<Stream>& stream) {
  hooks->on_state(stream->grant(), stream->state());
}

// ------------------------------------------------------------------------- listener and ticker

void MediaServer::Impl::accept() {
  acceptor->async_accept(next_context(), [self = shared_from_this()](const boost::system::error_code& ec, tcp::socket socket) {
    if (self->stopping.load()) return;
    if (!ec) {
      if (self->rtmp_open.load() >= self->options.max_connections) {
        static std::atomic<int64_t> last_warned{0};  // once a second at most
        const int64_t now = media_steady_ms();
        if (now - last_warned.exchange(now) >= 1000)
          log::warn("rtmp", "connection limit reached; refusing", {{"limit", self->options.max_connections}});
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        auto& ctx = static_cast<asio::io_context&>(socket.get_executor().context());
        asio::post(ctx, [self, &ctx, s = std::make_shared<tcp::socket>(std::move(socket))]() mutable {
          start_rtmp_connection(self, ctx, std::move(*s));
        });
      }
    } else if (ec == asio::error::operation_aborted) {
      return;
    } else {
      log::warn("rtmp", "accept failed", {{"error", ec.message()}});
    }
    self->accept();
  });
}

void MediaServer::Impl::tick() {
  ticker->expires_after(std::chrono::milliseconds(kTickMs));
  ticker->async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->stopping.load()) return;
    const int64_t now = media_steady_ms();
    std::vector<std::shared_ptr<Stream>> live;
    std::vector<std::shared_ptr<EdgePull>> idle_pulls;
    {
      std::lock_guard lock(self->mu);
      for (auto it = self->conns.begin(); it != self->conns.end();) {
        if (it->second.expired()) it = self->conns.erase(it);
        else ++it;
      }
      std::erase_if(self->recordings, [](const auto& r) { return r->done(); });
      for (auto& [name, e] : self->channels) {
        for (auto c = e.hls_clients.begin(); c != e.hls_clients.end();) {
          if (now - c->second > kHlsClientTtlMs) c = e.hls_clients.erase(c);
          else ++c;
        }
        if (!e.stream || e.stream->ended()) continue;
        e.stream->set_hls_clients(e.hls_clients.size());
        live.push_back(e.stream);
        // Edge: stop pulling a while after the last viewer left.
        if (e.pull) {
          if (e.stream->viewers() > 0 || !e.hls_clients.empty()) {
            e.idle_since_ms = 0;
          } else if (e.idle_since_ms == 0) {
            e.idle_since_ms = now;
          } else if (now - e.idle_since_ms >= static_cast<int64_t>(self->options.edge_idle_ms)) {
            log::info("edge", "no viewers left; stopping the pull", {{"channel", name}});
            idle_pulls.push_back(e.pull);
          }
        }
      }
    }
    // Playlists of channels offline for the grace period get EXT-X-ENDLIST; channels with nothing
    // left (no stream, no pull, no HLS client, playlist ended or never started) are forgotten, so
    // neither ended playlists nor names asked for once (an edge's pulls of unknown channels) stay.
    {
      std::lock_guard lock(self->mu);
      for (auto it = self->channels.begin(); it != self->channels.end();) {
        ChannelEntry& e = it->second;
        bool idle = !e.stream && !e.pull && e.hls_clients.empty();
        if (e.media) {
          std::lock_guard media_lock(e.media->mu);
          ChannelMedia& m = *e.media;
          if (m.feeding == nullptr && m.offline_since_ms != 0 && now - m.offline_since_ms >= kHlsEndGraceMs) {
            m.hls.finish();
            m.offline_since_ms = 0;
          }
          idle = idle && m.feeding == nullptr && m.offline_since_ms == 0;
        }
        if (idle) it = self->channels.erase(it);
        else ++it;
      }
    }
    for (auto& p : idle_pulls) p->stop();
    for (auto& s : live) self->publish_state(s);
    self->tick();
  });
}

// ------------------------------------------------------------------------------- MediaServer

MediaServer::MediaServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

MediaServer::~MediaServer() { stop(); }

Result<std::unique_ptr<MediaServer>> MediaServer::start(std::vector<asio::io_context*> contexts, MediaOptions options,
                                                        std::shared_ptr<MediaHooks> hooks) {
  if (contexts.empty()) return Status::invalid_argument("media server: no io_contexts");
  if (!options.origin.empty()) {
    auto origin = parse_host_port(options.origin);
    if (!origin.ok()) return origin.status().context("--origin");
  }
  auto impl = std::make_shared<Impl>(std::move(contexts), std::move(options), std::move(hooks));
  asio::io_context& ctx0 = *impl->contexts[0];
  impl->ticker = std::make_unique<asio::steady_timer>(ctx0);
  if (impl->options.rtmp_enabled) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(impl->options.rtmp_address, ec);
    if (ec) return Status::invalid_argument("rtmp address " + impl->options.rtmp_address + ": " + ec.message());
    tcp::endpoint ep(address, impl->options.rtmp_port);
    auto acceptor = std::make_unique<tcp::acceptor>(ctx0);
    if (acceptor->open(ep.protocol(), ec); ec) return Status::unavailable("rtmp socket: " + ec.message());
    acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (acceptor->bind(ep, ec); ec)
      return Status::unavailable("rtmp bind " + impl->options.rtmp_address + ":" + std::to_string(impl->options.rtmp_port) +
                                 ": " + ec.message());
    if (acceptor->listen(asio::socket_base::max_listen_connections, ec); ec)
      return Status::unavailable("rtmp listen: " + ec.message());
    impl->port = acceptor->local_endpoint(ec).port();
    impl->acceptor = std::move(acceptor);
    asio::post(ctx0, [impl] { impl->accept(); });
  }
  asio::post(ctx0, [impl] { impl->tick(); });
  return std::unique_ptr<MediaServer>(new MediaServer(std::move(impl)));
}

uint16_t MediaServer::rtmp_port() const { return impl_->port; }

StreamState MediaServer::state(std::string_view channel) const {
  std::shared_ptr<Stream> stream;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->channels.find(std::string(channel));
    if (it != impl_->channels.end()) stream = it->second.stream;
  }
  if (!stream || stream->ended()) return StreamState{};
  return stream->state();
}

void MediaServer::stop() {
  if (impl_->stopping.exchange(true)) return;
  std::vector<std::shared_ptr<MediaConnection>> conns;
  std::vector<std::shared_ptr<Stream>> streams;
  std::vector<std::shared_ptr<EdgePull>> pulls;
  std::vector<std::shared_ptr<RecordingHandle>> recordings;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& [p, w] : impl_->conns)
      if (auto c = w.lock()) conns.push_back(std::move(c));
    for (auto& [name, e] : impl_->channels) {
      if (e.stream) streams.push_back(e.stream);
      if (e.pull) pulls.push_back(e.pull);
    }
    recordings = impl_->recordings;
  }
  auto impl = impl_;
  asio::post(*impl->contexts[0], [impl] {
    boost::system::error_code ec;
    if (impl->acceptor) impl->acceptor->close(ec);
    impl->ticker->cancel();
  });
  for (auto& p : pulls) p->stop();
  // As if each publisher had left: sessions end (the hooks' work is queued on the disk pipeline,
  // which the runtime drains before it stops), viewers and recorders get the end of the stream.
  for (auto& s : streams) impl->end_publish(s);
  for (auto& c : conns) asio::post(c->context(), [c] { c->close(); });
  // Recordings are closed, fsync'd and listed before the platform's database goes away.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (auto& r : recordings) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !r->wait_for(left)) {
      log::warn("media", "a recording did not finish in time at shutdown");
      break;
    }
  }
}

// ------------------------------------------------------------------------------------ routes

namespace {

// The socket of an accepted streamed response, adopted on its own io_context.
std::optional<tcp::socket> adopt(asio::io_context& ctx, int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  tcp::socket s(ctx);
  boost::system::error_code ec;
  s.assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
  if (ec) {
    ::close(fd);
    return std::nullopt;
  }
  return s;
}

}  // namespace

void MediaServer::register_routes(net::Router& router) {
  std::weak_ptr<Impl> weak = impl_;
  // HTTP-FLV: GET /live/<channel>.flv
  router.get("/live/:file", [weak](net::Request req, net::Responder responder) {
    auto impl = weak.lock();
    std::string_view file = req.param("file");
    if (!impl || file.size() <= 4 || file.substr(file.size() - 4) != ".flv" ||
        !valid_channel(file.substr(0, file.size() - 4)))
      return void(responder.send(net::Response::error(404, "not_found", "expected /live/<channel>.flv")));
    std::string channel(file.substr(0, file.size() - 4));
    auto shared_req = std::make_shared<const net::Request>(std::move(req));
    auto resp = std::make_shared<net::Responder>(std::move(responder));
    impl->hooks->authorize_view(channel, shared_req, [weak, channel, resp](Result<ViewGrant> grant) {
      auto server = weak.lock();
      if (!server || !grant.ok()) return void(resp->send(not_live(channel)));
      std::shared_ptr<Stream> stream = server->stream_for_viewer(channel, grant->channel_id);
      if (!stream) return void(resp->send(not_live(channel)));
      net::Response r;
      r.status = 200;
      r.headers.add("Content-Type", "video/x-flv");
      r.headers.add("Cache-Control", "no-cache, no-store");
      r.headers.add("Access-Control-Allow-Origin", "*");
      r.headers.add("X-Content-Type-Options", "nosniff");
      r.takeover = [weak, stream](asio::io_context& ctx, int fd, bool chunked) {
        auto srv = weak.lock();
        auto socket = adopt(ctx, fd);
        if (!srv || !socket) return;
        auto viewer = std::make_shared<FlvViewer>(ctx, std::move(*socket), srv->options, stream, chunked);
        srv->track(viewer);
        viewer->start();
      };
      resp->send(std::move(r));
    });
  });

  // HLS: GET /live/<channel>/index.m3u8 and /live/<channel>/<seq>.ts
  router.get("/live/:channel/:file", [weak](net::Request req, net::Responder responder) {
    auto impl = weak.lock();
    std::string channel(req.param("channel"));
    std::string file(req.param("file"));
    if (!impl || !impl->options.hls_enabled || !valid_channel(channel))
      return void(responder.send(net::Response::error(404, "not_found", "no such stream")));
    const bool playlist = file == "index.m3u8";
    uint64_t seq = 0;
    if (!playlist) {
      if (file.size() < 4 || file.substr(file.size() - 3) != ".ts")
        return void(responder.send(net::Response::error(404, "not_found", "expected index.m3u8 or <n>.ts")));
      auto n = parse_u64(std::string_view(file).substr(0, file.size() - 3));
      if (!n) return void(responder.send(net::Response::error(404, "not_found", "bad segment name")));
      seq = *n;
    }
    auto shared_req = std::make_shared<const net::Request>(std::move(req));
    auto resp = std::make_shared<net::Responder>(std::move(responder));
    impl->hooks->authorize_view(channel, shared_req, [weak, channel, playlist, seq, resp, shared_req](Result<ViewGrant> grant) {
      auto server = weak.lock();
      if (!server || !grant.ok()) return void(resp->send(not_live(channel)));
      server->note_hls_client(channel, shared_req->remote_address);
      if (playlist && !server->options.origin.empty()) (void)server->stream_for_viewer(channel, grant->channel_id);  // edge: keep pulling
      std::shared_ptr<ChannelMedia> media = server->channel_media(channel);
      if (!media) return void(resp->send(not_live(channel)));
      net::Response r;
      if (playlist) {
        std::optional<std::string> text;
        {
          std::lock_guard lock(media->mu);
          text = media->hls.playlist("");
        }
        if (!text) return void(resp->send(not_live(channel)));
        r = net::Response::text(200, std::move(*text), "application/vnd.apple.mpegurl");
        r.headers.add("Cache-Control", "no-cache");
      } else {
        std::shared_ptr<const std::string> seg;
        {
          std::lock_guard lock(media->mu);
          seg = media->hls.segment(seq);
        }
        if (!seg) return void(resp->send(net::Response::error(404, "not_found", "segment gone or not yet there")));
        r = net::Response::text(200, *seg, "video/mp2t");
        // Segments never change: cacheable — but only by the viewer's own browser for private channels.
        r.headers.add("Cache-Control", grant->is_private ? "private, max-age=60" : "max-age=60");
      }
      r.headers.add("Access-Control-Allow-Origin", "*");
      resp->send(std::move(r));
    });
  });

  // Where publishers connect (the settings page shows it): the RTMP port, and the address when
  // it is a specific one (0.0.0.0 / :: mean "the host the page came from").
  router.get("/api/v1/media/ingest", [weak](const net::Request&) {
    auto impl = weak.lock();
    if (!impl) return net::Response::error(503, "unavailable", "shutting down");
    const bool enabled = impl->options.rtmp_enabled && impl->port != 0;
    const std::string& a = impl->options.rtmp_address;
    const bool wildcard = a.empty() || a == "0.0.0.0" || a == "::";
    json::object o{{"enabled", enabled},
                   {"port", enabled ? json::value(impl->port) : json::value(nullptr)},
                   {"host", enabled && !wildcard ? json::value(a) : json::value(nullptr)},
                   {"app", "live"}};
    return net::Response::json(200, json::serialize(o));
  });

  // Operators: every live stream.
  router.get("/api/v1/media/streams", [weak](const net::Request&) {
    auto impl = weak.lock();
    if (!impl) return net::Response::error(503, "unavailable", "shutting down");
    std::vector<std::shared_ptr<Stream>> live;
    {
      std::lock_guard lock(impl->mu);
      for (auto& [name, e] : impl->channels)
        if (e.stream && !e.stream->ended() && !e.stream->grant().is_private) live.push_back(e.stream);
    }
    json::array streams;
    for (auto& s : live) {
      json::object o = state_object(s->grant().channel, s->state());
      o["packets_in"] = s->packets_in();
      o["bytes_in"] = s->bytes_in();
      streams.push_back(std::move(o));
    }
    return net::Response::json(200, json::serialize(json::object{{"streams", std::move(streams)}}));
  });
}

}  // namespace chiron::media
