// One RTMP connection: the socket side of RtmpServerSession (rtmp_session.h). A connection
// either publishes a channel (stream key → channel through the hooks) or plays one (an RTMP
// viewer, fed like an HTTP-FLV viewer but with RTMP chunks).

#include <boost/asio/post.hpp>

#include "common/log.h"
#include "media/media_server_impl.h"
#include "media/rtmp_session.h"

namespace chiron::media {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr int64_t kTimerMs = 1'000;
constexpr int64_t kCommandDeadlineMs = 15'000;  // accept → publish/play

class RtmpConnection final : public MediaConnection, public RtmpSessionEvents, public Viewer {
 public:
  RtmpConnection(std::shared_ptr<MediaServer::Impl> server, asio::io_context& ctx, tcp::socket socket)
      : MediaConnection(ctx, std::move(socket), server->options), server_(std::move(server)),
        session_(session_options(), *this), timer_(ctx), started_ms_(media_steady_ms()) {}

  static RtmpSessionOptions session_options() {
    RtmpSessionOptions o;
    o.out_chunk_size = kRtmpOutChunkSize;
    return o;
  }

  void start() {
    server_->rtmp_open.fetch_add(1);
    counted_ = true;
    if (!server_->add_pending(remote_)) {
      log::warn("rtmp", "too many unfinished connections from one address; refusing", {{"remote", remote_}});
      return close();
    }
    pending_ = true;
    server_->track(shared_from_this());
    start_reading();
    arm_timer();
  }

  // Published or playing (or gone): no longer one of its address's unfinished connections.
  void settle() {
    if (pending_) server_->remove_pending(remote_);
    pending_ = false;
  }

  // --- socket
  void on_bytes(const char* data, size_t size) override {
    out_.clear();
    Status st = session_.feed(std::string_view(data, size), out_);
    send_out();
    if (!st.ok()) {
      log::info("rtmp", "protocol error; closing", {{"remote", remote_}, {"error", st.to_string()}});
      finish_ = true;
    }
    if (finish_) close_after_drain();
  }

  void on_close() override {
    timer_.cancel();
    settle();
    if (counted_) server_->rtmp_open.fetch_sub(1);
    counted_ = false;
    if (stream_) {
      if (publishing_) {
        log::info("rtmp", "publisher left", {{"channel", stream_->grant().channel}, {"remote", remote_}});
        server_->end_publish(stream_);
      } else {
        stream_->unsubscribe(ctx_, this);
      }
    }
    stream_.reset();
    server_->untrack(this);
  }

  void send_out() {
    if (!out_.empty()) send(std::move(out_));
    out_.clear();
  }

  void arm_timer() {
    timer_.expires_after(std::chrono::milliseconds(kTimerMs));
    timer_.async_wait([self = std::static_pointer_cast<RtmpConnection>(shared_from_this())](
                          const boost::system::error_code& ec) {
      if (ec || self->closed()) return;
      const int64_t now = media_steady_ms();
      const auto& o = self->options_;
      if (!self->session_.handshake_done() && now - self->started_ms_ > o.handshake_timeout_ms) {
        log::info("rtmp", "handshake timed out", {{"remote", self->remote_}});
        return self->close();
      }
      // A connection must get to publish or play soon; holding a slot otherwise is not allowed.
      if (!self->asked_ && now - self->started_ms_ > kCommandDeadlineMs) {
        log::info("rtmp", "no publish or play in time; closing", {{"remote", self->remote_}});
        return self->close();
      }
      // Publishers must keep sending; players may be silent (they only receive), and need no
      // timer once playing (thousands of them would wake up every second for nothing).
      if (self->session_.playing()) return;
      if (now - self->last_read_ms_ > o.publisher_idle_ms) {
        log::info("rtmp", "idle connection closed", {{"remote", self->remote_}});
        return self->close();
      }
      self->arm_timer();
    });
  }

  // --- session events (inside feed(), on this connection's thread)
  void on_publish(std::string_view app, std::string_view stream_name) override {
    if (app != "live") {
      session_.refuse_publish("NetStream.Publish.BadName", "unknown application; publish to rtmp://HOST/live/<stream key>", out_);
      finish_ = true;
      return;
    }
    if (asked_) {
      session_.refuse_publish("NetStream.Publish.BadName", "one publish or play per connection", out_);
      finish_ = true;
      return;
    }
    asked_ = true;
    auto self = std::static_pointer_cast<RtmpConnection>(shared_from_this());
    server_->hooks->authorize_publish(std::string(stream_name), remote_, [self](Result<PublishGrant> grant) {
      asio::post(self->ctx_, [self, grant = std::move(grant)]() mutable { self->on_publish_decided(std::move(grant)); });
    });
  }

