#include "media/media_connection.h"

#include <boost/asio/write.hpp>

#include <chrono>

namespace chiron::media {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr size_t kMaxGather = 64;         // buffers per gather write
constexpr size_t kReadBytes = 16 * 1024;
constexpr size_t kMaxSkips = 5;           // skips to the next keyframe within kSkipWindowMs ...
constexpr int64_t kSkipWindowMs = 30'000;  // ... before a viewer is disconnected
constexpr size_t kMaxControlBytes = 1u << 20;  // unsent non-media bytes before a connection is cut
}  // namespace

MediaConnection::MediaConnection(asio::io_context& ctx, tcp::socket socket, const MediaOptions& options)
    : ctx_(ctx), socket_(std::move(socket)), options_(options), last_read_ms_(media_steady_ms()) {
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  socket_.set_option(tcp::no_delay(true), ec);
}

MediaConnection::~MediaConnection() = default;

void MediaConnection::start_reading() {
  if (closed_) return;
  if (read_buf_.empty()) read_buf_.resize(kReadBytes);
  socket_.async_read_some(asio::buffer(read_buf_),
                          [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
                            if (self->closed_) return;
                            if (ec) return self->close();
                            self->last_read_ms_ = media_steady_ms();
                            self->on_bytes(self->read_buf_.data(), n);
                            self->start_reading();
                          });
}

void MediaConnection::send(std::shared_ptr<const std::string> bytes) {
  if (closed_ || !bytes || bytes->empty()) return;
  if (writing_ && media_steady_ms() - write_started_ms_ > static_cast<int64_t>(options_.viewer_stall_ms)) return close();
  queued_control_bytes_ += bytes->size();
  if (queued_control_bytes_ > kMaxControlBytes) return close();  // it sends and never reads
  queue_.push_back({std::move(bytes), false});
  pump();
}

void MediaConnection::send_media(const SharedPacket& packet, const std::shared_ptr<const std::string>& wire,
                                 bool stream_has_video) {
  if (closed_ || drain_then_close_) return;
  const int64_t now = media_steady_ms();
  if (writing_ && now - write_started_ms_ > static_cast<int64_t>(options_.viewer_stall_ms)) return close();
  const MediaPacket& p = packet.packet();
  const bool essential = p.script() || p.sequence_header;  // decoder configuration: never dropped
  const bool resume_point = stream_has_video ? (p.video() && p.keyframe) : p.audio();
  if (waiting_key_ && !essential) {
    if (!resume_point) return;
    waiting_key_ = false;
  }
  // Wall time, not media time: a joiner's burst (the cached GOP) is old media but not lag.
  bool lagging = false;
  for (const auto& item : queue_)
    if (item.media) {
      lagging = now - item.queued_ms > static_cast<int64_t>(options_.viewer_max_lag_ms);
      break;
    }
  if (!essential && (lagging || queued_media_bytes_ + wire->size() > options_.viewer_queue_bytes)) {
    // Behind: drop what is queued and not yet being written; resume at a keyframe.
    std::deque<Item> kept;
    for (auto& item : queue_) {
      const bool keep = !item.media;
      if (keep) kept.push_back(std::move(item));
    }
    queue_ = std::move(kept);
    queued_media_bytes_ = 0;
    ++skips_;
    recent_skips_.push_back(now);
    while (!recent_skips_.empty() && recent_skips_.front() < now - kSkipWindowMs) recent_skips_.pop_front();
    if (recent_skips_.size() > kMaxSkips) return close();
    if (!resume_point) {
      waiting_key_ = true;
      return;
    }
  }
  queue_.push_back({wire, !essential, now});
  if (essential) {
    queued_control_bytes_ += wire->size();  // kept like control bytes (never dropped)
  } else {
    queued_media_bytes_ += wire->size();
  }
}

void MediaConnection::limit_send_buffer() {
  if (options_.viewer_sndbuf_bytes <= 0) return;
  boost::system::error_code ec;
  socket_.set_option(asio::socket_base::send_buffer_size(options_.viewer_sndbuf_bytes), ec);
}

void MediaConnection::pump() {
  if (writing_ || closed_) return;
  if (queue_.empty()) {
    if (drain_then_close_) {
      boost::system::error_code ec;
      socket_.shutdown(tcp::socket::shutdown_send, ec);
      close();
    }
    return;
  }
  inflight_.clear();
  buffers_.clear();
  while (!queue_.empty() && inflight_.size() < kMaxGather) {
    Item& item = queue_.front();
    if (item.media) {
      queued_media_bytes_ -= item.bytes->size();
    } else {
      queued_control_bytes_ -= item.bytes->size();
    }
    buffers_.emplace_back(asio::buffer(*item.bytes));
    inflight_.push_back(std::move(item.bytes));
    queue_.pop_front();
  }
  writing_ = true;
  write_started_ms_ = media_steady_ms();
  asio::async_write(socket_, buffers_, [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
    self->on_written(ec);
  });
}

void MediaConnection::on_written(const boost::system::error_code& ec) {
  writing_ = false;
  inflight_.clear();
  if (closed_) return;
  if (ec) return close();
  pump();
}

void MediaConnection::close_after_drain() {
  if (closed_) return;
  drain_then_close_ = true;
  // A peer that stopped reading would keep us (and our queue) forever: bounded.
  if (!drain_timer_) {
    drain_timer_ = std::make_unique<asio::steady_timer>(ctx_);
    drain_timer_->expires_after(std::chrono::milliseconds(options_.viewer_stall_ms));
    drain_timer_->async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->close();
    });
  }
  pump();
}

void MediaConnection::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ec;
  socket_.close(ec);
  if (drain_timer_) drain_timer_->cancel();
  queue_.clear();
  queued_media_bytes_ = 0;
  queued_control_bytes_ = 0;
  on_close();
}

FlvViewer::FlvViewer(asio::io_context& ctx, tcp::socket socket, const MediaOptions& options,
                     std::shared_ptr<Stream> stream, bool chunked)
    : MediaConnection(ctx, std::move(socket), options), stream_(std::move(stream)), chunked_(chunked) {}

void FlvViewer::start() {
  limit_send_buffer();
  start_reading();  // only to notice the client leaving
  auto self = std::static_pointer_cast<FlvViewer>(shared_from_this());
  if (!stream_->subscribe(ctx_, std::shared_ptr<Viewer>(self, static_cast<Viewer*>(self.get())))) end_of_stream();
}

void FlvViewer::deliver(const PacketPtr& packet) {
  if (closed() || ended_) return;
  if (!header_sent_) {
    header_sent_ = true;
    // Tracks as far as known; a stream just starting is assumed to have both (players wait
    // for a track the header announces, so a wrong "audio" costs only a stall at start).
    const bool known = stream_->has_audio() || stream_->has_video();
    std::string header;
    append_flv_header(header, !known || stream_->has_audio(), !known || stream_->has_video());
    if (chunked_) {
      std::string framed;
      append_http_chunk(framed, header);
      send(std::move(framed));
    } else {
      send(std::move(header));
    }
  }
  send_media(*packet, chunked_ ? packet->flv_chunk() : packet->flv_tag(), stream_->has_video());
}

void FlvViewer::end_of_stream() {
  if (ended_ || closed()) return;
  ended_ = true;
  if (chunked_) send(std::string("0\r\n\r\n"));
  close_after_drain();
}

void FlvViewer::on_close() {
  if (!ended_) stream_->unsubscribe(ctx_, this);
  ended_ = true;
}

}  // namespace chiron::media
