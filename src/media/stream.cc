#include "media/stream.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "media/rtmp_session.h"

namespace chiron::media {

namespace asio = boost::asio;

namespace {

constexpr int64_t kRateWindowMs = 5'000;   // bitrate and fps
constexpr int64_t kIngestWindowMs = 10'000;  // media time vs wall time
constexpr size_t kKeyframesKept = 8;

}  // namespace

int64_t media_steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void append_http_chunk(std::string& out, std::string_view body) {
  char head[20];
  const int n = std::snprintf(head, sizeof head, "%zx\r\n", body.size());
  out.append(head, static_cast<size_t>(n));
  out.append(body);
  out.append("\r\n");
}

const std::shared_ptr<const std::string>& SharedPacket::flv_chunk() const {
  std::call_once(chunk_once_, [this] {
    // The tag framed as one chunk, built in place: its size is known before it is written.
    const size_t tag_size = packet_.payload.size() + kFlvTagOverhead;
    char head[20];
    const int n = std::snprintf(head, sizeof head, "%zx\r\n", tag_size);
    auto out = std::make_shared<std::string>();
    out->reserve(static_cast<size_t>(n) + tag_size + 2);
    out->append(head, static_cast<size_t>(n));
    append_flv_tag(*out, packet_);
    out->append("\r\n");
    chunk_ = std::move(out);
  });
  return chunk_;
}

const std::shared_ptr<const std::string>& SharedPacket::flv_tag() const {
  std::call_once(tag_once_, [this] {
    auto out = std::make_shared<std::string>();
    out->reserve(packet_.payload.size() + kFlvTagOverhead);
    append_flv_tag(*out, packet_);
    tag_ = std::move(out);
  });
  return tag_;
}

const std::shared_ptr<const std::string>& SharedPacket::rtmp() const {
  std::call_once(rtmp_once_, [this] {
    auto out = std::make_shared<std::string>();
    out->reserve(packet_.payload.size() + packet_.payload.size() / kRtmpOutChunkSize * 5 + 16);
    append_rtmp_media(*out, packet_, kRtmpOutChunkSize);
    rtmp_ = std::move(out);
  });
  return rtmp_;
}

// The viewers of one stream on one net thread. `viewers` and `timer` are touched only on that
// thread; `pending` (packets published and not yet handed to the viewers) under `mu`.
//
// Merged writes: the publisher appends to `pending` and schedules one flush per batch — at once
// with merge_ms 0, else merge_ms later — so each viewer queues a batch of packets and writes it
// with one gather write instead of one write per packet (SRS's "merged write"): a few times
// fewer syscalls per viewer for merge_ms of added delay.
struct ViewerGroup : std::enable_shared_from_this<ViewerGroup> {
  ViewerGroup(asio::io_context& c, uint32_t merge) : ctx(c), timer(c), merge_ms(merge) {}
  asio::io_context& ctx;
  asio::steady_timer timer;
  const uint32_t merge_ms;
  std::vector<std::shared_ptr<Viewer>> viewers;
  std::mutex mu;
  std::vector<PacketPtr> pending;  // guarded by mu
  bool scheduled = false;          // guarded by mu

  // Publisher thread.
  void add(PacketPtr p) {
    {
      std::lock_guard lock(mu);
      pending.push_back(std::move(p));
      if (scheduled) return;
      scheduled = true;
    }
    auto self = shared_from_this();
    if (merge_ms == 0) {
      asio::post(ctx, [self] { self->flush(); });
    } else {
      asio::post(ctx, [self] {
        self->timer.expires_after(std::chrono::milliseconds(self->merge_ms));
        self->timer.async_wait([self](const boost::system::error_code&) { self->flush(); });
      });
    }
  }

