#pragma once
// MediaServer::Impl: the channel registry shared by the RTMP listener, the HTTP routes, the edge
// pulls and the periodic state ticker. See media.h.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "media/hls.h"
#include "media/media.h"
#include "media/media_connection.h"
#include "media/recorder.h"
#include "media/stream.h"

namespace chiron::media {

// Per channel, across publishes: the HLS segmenter (its playlist continues over a republish,
// with a discontinuity) and which stream currently feeds it.
struct ChannelMedia {
  explicit ChannelMedia(const HlsOptions& o) : hls(o) {}
  // `stream` feeds the segmenter from now on (a publish, or an edge's pull); a playlist that
  // already had segments continues after a discontinuity.
  void start_feeding(const Stream* stream);
  std::mutex mu;
  HlsSegmenter hls;                  // guarded by mu
  const Stream* feeding = nullptr;   // guarded by mu
  uint64_t hls_errors = 0;           // guarded by mu
  // The publisher left at (steady ms); the playlist ends (EXT-X-ENDLIST) only after a grace period,
  // because a player that saw ENDLIST stops for good while a publisher's reconnect (OBS retries
  // after a network blip) should only add a discontinuity (RFC 8216 §6.2.1).
  int64_t offline_since_ms = 0;      // guarded by mu; 0 = live or ended

};

class EdgePull;

struct ChannelEntry {
  std::shared_ptr<Stream> stream;              // live (or being pulled); null when offline
  std::weak_ptr<MediaConnection> publisher;    // RTMP publisher of `stream`
  std::shared_ptr<ChannelMedia> media;
  std::shared_ptr<EdgePull> pull;              // edge: the pull feeding `stream`
  std::unordered_map<std::string, int64_t> hls_clients;  // client address → last request (steady ms)
  int64_t idle_since_ms = 0;                   // edge: when the last viewer left
};

struct MediaServer::Impl : std::enable_shared_from_this<MediaServer::Impl> {
  Impl(std::vector<boost::asio::io_context*> c, MediaOptions o, std::shared_ptr<MediaHooks> h)
      : contexts(std::move(c)), options(std::move(o)), hooks(std::move(h)) {}

  // Publishing (on the publisher's thread). Refused (kAlreadyExists) when the channel has a live
  // publisher that sent something in the last 5 s and replace_publisher is off; otherwise a new
  // Stream (the old one, if any, ends and its publisher is disconnected).
  Result<std::pair<std::shared_ptr<Stream>, std::shared_ptr<ChannelMedia>>> begin_publish(
      const PublishGrant& grant, const std::shared_ptr<MediaConnection>& publisher);
  void ingest(const std::shared_ptr<Stream>& stream, ChannelMedia& media, MediaPacket&& packet);
  void end_publish(const std::shared_ptr<Stream>& stream);

  // The live stream of a channel; on an edge, starts pulling it from the origin when missing.
  std::shared_ptr<Stream> stream_for_viewer(const std::string& channel, int64_t channel_id);
  std::shared_ptr<ChannelMedia> channel_media(const std::string& channel);
  void note_hls_client(const std::string& channel, const std::string& address);

  void track(const std::shared_ptr<MediaConnection>& c);
  void untrack(const MediaConnection* c);
  // RTMP connections that have not published or played yet, per client address: a client may
  // hold at most kMaxPendingPerAddress of them (half-open handshakes cannot crowd others out).
  bool add_pending(const std::string& address);
  void remove_pending(const std::string& address);
  boost::asio::io_context& next_context();

  void accept();
  void tick();
  void publish_state(const std::shared_ptr<Stream>& stream);

  std::vector<boost::asio::io_context*> contexts;
  const MediaOptions options;
  std::shared_ptr<MediaHooks> hooks;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor;  // on contexts[0]
  std::unique_ptr<boost::asio::steady_timer> ticker;         // on contexts[0]
  uint16_t port = 0;
  std::atomic<size_t> rr{0};
  std::atomic<size_t> rtmp_open{0};
  std::atomic<uint64_t> publishes{0};  // PublishGrant::publish_id  // RTMP connections (the max_connections limit; viewers of HTTP-FLV don't count)
  std::atomic<bool> stopping{false};

  mutable std::mutex mu;
  std::unordered_map<std::string, ChannelEntry> channels;                          // guarded by mu
  std::unordered_map<const MediaConnection*, std::weak_ptr<MediaConnection>> conns;  // guarded by mu
  std::vector<std::shared_ptr<RecordingHandle>> recordings;  // in progress; guarded by mu
  std::unordered_map<std::string, int> pending;  // client host → RTMP connections not yet publishing/playing; guarded by mu
};

// Starts the RTMP session on an accepted socket (rtmp_server.cc).
void start_rtmp_connection(const std::shared_ptr<MediaServer::Impl>& server, boost::asio::io_context& ctx,
                           boost::asio::ip::tcp::socket socket);

// Edge: pulls GET /live/<channel>.flv from the origin into `stream` (edge.cc).
class EdgePull {
 public:
  virtual ~EdgePull() = default;
  virtual void stop() = 0;  // any thread
};
std::shared_ptr<EdgePull> start_edge_pull(const std::shared_ptr<MediaServer::Impl>& server,
                                          boost::asio::io_context& ctx, std::string channel,
                                          std::shared_ptr<Stream> stream, std::shared_ptr<ChannelMedia> media);

}  // namespace chiron::media
