#pragma once
// Internals of the media server (see media.h for the picture): the shared packet with its
// lazily built wire forms, the viewer interface, and Stream — one publish of one channel, with
// its caches, its viewers grouped by net thread, and the numbers behind StreamState.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "media/flv.h"
#include "media/media.h"
#include "media/packet.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace chiron::media {

inline constexpr uint32_t kRtmpOutChunkSize = 4096;

// Steady-clock milliseconds (timeouts, lags and rates of the media server).
int64_t media_steady_ms();

// One packet of a stream, shared by every viewer. The wire forms are built at most once, by the
// first viewer (on any thread) that needs them.
class SharedPacket {
 public:
  SharedPacket(MediaPacket packet, uint64_t seq) : packet_(std::move(packet)), seq_(seq) {}
  const MediaPacket& packet() const { return packet_; }
  uint64_t seq() const { return seq_; }
  // The FLV tag framed as one HTTP/1.1 chunk ("<hex>\r\n" tag "\r\n").
  const std::shared_ptr<const std::string>& flv_chunk() const;
  // The bare FLV tag (HTTP/1.0 viewers: the body ends at close).
  const std::shared_ptr<const std::string>& flv_tag() const;
  // RTMP chunks for players (message stream 1, kRtmpOutChunkSize).
  const std::shared_ptr<const std::string>& rtmp() const;

 private:
  MediaPacket packet_;
  uint64_t seq_;
  mutable std::once_flag chunk_once_, tag_once_, rtmp_once_;
  mutable std::shared_ptr<const std::string> chunk_, tag_, rtmp_;
};
using PacketPtr = std::shared_ptr<const SharedPacket>;

// Appends `body` framed as one HTTP/1.1 chunk.
void append_http_chunk(std::string& out, std::string_view body);

// A consumer of a stream living on one net thread. All calls arrive on that thread.
class Viewer {
 public:
  virtual ~Viewer() = default;
  // The cached start (metadata, sequence headers, GOP), then live packets, in order; a batch of
  // deliveries is followed by flush() (write what was queued).
  virtual void deliver(const PacketPtr& packet) = 0;
  virtual void flush() {}
  // The stream is over (publisher gone); the viewer finishes its writes and closes.
  virtual void end_of_stream() = 0;
  // Whether it is a person watching (StreamState::viewers, an edge's idle check); a recorder is not.
  virtual bool counts_as_viewer() const { return true; }
  // First sequence number this viewer takes live (older ones came in the snapshot).
  uint64_t next_seq = 0;
};

struct ViewerGroup;  // the viewers of one stream on one net thread

class Stream : public std::enable_shared_from_this<Stream> {
 public:
  Stream(PublishGrant grant, const MediaOptions& options, int64_t now_ms, bool relayed);
  ~Stream();

  const PublishGrant& grant() const { return grant_; }
  bool relayed() const { return relayed_; }

  // Publisher thread: one packet, in order. Caches it and fans it out.
  void publish(MediaPacket&& packet);
  // Publisher gone: every viewer gets end_of_stream(). Later subscribes are refused.
  void end();
  bool ended() const { return ended_.load(std::memory_order_acquire); }

  // On `ctx`'s thread: adds the viewer; it receives the cached start at once. False if ended.
  bool subscribe(boost::asio::io_context& ctx, const std::shared_ptr<Viewer>& viewer);
  // On `ctx`'s thread: removes it (no more deliveries).
  void unsubscribe(boost::asio::io_context& ctx, const Viewer* viewer);

  // Whether the stream carries audio / video as far as is known (for the FLV header flags).
  bool has_audio() const { return has_audio_.load(std::memory_order_relaxed); }
  bool has_video() const { return has_video_.load(std::memory_order_relaxed); }
  // Edge: the origin's FLV header told which tracks there are.
  void set_tracks(bool audio, bool video);

  uint64_t viewers() const { return viewers_.load(std::memory_order_relaxed); }
  // Steady-clock ms of the last packet published (or of the start).
  int64_t last_packet_ms() const { return last_packet_ms_.load(std::memory_order_relaxed); }
  // Counted for StreamState::viewers (HLS clients seen recently).
  void set_hls_clients(uint64_t n) { hls_clients_.store(n, std::memory_order_relaxed); }
  StreamState state() const;
  uint64_t packets_in() const;
  uint64_t bytes_in() const;

 private:
  struct Rate;
  void cache_locked(const PacketPtr& p);

  const PublishGrant grant_;
  const MediaOptions& options_;
  const bool relayed_;
  const int64_t since_ms_;
  std::atomic<bool> ended_{false};
  std::atomic<bool> has_audio_{false};
  std::atomic<bool> has_video_{false};
  std::atomic<uint64_t> viewers_{0};
  std::atomic<uint64_t> hls_clients_{0};
  std::atomic<int64_t> last_packet_ms_{0};

  mutable std::mutex mu_;
  uint64_t next_seq_ = 1;                 // guarded by mu_
  PacketPtr metadata_, avc_header_, aac_header_;  // guarded by mu_
  std::deque<PacketPtr> gop_;             // since the last keyframe; guarded by mu_
  size_t gop_bytes_ = 0;                  // guarded by mu_
  std::vector<std::shared_ptr<ViewerGroup>> groups_;  // one per net thread; guarded by mu_
  std::unique_ptr<Rate> rate_;            // guarded by mu_
  StreamMetadata meta_;                   // guarded by mu_
  AvcConfig avc_;                         // guarded by mu_
  AacConfig aac_;                         // guarded by mu_
};

}  // namespace chiron::media