  void on_publish_decided(Result<PublishGrant> grant) {
    if (closed() || cancelled_) return;  // gone, or unpublished while the key was being checked
    out_.clear();
    if (!grant.ok()) {
      log::warn("rtmp", "publish refused: unknown stream key", {{"remote", remote_}, {"error", grant.status().to_string()}});
      session_.refuse_publish("NetStream.Publish.BadName", "unknown stream key", out_);
      send_out();
      return close_after_drain();
    }
    auto begun = server_->begin_publish(*grant, shared_from_this());
    if (!begun.ok()) {
      log::warn("rtmp", "publish refused: channel already live", {{"remote", remote_}, {"channel", grant->channel}});
      session_.refuse_publish("NetStream.Publish.BadName", "this channel is already being published", out_);
      send_out();
      return close_after_drain();
    }
    stream_ = begun->first;
    media_ = begun->second;
    publishing_ = true;
    settle();
    log::info("rtmp", "publishing", {{"channel", grant->channel}, {"remote", remote_}});
    session_.accept_publish(out_);
    send_out();
  }

  void on_play(std::string_view app, std::string_view stream_name) override {
    if (app != "live" || asked_) {
      session_.refuse_play("NetStream.Play.StreamNotFound", "no such stream", out_);
      finish_ = true;
      return;
    }
    asked_ = true;
    auto self = std::static_pointer_cast<RtmpConnection>(shared_from_this());
    std::string channel(stream_name);
    server_->hooks->authorize_view(channel, nullptr, [self, channel](Result<ViewGrant> id) {
      asio::post(self->ctx_, [self, channel, id = std::move(id)] { self->on_play_decided(channel, id); });
    });
  }

  void on_play_decided(const std::string& channel, const Result<ViewGrant>& id) {
    if (closed()) return;
    out_.clear();
    std::shared_ptr<Stream> stream = id.ok() ? server_->stream_for_viewer(channel, id->channel_id) : nullptr;
    if (!stream) {
      session_.refuse_play("NetStream.Play.StreamNotFound", "the channel is not live", out_);
      send_out();
      return close_after_drain();
    }
    session_.accept_play(out_);
    send_out();
    settle();
    limit_send_buffer();
    timer_.cancel();  // players may be silent; the stream's end or a socket error ends them
    stream_ = stream;
    auto self = std::static_pointer_cast<RtmpConnection>(shared_from_this());
    if (!stream_->subscribe(ctx_, std::shared_ptr<Viewer>(self, static_cast<Viewer*>(self.get())))) end_of_stream();
  }

  void on_media(MediaPacket&& packet) override {
    if (publishing_ && stream_ && media_) server_->ingest(stream_, *media_, std::move(packet));
  }

  void on_unpublish() override {
    if (asked_ && !publishing_) cancelled_ = true;
    if (!publishing_ || !stream_) return;
    publishing_ = false;
    log::info("rtmp", "unpublished", {{"channel", stream_->grant().channel}, {"remote", remote_}});
    server_->end_publish(stream_);
    stream_.reset();
  }

  // --- viewer (RTMP play)
  void deliver(const PacketPtr& packet) override {
    send_media(*packet, packet->rtmp(), stream_ && stream_->has_video());
  }
  void flush() override { flush_media(); }
  void end_of_stream() override {
    if (closed()) return;
    out_.clear();
    session_.end_play(out_);
    send_out();
    stream_.reset();
    close_after_drain();
  }

 private:
  std::shared_ptr<MediaServer::Impl> server_;
  RtmpServerSession session_;
  asio::steady_timer timer_;
  const int64_t started_ms_;
  std::string out_;
  std::shared_ptr<Stream> stream_;
  std::shared_ptr<ChannelMedia> media_;
  bool publishing_ = false;
  bool asked_ = false;  // one publish or play per connection
  bool finish_ = false;  // close once what feed() produced is written
  bool cancelled_ = false;  // the publisher gave up before its key was checked
  bool pending_ = false;    // counted in the server's unfinished connections of remote_'s address
  bool counted_ = false;    // counted in rtmp_open
};

}  // namespace

void start_rtmp_connection(const std::shared_ptr<MediaServer::Impl>& server, asio::io_context& ctx, tcp::socket socket) {
  auto c = std::make_shared<RtmpConnection>(server, ctx, std::move(socket));
  c->start();
}

}  // namespace chiron::media