  // ctx's thread: hands the pending packets to every viewer, then lets each write them at once.
  void flush() {
    std::vector<PacketPtr> batch;
    {
      std::lock_guard lock(mu);
      batch.swap(pending);
      scheduled = false;
    }
    if (batch.empty() || viewers.empty()) return;
    // A copy: deliver() may unsubscribe (and so erase) a viewer.
    const std::vector<std::shared_ptr<Viewer>> now = viewers;
    for (const auto& v : now) {
      for (const auto& p : batch)
        if (p->seq() >= v->next_seq) v->deliver(p);
      v->flush();
    }
  }
};

// Samples of the last seconds of ingest, for StreamState.
struct Stream::Rate {
  struct Sample {
    int64_t wall_ms;
    int64_t dts_ms;
    uint32_t bytes;
    bool video;
  };
  std::deque<Sample> samples;  // the last kIngestWindowMs of wall time
  std::deque<int64_t> keyframes;  // dts of the last keyframes
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

Stream::Stream(PublishGrant grant, const MediaOptions& options, int64_t now_ms, bool relayed)
    : grant_(std::move(grant)), options_(options), relayed_(relayed), since_ms_(now_ms),
      last_packet_ms_(media_steady_ms()), rate_(std::make_unique<Rate>()) {}

Stream::~Stream() = default;

void Stream::set_tracks(bool audio, bool video) {
  has_audio_.store(audio, std::memory_order_relaxed);
  has_video_.store(video, std::memory_order_relaxed);
}

void Stream::cache_locked(const PacketPtr& sp) {
  const MediaPacket& p = sp->packet();
  if (p.script()) {
    metadata_ = sp;
    if (auto m = parse_metadata(p.payload)) meta_ = std::move(*m);
    return;
  }
  if (p.sequence_header) {
    if (p.video()) {
      avc_header_ = sp;
      if (auto c = parse_avc_sequence_header(p.payload)) avc_ = *c;
    } else {
      aac_header_ = sp;
      if (auto c = parse_aac_sequence_header(p.payload)) aac_ = *c;
    }
    return;
  }
  if (!options_.gop_cache) return;
  // Video streams: the GOP starts at the last keyframe. Audio-only: the last few seconds.
  if (p.video() && p.keyframe) {
    gop_.clear();
    gop_bytes_ = 0;
  } else if (gop_.empty() && has_video()) {
    return;  // no keyframe yet: nothing a player could start from
  }
  gop_.push_back(sp);
  gop_bytes_ += p.payload.size();
  // Bounded: a stream with very long (or no) keyframe intervals must not grow without end. Drop
  // the whole GOP (a partial one is useless to a decoder) and wait for the next keyframe.
  if (gop_bytes_ > options_.gop_cache_max_bytes || gop_.size() > options_.gop_cache_max_packets) {
    if (has_video()) {
      gop_.clear();
      gop_bytes_ = 0;
    } else {
      while (!gop_.empty() && (gop_bytes_ > options_.gop_cache_max_bytes / 2 ||
                               gop_.size() > options_.gop_cache_max_packets / 2)) {
        gop_bytes_ -= gop_.front()->packet().payload.size();
        gop_.pop_front();
      }
    }
  }
}

void Stream::publish(MediaPacket&& packet) {
  if (ended()) return;
  if (packet.video()) has_video_.store(true, std::memory_order_relaxed);
  if (packet.audio()) has_audio_.store(true, std::memory_order_relaxed);
  const int64_t wall = media_steady_ms();
  last_packet_ms_.store(wall, std::memory_order_relaxed);
  std::vector<std::shared_ptr<ViewerGroup>> groups;
  PacketPtr sp;
  {
    std::lock_guard lock(mu_);
    sp = std::make_shared<const SharedPacket>(std::move(packet), next_seq_++);
    const MediaPacket& p = sp->packet();
    if (!p.script()) {
      Rate& r = *rate_;
      ++r.packets;
      r.bytes += p.payload.size();
      r.samples.push_back({wall, p.dts_ms, static_cast<uint32_t>(p.payload.size()), p.video()});
      while (!r.samples.empty() && r.samples.front().wall_ms < wall - kIngestWindowMs) r.samples.pop_front();
      if (p.video() && p.keyframe) {
        r.keyframes.push_back(p.dts_ms);
        if (r.keyframes.size() > kKeyframesKept) r.keyframes.pop_front();
      }
    }
    cache_locked(sp);
    groups = groups_;
  }
  for (auto& g : groups) g->add(sp);
}

void Stream::end() {
  if (ended_.exchange(true, std::memory_order_acq_rel)) return;
  std::vector<std::shared_ptr<ViewerGroup>> groups;
  {
    std::lock_guard lock(mu_);
    groups = groups_;
    gop_.clear();
    gop_bytes_ = 0;
  }
  for (auto& g : groups) {
    asio::post(g->ctx, [g, self = shared_from_this()] {
      g->flush();  // what was published before the end still goes out
      g->timer.cancel();
      auto viewers = std::move(g->viewers);
      g->viewers.clear();
      for (auto& v : viewers)
        if (v->counts_as_viewer()) self->viewers_.fetch_sub(1, std::memory_order_relaxed);
      for (auto& v : viewers) v->end_of_stream();
    });
  }
}

bool Stream::subscribe(asio::io_context& ctx, const std::shared_ptr<Viewer>& viewer) {
  std::vector<PacketPtr> start;
  std::shared_ptr<ViewerGroup> group;
  {
    std::lock_guard lock(mu_);
    if (ended()) return false;
    for (const PacketPtr* p : {&metadata_, &aac_header_, &avc_header_})
      if (*p) start.push_back(*p);
    start.insert(start.end(), gop_.begin(), gop_.end());
    viewer->next_seq = next_seq_;
    for (auto& g : groups_)
      if (&g->ctx == &ctx) group = g;
    if (!group) group = groups_.emplace_back(std::make_shared<ViewerGroup>(ctx, options_.merge_write_ms));
  }
  // Packets published from now on are posted to this thread and run after this call returns,
  // so the viewer is in the group before any of them; older ones are filtered by next_seq.
  group->viewers.push_back(viewer);
  if (viewer->counts_as_viewer()) viewers_.fetch_add(1, std::memory_order_relaxed);
  for (const PacketPtr& p : start) viewer->deliver(p);
  viewer->flush();
  return true;
}

void Stream::unsubscribe(asio::io_context& ctx, const Viewer* viewer) {
  std::shared_ptr<ViewerGroup> group;
  {
    std::lock_guard lock(mu_);
    for (auto& g : groups_)
      if (&g->ctx == &ctx) group = g;
  }
  if (!group) return;
  auto& vs = group->viewers;
  auto it = std::find_if(vs.begin(), vs.end(), [viewer](const auto& v) { return v.get() == viewer; });
  if (it == vs.end()) return;
  if ((*it)->counts_as_viewer()) viewers_.fetch_sub(1, std::memory_order_relaxed);
  vs.erase(it);
}

uint64_t Stream::packets_in() const {
  std::lock_guard lock(mu_);
  return rate_->packets;
}

uint64_t Stream::bytes_in() const {
  std::lock_guard lock(mu_);
  return rate_->bytes;
}

StreamState Stream::state() const {
  StreamState s;
  s.live = !ended();
  s.since_ms = since_ms_;
  s.relayed = relayed_;
  s.viewers = viewers() + hls_clients_.load(std::memory_order_relaxed);
  const int64_t wall = media_steady_ms();
  std::lock_guard lock(mu_);
  s.width = avc_.width ? avc_.width : meta_.width;
  s.height = avc_.height ? avc_.height : meta_.height;
  if (avc_header_) s.video_codec = avc_.codec_string();
  if (aac_header_) s.audio_codec = aac_.codec_string();
  const Rate& r = *rate_;
  // Bitrate and fps over the last kRateWindowMs of wall time.
  uint64_t bytes = 0;
  uint64_t frames = 0;
  int64_t first_video_dts = -1, last_video_dts = -1;
  for (const auto& smp : r.samples) {
    if (smp.wall_ms < wall - kRateWindowMs) continue;
    bytes += smp.bytes;
    if (smp.video) {
      ++frames;
      if (first_video_dts < 0) first_video_dts = smp.dts_ms;
      last_video_dts = smp.dts_ms;
    }
  }
  const double window_s =
      r.samples.empty() ? 0
                        : std::max(1.0, static_cast<double>(std::min<int64_t>(
                                            kRateWindowMs, wall - r.samples.front().wall_ms)) / 1000.0);
  if (window_s > 0) s.bitrate_kbps = static_cast<double>(bytes) * 8 / 1000 / window_s;
  if (frames > 1 && last_video_dts > first_video_dts)
    s.fps = static_cast<double>(frames - 1) * 1000.0 / static_cast<double>(last_video_dts - first_video_dts);
  if (r.keyframes.size() >= 2)
    s.keyframe_interval_s =
        static_cast<double>(r.keyframes.back() - r.keyframes.front()) / 1000.0 / static_cast<double>(r.keyframes.size() - 1);

  // Hints for the streamer (docs/streaming-guide.md explains each).
  auto hint = [&s](const char* level, const char* code, std::string message) {
    s.health.push_back({level, code, std::move(message)});
  };
  if (!s.live) return s;
  char buf[160];
  if (s.keyframe_interval_s > 4.0) {
    std::snprintf(buf, sizeof buf,
                  "keyframes every %.1f s: new viewers wait that long for a picture; set the keyframe interval to 2 s",
                  s.keyframe_interval_s);
    hint("warn", "keyframe_interval", buf);
  }
  if (s.bitrate_kbps > 6000) {
    std::snprintf(buf, sizeof buf, "%.0f kbit/s is more than many viewers can download; 2500-4500 is plenty for code",
                  s.bitrate_kbps);
    hint("warn", "bitrate_high", buf);
  }
  if (frames > 1 && s.fps > 0 && s.fps < 20) {
    std::snprintf(buf, sizeof buf, "%.0f frames per second: the encoder may be overloaded (try x264 veryfast)", s.fps);
    hint("warn", "fps_low", buf);
  }
  if (!r.samples.empty() && wall - r.samples.front().wall_ms >= 3000) {
    if (!has_audio()) hint("info", "no_audio", "the stream has no audio track");
    if (!has_video()) hint("warn", "no_video", "the stream has no video track");
  }
  // Media time vs wall time over the ingest window: a publisher that can't keep up sends less
  // than a second of media per second.
  if (r.samples.size() > 2) {
    const auto& a = r.samples.front();
    const auto& b = r.samples.back();
    const int64_t wall_span = b.wall_ms - a.wall_ms;
    const int64_t media_span = b.dts_ms - a.dts_ms;
    if (wall_span >= kIngestWindowMs * 8 / 10 && media_span < wall_span * 9 / 10) {
      std::snprintf(buf, sizeof buf,
                    "only %.0f%% of real time arrives: the upload or the encoder can't keep up (lower the bitrate or resolution)",
                    100.0 * static_cast<double>(media_span) / static_cast<double>(wall_span));
      hint("warn", "ingest_slow", buf);
    }
  }
  if (s.health.empty()) hint("ok", "ok", "the stream looks healthy");
  return s;
}

}  // namespace chiron::media
