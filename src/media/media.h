#pragma once
// MediaServer: live video for `chiron serve` — RTMP ingest from OBS/ffmpeg, delivery to
// browsers over HTTP-FLV (mpegts.js) and HLS (hls.js, Safari), RTMP play (ffplay, ffprobe), and
// the edge relay that pulls a channel from an origin only while it has viewers.
//
//   publisher ──RTMP──► RtmpConnection ──► Stream ──► HTTP-FLV viewers (chunked FLV tags)
//   (sk_ key)           (sans-I/O session)  │ caches: metadata, AVC/AAC sequence headers,
//                                           │         the GOP since the last keyframe
//                                           ├──► RTMP players (chunks, built once per packet)
//                                           └──► HLS segmenter (MPEG-TS in memory, playlist)
//
// Keys: a publisher names the channel's secret stream key (rtmp://HOST/live/<key>); the hooks
// map it to the public channel name viewers use (/live/<channel>.flv), so viewers never learn
// it. One publisher per channel: a second is refused (NetStream.Publish.BadName) or replaces the
// first (MediaOptions::replace_publisher).
//
// Fan-out: a Stream's packets arrive on the publisher's net thread. Each packet is wrapped once
// (shared, immutable; each wire form — chunked FLV tag, plain FLV tag, RTMP chunks — is built at
// most once, when a viewer first needs it) and posted once per net thread that has viewers of
// that stream; there every viewer queues it. A viewer joining mid-stream gets the metadata,
// the sequence headers and the cached GOP first, so its player starts at a keyframe at once.
//
// Backpressure: each viewer's queue is bounded in bytes. A viewer that falls behind loses its
// queued frames and resumes at the next keyframe (its player skips ahead instead of lagging);
// one whose writes make no progress for viewer_stall_ms is disconnected. A slow viewer never
// delays the others: all writes are asynchronous and nobody waits for anybody.
//
// Threading: start()/stop()/register_routes() from the owner's thread; state() from any thread.
// Hooks are called on net threads and must not block.
// docs/architecture.md ("media") has the picture; docs/platform-api.md ("Video") the URLs.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "media/hls.h"
#include "net/router.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace chiron::media {

struct MediaOptions {
  std::string rtmp_address = "127.0.0.1";
  uint16_t rtmp_port = 1935;  // 0 picks a free port (see MediaServer::rtmp_port)
  bool rtmp_enabled = true;
  bool replace_publisher = false;       // a second publisher replaces the first (else refused)
  bool gop_cache = true;                // off: late joiners wait for the next keyframe
  size_t gop_cache_max_bytes = 32u << 20;
  size_t gop_cache_max_packets = 4096;
  size_t viewer_queue_bytes = 8u << 20;  // beyond: the viewer skips to the next keyframe
  uint32_t viewer_max_lag_ms = 3'000;    // queued media spanning more than this: skip too
  int viewer_sndbuf_bytes = 256 * 1024;  // kernel send buffer per viewer (0: the system's); small
                                         // enough that a slow reader's lag shows in our queue
  uint32_t merge_write_ms = 100;         // batch a viewer's packets this long into one write (0: none)
  uint32_t viewer_stall_ms = 10'000;     // a write making no progress that long → disconnect
  uint32_t handshake_timeout_ms = 5'000;
  uint32_t publisher_idle_ms = 30'000;   // a publisher sending nothing that long is dropped
  size_t max_connections = 10'000;       // RTMP connections
  bool hls_enabled = true;
  HlsOptions hls;
  // Edge: HOST:PORT of an origin's HTTP listener. Channels not published here are pulled from
  // it (GET /live/<channel>.flv) while they have viewers, and dropped edge_idle_ms after the last.
  std::string origin;
  uint32_t edge_idle_ms = 5'000;
  // Recordings of channels that ask for it (PublishGrant::record); empty: never recorded.
  std::string recordings_dir;
};

