// Edge relay: a channel that is not published here is pulled from the origin over HTTP-FLV
// (GET /live/<channel>.flv, HTTP/1.0 so the body is the bare FLV stream ending at close) into
// a local Stream, which local viewers share — one upstream per channel, however many viewers.
// The registry stops the pull edge_idle_ms after the last viewer left (media_server.cc).
// The origin answers anonymous pulls for public channels only, so private streams never leave it.

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "common/log.h"
#include "common/strings.h"
#include "media/flv.h"
#include "media/media_server_impl.h"

namespace chiron::media {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kMaxHeadBytes = 16 * 1024;
constexpr size_t kReadBytes = 64 * 1024;
constexpr int64_t kHeadTimeoutMs = 5'000;   // connect + request + response head
constexpr int64_t kDataTimeoutMs = 10'000;  // no bytes from the origin this long: give up

class EdgePullImpl final : public EdgePull, public std::enable_shared_from_this<EdgePullImpl> {
 public:
  EdgePullImpl(std::shared_ptr<MediaServer::Impl> server, asio::io_context& ctx, std::string channel,
               std::shared_ptr<Stream> stream, std::shared_ptr<ChannelMedia> media)
      : server_(std::move(server)), ctx_(ctx), socket_(ctx), resolver_(ctx), timer_(ctx), channel_(std::move(channel)),
        stream_(std::move(stream)), media_(std::move(media)) {}

  void start() {
    started_ms_ = last_data_ms_ = media_steady_ms();
    watch();
    auto origin = parse_host_port(server_->options.origin);
    if (!origin.ok()) return fail("bad origin address: " + origin.status().to_string());
    host_ = server_->options.origin;
    resolver_.async_resolve(origin->host, std::to_string(origin->port),
                            [self = shared_from_this()](const boost::system::error_code& ec,
                                                        const tcp::resolver::results_type& results) {
                              if (self->stopped_) return;
                              if (ec) return self->fail("cannot resolve the origin: " + ec.message());
                              asio::async_connect(self->socket_, results,
                                                  [self](const boost::system::error_code& e, const tcp::endpoint&) {
                                                    if (self->stopped_) return;
                                                    if (e) return self->fail("cannot reach the origin: " + e.message());
                                                    self->send_request();
                                                  });
                            });
  }

  void stop() override {
    asio::post(ctx_, [self = shared_from_this()] { self->finish(); });
  }

 private:
  // An origin that does not answer, or stops sending, must not keep the edge's viewers waiting.
  void watch() {
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->stopped_) return;
      const int64_t now = media_steady_ms();
      if (!self->head_done_ && now - self->started_ms_ > kHeadTimeoutMs) return self->fail("the origin did not answer in time");
      if (now - self->last_data_ms_ > kDataTimeoutMs) return self->fail("no data from the origin");
      self->watch();
    });
  }

  void send_request() {
    request_ = "GET /live/" + channel_ + ".flv HTTP/1.0\r\nHost: " + host_ +
               "\r\nUser-Agent: chiron-edge\r\nAccept: video/x-flv\r\n\r\n";
    asio::async_write(socket_, asio::buffer(request_), [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
      if (self->stopped_) return;
      if (ec) return self->fail("request failed: " + ec.message());
      self->read();
    });
  }

  void read() {
    buf_.resize(kReadBytes);
    socket_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
      if (self->stopped_) return;
      if (ec) return self->fail(ec == asio::error::eof ? "the origin ended the stream" : "read failed: " + ec.message());
      self->last_data_ms_ = media_steady_ms();
      self->on_data(std::string_view(self->buf_.data(), n));
      if (!self->stopped_) self->read();
    });
  }

  void on_data(std::string_view data) {
    if (!head_done_) {
      head_.append(data);
      const size_t end = head_.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (head_.size() > kMaxHeadBytes) fail("the origin's response head is too large");
        return;
      }
      // "HTTP/1.x 200 ..."
      if (head_.size() < 12 || head_.compare(0, 5, "HTTP/") != 0 || head_.compare(9, 3, "200") != 0)
        return fail("the origin does not have it live: " + head_.substr(0, head_.find("\r\n")));
      head_done_ = true;
      data = std::string_view(head_).substr(end + 4);
      std::string rest(data);
      head_.clear();
      return feed(rest);
    }
    feed(data);
  }

  void feed(std::string_view data) {
    if (data.empty()) return;
    Status st = reader_.feed(data, [this](MediaPacket&& p) {
      if (!tracks_set_ && reader_.header_seen()) {
        stream_->set_tracks(reader_.has_audio(), reader_.has_video());
        tracks_set_ = true;
      }
      server_->ingest(stream_, *media_, std::move(p));
    });
    if (!st.ok()) fail("bad FLV from the origin: " + st.to_string());
  }

  void fail(const std::string& why) {
    if (stopped_) return;
    log::info("edge", "pull ended", {{"channel", channel_}, {"origin", server_->options.origin}, {"reason", why}});
    finish();
  }

  void finish() {
    if (stopped_) return;
    stopped_ = true;
    boost::system::error_code ec;
    resolver_.cancel();
    timer_.cancel();
    socket_.close(ec);
    server_->end_publish(stream_);
  }

  std::shared_ptr<MediaServer::Impl> server_;
  asio::io_context& ctx_;
  tcp::socket socket_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;
  int64_t started_ms_ = 0;
  int64_t last_data_ms_ = 0;
  const std::string channel_;
  std::shared_ptr<Stream> stream_;
  std::shared_ptr<ChannelMedia> media_;
  std::string host_;
  std::string request_;
  std::string head_;
  std::vector<char> buf_;
  FlvReader reader_;
  bool head_done_ = false;
  bool tracks_set_ = false;
  bool stopped_ = false;
};

}  // namespace

std::shared_ptr<EdgePull> start_edge_pull(const std::shared_ptr<MediaServer::Impl>& server, asio::io_context& ctx,
                                          std::string channel, std::shared_ptr<Stream> stream,
                                          std::shared_ptr<ChannelMedia> media) {
  auto pull = std::make_shared<EdgePullImpl>(server, ctx, std::move(channel), std::move(stream), std::move(media));
  asio::post(ctx, [pull] { pull->start(); });
  return pull;
}

}  // namespace chiron::media
