#pragma once
// MediaConnection: one TCP connection of the media server (an RTMP publisher or player, an
// HTTP-FLV viewer, an edge's pull from its origin), confined to its io_context.
//
// Writes: an ordered queue of shared byte buffers, flushed with gather writes (up to
// kMaxGather buffers per writev), so packets shared by many viewers are never copied per viewer.
// Media sent through send_media() is subject to the viewer policy: when the oldest queued frame
// has waited more than MediaOptions::viewer_max_lag_ms or the queue exceeds viewer_queue_bytes,
// the queued frames are dropped (metadata and sequence headers stay) and the viewer resumes at
// the next keyframe; kMaxSkips skips within kSkipWindowMs, or a write stuck for
// viewer_stall_ms, disconnect it. Control bytes are never dropped, but a peer that lets more
// than kMaxControlBytes of them pile up (it sends commands and never reads the replies) is
// disconnected; close_after_drain() gives up after viewer_stall_ms. Viewers' kernel send buffers are capped
// (viewer_sndbuf_bytes) so that a slow reader's lag shows up in this queue instead of hiding in
// megabytes of socket buffer. Control bytes (send()) are never dropped.
//
// Lifetime: shared_ptr, kept alive by its pending operations; close() is idempotent and calls
// on_close() once.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "media/media.h"
#include "media/stream.h"

namespace chiron::media {

class MediaConnection : public std::enable_shared_from_this<MediaConnection> {
 public:
  MediaConnection(boost::asio::io_context& ctx, boost::asio::ip::tcp::socket socket, const MediaOptions& options);
  virtual ~MediaConnection();
  MediaConnection(const MediaConnection&) = delete;
  MediaConnection& operator=(const MediaConnection&) = delete;

  boost::asio::io_context& context() { return ctx_; }
  const std::string& remote() const { return remote_; }
  bool closed() const { return closed_; }
  // Closes the socket now (queued bytes are lost). On the connection's thread.
  void close();
  // Closes once everything queued has been written.
  void close_after_drain();
  uint64_t skips() const { return skips_; }

 protected:
  // Starts the read loop; on_bytes() gets what arrives.
  void start_reading();
  virtual void on_bytes(const char* data, size_t size) = 0;
  virtual void on_close() = 0;

  void send(std::shared_ptr<const std::string> bytes);
  void send(std::string bytes) { send(std::make_shared<const std::string>(std::move(bytes))); }
  // Media for a viewer, queued until flush_media(): may be dropped (see the DESIGN block).
  // `stream_has_video` decides what a viewer waiting for a keyframe may resume at.
  void send_media(const SharedPacket& packet, const std::shared_ptr<const std::string>& wire, bool stream_has_video);
  void flush_media() { pump(); }
  // A viewer's kernel send buffer: MediaOptions::viewer_sndbuf_bytes.
  void limit_send_buffer();

  boost::asio::io_context& ctx_;
  boost::asio::ip::tcp::socket socket_;
  const MediaOptions& options_;
  std::string remote_;
  int64_t last_read_ms_ = 0;

 private:
  void pump();
  void on_written(const boost::system::error_code& ec);

  struct Item {
    std::shared_ptr<const std::string> bytes;
    bool media;             // droppable: audio/video frames (not control bytes, metadata or sequence headers)
    int64_t queued_ms = 0;  // when it was queued (steady clock), for the lag bound
  };
  std::deque<Item> queue_;
  size_t queued_media_bytes_ = 0;
  size_t queued_control_bytes_ = 0;  // replies etc.: a peer that never reads is cut off past kMaxControlBytes
  std::unique_ptr<boost::asio::steady_timer> drain_timer_;  // bounds close_after_drain()
  std::vector<std::shared_ptr<const std::string>> inflight_;
  std::vector<boost::asio::const_buffer> buffers_;
  std::vector<char> read_buf_;
  bool writing_ = false;
  bool closed_ = false;
  bool drain_then_close_ = false;
  bool waiting_key_ = false;
  uint64_t skips_ = 0;
  std::deque<int64_t> recent_skips_;
  int64_t write_started_ms_ = 0;
};

// An HTTP-FLV viewer: the socket of a GET /live/<channel>.flv whose head the HTTP server wrote.
class FlvViewer final : public MediaConnection, public Viewer {
 public:
  FlvViewer(boost::asio::io_context& ctx, boost::asio::ip::tcp::socket socket, const MediaOptions& options,
            std::shared_ptr<Stream> stream, bool chunked);
  // Subscribes to the stream (or ends the response at once if it is over).
  void start();
  void deliver(const PacketPtr& packet) override;
  void flush() override { flush_media(); }
  void end_of_stream() override;

 private:
  void on_bytes(const char*, size_t) override {}
  void on_close() override;
  std::shared_ptr<Stream> stream_;
  const bool chunked_;
  bool header_sent_ = false;
  bool ended_ = false;
};

}  // namespace chiron::media