struct PublishGrant {
  int64_t channel_id = 0;
  std::string channel;  // public name
  bool relayed = false;  // an edge's pull from its origin, not a publish here (no session)
  bool record = false;   // write the stream to MediaOptions::recordings_dir while it lasts
  bool is_private = false;  // left out of the operators' stream list
  uint64_t publish_id = 0;  // set by the media server: this publish, for the hooks to tell publishes apart
};

// A viewer may watch a channel: which one (0 if unknown here but viewable, e.g. on an edge).
struct ViewGrant {
  int64_t channel_id = 0;
  bool is_private = false;  // its responses must not be kept by shared caches
};

// A finished recording (see recorder.h).
struct Recording {
  std::string path;
  uint64_t bytes = 0;
  int64_t duration_ms = 0;
};

// A stream's health, as the platform shows it (docs/platform-api.md "Video").
struct HealthHint {
  std::string level;  // "ok" | "info" | "warn"
  std::string code;
  std::string message;
};

struct StreamState {
  bool live = false;
  int64_t since_ms = 0;     // wall clock (ms since epoch) the stream went live; 0 when offline
  double bitrate_kbps = 0;  // audio + video payload over the last few seconds
  double fps = 0;
  uint32_t width = 0;
  uint32_t height = 0;
  uint64_t viewers = 0;     // HTTP-FLV + RTMP players + recent HLS clients
  std::string video_codec;  // "avc1.64001f"; empty when none
  std::string audio_codec;  // "mp4a.40.2"
  double keyframe_interval_s = 0;  // 0 = unknown
  bool relayed = false;     // pulled from an origin (edge)
  std::vector<HealthHint> health;
};

// The platform's side of the media server. Called on net threads: never block; answer through
// `done`, from any thread.
class MediaHooks {
 public:
  virtual ~MediaHooks() = default;
  // A publisher named a stream key: the channel it publishes, or an error (unknown key →
  // kNotFound/kPermissionDenied; the publisher gets NetStream.Publish.BadName).
  virtual void authorize_publish(std::string stream_key, std::string remote_address,
                                 std::function<void(Result<PublishGrant>)> done) = 0;
  // A viewer asks for a channel: allowed (ViewGrant) or an error (private, unknown) → 404. `request` is null for RTMP players, who
  // carry no credentials (private channels are refused to them).
  virtual void authorize_view(std::string channel, std::shared_ptr<const net::Request> request,
                              std::function<void(Result<ViewGrant>)> done) = 0;
  // The stream of a granted publish started / ended (publisher gone or replaced).
  virtual void on_publish_start(const PublishGrant& grant) = 0;
  virtual void on_publish_end(const PublishGrant& grant) = 0;
  // State changed (live/offline) or, while live, every couple of seconds.
  virtual void on_state(const PublishGrant& grant, const StreamState& state) = 0;
  // A recording of a granted publish was written and closed (on a recorder thread: may block).
  virtual void on_recording(const PublishGrant& grant, const Recording& recording) { (void)grant, (void)recording; }
};

class MediaServer {
 public:
  // Binds the RTMP listener (synchronously: rtmp_port() is valid on return) and starts
  // accepting on the contexts, which the caller runs.
  static Result<std::unique_ptr<MediaServer>> start(std::vector<boost::asio::io_context*> contexts,
                                                    MediaOptions options, std::shared_ptr<MediaHooks> hooks);
  ~MediaServer();
  MediaServer(const MediaServer&) = delete;
  MediaServer& operator=(const MediaServer&) = delete;

  // GET /live/<channel>.flv, /live/<channel>/index.m3u8, /live/<channel>/<seq>.ts and
  // GET /api/v1/media/streams (operators: every stream with its state).
  void register_routes(net::Router& router);
  uint16_t rtmp_port() const;
  // The channel's state (live or not; relayed streams too).
  StreamState state(std::string_view channel) const;
  // Closes the listener, publishers and viewers. Idempotent; returns at once.
  void stop();

  struct Impl;

 private:
  explicit MediaServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// The state as the JSON body of GET /api/v1/channels/<name>/stream and of the `stream` event
// (without "type"): docs/platform-api.md "Video".
std::string stream_state_json(std::string_view channel, const StreamState& state);

}  // namespace chiron::media
