// DESIGN (HLS segmenter; contract in hls.h)
//
// One TsMuxer (ts_muxer.h: libavformat's "mpegts" muxer writing into a std::string) per
// segment, rather than one long-lived muxer whose output is cut at keyframes. Why:
// - each segment starts with PAT/PMT and, for video, an IDR that the h264_mp4toannexb filter
//   prefixes with SPS/PPS, because a fresh muxer does that for its first packets; cutting one
//   muxer's output would need PAT/PMT re-sent at exactly the cut (resend_headers only does so
//   on keyframes and after its own packet counts) and the muxer's buffered audio PES flushed
//   at the cut, which its API does not offer;
// - a timestamp jump, a changed sequence header or a libavformat error only has to end the
//   segment: the next one gets a new muxer with the new configuration and fresh per-stream
//   timestamp state, instead of a muxer wedged on "non monotonically increasing dts";
// - the cost is one avformat_write_header/av_write_trailer per segment (every ~2 s), noise next
//   to the per-packet work, plus one pass over each finished segment renumbering the TS
//   continuity counters so they run on across segments (players that concatenate segments
//   otherwise drop the PES at each boundary as corrupt).
// Timestamps are not rebased: segments carry the stream's own dts/pts (ms → 90 kHz), so
// consecutive segments form one timeline and EXT-X-DISCONTINUITY marks where it breaks.
//
// Cutting: video streams at the first keyframe >= target_segment_s after the segment start;
// audio-only streams at the first frame past it; any stream at max_segment_bytes (input bytes).
// A segment's EXTINF is the next segment's first dts minus its own when they are contiguous,
// otherwise (finish, discontinuity, error) its last frame's dts plus that frame's duration.
//
// Errors: bad input is checked before libavformat sees it (ts_check_*). A bad or badly timed
// video frame makes the segmenter skip video until the next keyframe; a timestamp jump
// (backwards, or forwards by more than kMaxGapMs) seen on a keyframe ends the segment and starts
// a new one after EXT-X-DISCONTINUITY. One error is returned per episode (until the next
// keyframe or segment) so a broken publisher does not produce one log line per packet.
//
// Threading: the publisher's thread owns everything in Impl above `mu_`; the published
// segments, playlist fields and stats below it are guarded by mu_, held only to copy or
// append (never while muxing).

#include "media/hls.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <deque>
#include <limits>
#include <mutex>

#include "media/ts_muxer.h"

namespace chiron::media {
namespace {

constexpr int64_t kNone = std::numeric_limits<int64_t>::min();
// Consecutive frames of one track further apart than this are a broken timeline, not a pause.
constexpr int64_t kMaxGapMs = 10'000;
constexpr int kVideo = 0;
constexpr int kAudio = 1;
constexpr uint8_t kFlvCodecAvc = 7;
constexpr uint8_t kFlvSoundAac = 10;
// ADTS frame_length is 13 bits and includes the 7-byte header (ISO/IEC 14496-3 §1.A.2.2).
constexpr size_t kMaxAdtsPayload = 8191 - 7;

struct Segment {
  uint64_t sequence = 0;
  double duration_s = 0;
  bool discontinuity = false;
  bool starts_with_keyframe = true;
  std::shared_ptr<const std::string> bytes;
};

// EXTINF values are written with millisecond precision; the target duration is the ceiling of
// the value as written (RFC 8216 §4.3.3.1), so a 2.0004 s segment does not make it 3.
int target_of(double duration_s) {
  return static_cast<int>(std::ceil(std::round(duration_s * 1000.0) / 1000.0));
}

}  // namespace

struct HlsSegmenter::Impl {
  explicit Impl(HlsOptions o) : opt(o) {
    opt.window = std::max<size_t>(opt.window, 1);
    target_ms = std::max<int64_t>(1, std::llround(opt.target_segment_s * 1000.0));
  }

  HlsOptions opt;
  int64_t target_ms = 2000;

  // ---- Publisher thread ----
  TsMuxer mux;
  std::string avc_config;  // AVCDecoderConfigurationRecord; empty = no video track
  int nalu_length_size = 4;
  std::string aac_config;  // AudioSpecificConfig; empty = no audio track
  bool waiting_for_keyframe = true;
  bool quiet = false;  // an error was returned in this episode
  bool video_unsupported_reported = false;
  bool audio_unsupported_reported = false;
  bool next_discontinuity = false;
  bool finished = false;
  uint64_t next_sequence = 0;
  size_t last_segment_bytes = 0;
  // The open segment.
  int64_t seg_start_ms = 0;
  // The leading track (video when there is video, else audio) times the segment; audio frames
  // around a cut belong to whichever segment they arrive in.
  int64_t seg_lead_first_ms = 0;
  int64_t seg_lead_last_ms = 0;
  size_t seg_lead_frames = 0;
  size_t seg_input_bytes = 0;
  size_t seg_frames = 0;
  bool seg_keyframe_start = true;
  bool seg_discontinuity = false;
  // Per track: last accepted dts, and the last frame interval (duration estimate).
  int64_t last_dts[2] = {kNone, kNone};
  int64_t frame_ms[2] = {40, 23};

  // ---- Published ----
  mutable std::mutex mu_;
  std::deque<Segment> segments_;              // Guarded by mu_: window + keep_after at most
  uint64_t discontinuity_sequence_ = 0;       // Guarded by mu_
  int target_duration_s_ = 0;                 // Guarded by mu_: never shrinks
  bool ended_ = false;                        // Guarded by mu_
  uint64_t completed_ = 0;                    // Guarded by mu_
  double last_duration_s_ = 0;                // Guarded by mu_
  std::atomic<uint64_t> errors_{0};

  bool has_video() const { return !avc_config.empty(); }

  // Counts an error; returns it unless one was already returned in this episode.
  Status fail(Status s) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    if (quiet) return Status();
    quiet = true;
    return std::move(s).context("hls");
  }

  void publish(std::string bytes, double duration_s, bool discontinuity, bool keyframe_start) {
    auto data = std::make_shared<const std::string>(std::move(bytes));
    last_segment_bytes = data->size();
    std::lock_guard lock(mu_);
    segments_.push_back(Segment{next_sequence++, duration_s, discontinuity, keyframe_start, std::move(data)});
    target_duration_s_ = std::max(target_duration_s_, std::max(1, target_of(duration_s)));
    // The segment that just slid out of the window carries its discontinuity into the count
    // (RFC 8216 §4.3.3.3).
    if (segments_.size() > opt.window && segments_[segments_.size() - opt.window - 1].discontinuity)
      ++discontinuity_sequence_;
    while (segments_.size() > opt.window + opt.keep_after) segments_.pop_front();
    ++completed_;
    last_duration_s_ = duration_s;
    ended_ = false;
  }

  // Ends the open segment at end_ms (the next segment's start), or at its last frame's end when
  // end_ms is kNone. A segment without frames is dropped.
  Status close_segment(int64_t end_ms = kNone) {
    if (!mux.is_open()) return Status();
    if (seg_frames == 0) {
      mux.abandon();
      return Status();
    }
    if (end_ms == kNone || end_ms <= seg_start_ms) end_ms = std::max(estimated_end(), seg_start_ms + 1);
    auto bytes = mux.close();
    if (!bytes.ok()) return bytes.status();
    publish(std::move(bytes).value(), static_cast<double>(end_ms - seg_start_ms) / 1000.0, seg_discontinuity,
            seg_keyframe_start);
    return Status();
  }

  Status open_segment(int64_t start_ms, bool keyframe) {
    const size_t reserve = last_segment_bytes + last_segment_bytes / 8;
    CHIRON_RETURN_IF_ERROR(mux.open(avc_config, aac_config, reserve));
    seg_start_ms = start_ms;
    seg_lead_frames = 0;
    seg_input_bytes = 0;
    seg_frames = 0;
    seg_keyframe_start = keyframe;
    seg_discontinuity = next_discontinuity;
    next_discontinuity = false;
    last_dts[kAudio] = has_video() ? kNone : last_dts[kAudio];
    quiet = false;
    return Status();
  }

  // A broken timeline: the segment ends at its last frame, the next one is a discontinuity.
  Status break_timeline() {
    Status st = close_segment();
    next_discontinuity = next_sequence > 0;
    last_dts[kVideo] = last_dts[kAudio] = kNone;
    return st;
  }

  // A new or changed codec configuration: encoding parameters change, so a discontinuity
  // (RFC 8216 §4.3.2.3) unless nothing was published or opened yet.
  Status reconfigure() {
    const bool had_output = mux.is_open() || next_sequence > 0;
    Status st = close_segment();
    if (had_output) next_discontinuity = true;
    waiting_for_keyframe = true;
    return st;
  }

  void note_frame(int track, int64_t dts, size_t bytes) {
    if (last_dts[track] != kNone && dts > last_dts[track]) frame_ms[track] = std::min<int64_t>(dts - last_dts[track], 1000);
    last_dts[track] = dts;
    if (track == kVideo || !has_video()) {
      if (seg_lead_frames++ == 0) seg_lead_first_ms = dts;
      seg_lead_last_ms = std::max(seg_lead_last_ms, dts);
    }
    seg_input_bytes += bytes;
    ++seg_frames;
  }

  // Where the segment's media ends without a next segment to say so: its last frame plus the
  // mean frame interval (frame-to-frame steps in whole ms alternate, 33/34 ms at 30 fps).
  int64_t estimated_end() const {
    if (seg_lead_frames == 0) return seg_start_ms;
    if (seg_lead_frames == 1) return seg_lead_last_ms + frame_ms[has_video() ? kVideo : kAudio];
    const double mean = static_cast<double>(seg_lead_last_ms - seg_lead_first_ms) / static_cast<double>(seg_lead_frames - 1);
    return seg_lead_last_ms + std::llround(mean);
  }

  bool jumped(int track, int64_t dts) const {
    const int64_t last = last_dts[track];
    return last != kNone && (dts < last || dts - last > kMaxGapMs);
  }

  Status push_video(const MediaPacket& p) {
    const std::string_view b = p.payload;
    if (b.empty()) return fail(Status::invalid_argument("empty video packet"));
    if ((static_cast<uint8_t>(b[0]) & 0x0f) != kFlvCodecAvc) {
      if (video_unsupported_reported) return Status();
      video_unsupported_reported = true;
      return Status::unimplemented("hls: video codec id " + std::to_string(static_cast<uint8_t>(b[0]) & 0x0f) +
                                   " is not carried (H.264 only); video skipped");
    }
    if (b.size() < 5) return fail(Status::invalid_argument("AVC packet of " + std::to_string(b.size()) + " bytes"));
    const uint8_t avc_type = static_cast<uint8_t>(b[1]);
    if (avc_type == 2) return Status();  // end of sequence
    if (avc_type == 0) return set_video_config(b.substr(5));
    if (avc_type != 1) return fail(Status::invalid_argument("AVC packet type " + std::to_string(avc_type)));
    if (!has_video()) return fail(Status::failed_precondition("H.264 frame before the AVC sequence header"));

    const bool key = (static_cast<uint8_t>(b[0]) >> 4) == 1;
    if (waiting_for_keyframe && !key) {
      return Status();
    }
    const std::string_view nalus = b.substr(5);
    if (Status st = ts_check_avcc_nalus(nalus, nalu_length_size); !st.ok()) {
      waiting_for_keyframe = true;
      return fail(std::move(st));
    }
    const int64_t dts = p.dts_ms;
    Status result;
    if (jumped(kVideo, dts)) {
      Status jump = Status::out_of_range("video timestamp jumped from " + std::to_string(last_dts[kVideo]) + " to " +
                                         std::to_string(dts) + " ms");
      if (!key) {
        waiting_for_keyframe = true;
        return fail(std::move(jump).context("skipping to the next keyframe"));
      }
      result = fail(std::move(jump).context("new segment after a discontinuity"));
      CHIRON_RETURN_IF_ERROR(break_timeline());
    }
    if (key) {
      if (mux.is_open() && dts - seg_start_ms >= target_ms) CHIRON_RETURN_IF_ERROR(close_segment(dts));
      if (!mux.is_open()) {
        if (Status st = open_segment(dts, true); !st.ok()) return fail(std::move(st));
      }
      if (waiting_for_keyframe) quiet = false;
      waiting_for_keyframe = false;
    } else if (!mux.is_open()) {
      return Status();
    } else if (seg_input_bytes + b.size() > opt.max_segment_bytes) {
      CHIRON_RETURN_IF_ERROR(close_segment(dts));
      if (Status st = open_segment(dts, false); !st.ok()) return fail(std::move(st));
    }
    if (Status st = mux.write_video(dts, dts + p.composition_time_ms(), key, nalus); !st.ok()) {
      // The muxer's state is unknown: keep what it wrote so far, restart at the next keyframe.
      if (!close_segment().ok()) mux.abandon();
      waiting_for_keyframe = true;
      next_discontinuity = next_sequence > 0;
      return fail(std::move(st));
    }
    note_frame(kVideo, dts, b.size());
    return result;
  }

  Status set_video_config(std::string_view record) {
    auto length_size = ts_check_avc_config(record);
    if (!length_size.ok()) {
      if (has_video()) {
        Status st = reconfigure();
        avc_config.clear();
        if (!st.ok()) return fail(std::move(st));
      }
      return fail(length_size.status().context("AVC sequence header"));
    }
    if (record == avc_config) return Status();
    Status st = reconfigure();
    avc_config.assign(record);
    nalu_length_size = *length_size;
    return st.ok() ? Status() : fail(std::move(st));
  }

  Status set_audio_config(std::string_view asc) {
    if (auto info = ts_check_aac_config(asc); !info.ok()) {
      if (!aac_config.empty()) {
        Status closed = reconfigure();
        aac_config.clear();
        if (!closed.ok()) return fail(std::move(closed));
      }
      return fail(info.status().context("AAC sequence header"));
    }
    if (asc == aac_config) return Status();
    Status st = reconfigure();
    aac_config.assign(asc);
    return st.ok() ? Status() : fail(std::move(st));
  }

  Status push_audio(const MediaPacket& p) {
    const std::string_view b = p.payload;
    if (b.empty()) return fail(Status::invalid_argument("empty audio packet"));
    if ((static_cast<uint8_t>(b[0]) >> 4) != kFlvSoundAac) {
      if (audio_unsupported_reported) return Status();
      audio_unsupported_reported = true;
      return Status::unimplemented("hls: sound format " + std::to_string(static_cast<uint8_t>(b[0]) >> 4) +
                                   " is not carried (AAC only); audio skipped");
    }
    if (b.size() < 2) return fail(Status::invalid_argument("AAC packet of 1 byte"));
    const uint8_t aac_type = static_cast<uint8_t>(b[1]);
    if (aac_type == 0) return set_audio_config(b.substr(2));
    if (aac_type != 1) return fail(Status::invalid_argument("AAC packet type " + std::to_string(aac_type)));
    if (aac_config.empty()) return fail(Status::failed_precondition("AAC frame before the AudioSpecificConfig"));
    const std::string_view frame = b.substr(2);
    if (frame.size() < 2 || frame.size() > kMaxAdtsPayload)
      return fail(Status::invalid_argument("AAC frame of " + std::to_string(frame.size()) + " bytes (ADTS carries 2.." +
                                           std::to_string(kMaxAdtsPayload) + ")"));
    const int64_t dts = p.dts_ms;
    Status result;
    if (has_video()) {
      // Video leads: audio joins the segment the last keyframe opened.
      if (!mux.is_open() || !mux.has_audio()) return Status();
      const bool off = (last_dts[kAudio] != kNone && dts < last_dts[kAudio]) ||
                       (last_dts[kVideo] != kNone && std::abs(dts - last_dts[kVideo]) > kMaxGapMs);
      if (off)
        return fail(Status::out_of_range("audio timestamp " + std::to_string(dts) + " ms is off the timeline (last audio " +
                                         std::to_string(last_dts[kAudio]) + ", video " + std::to_string(last_dts[kVideo]) +
                                         " ms)"));
    } else {
      if (jumped(kAudio, dts)) {
        result = fail(Status::out_of_range("audio timestamp jumped from " + std::to_string(last_dts[kAudio]) + " to " +
                                           std::to_string(dts) + " ms")
                          .context("new segment after a discontinuity"));
        CHIRON_RETURN_IF_ERROR(break_timeline());
      }
      // Cut before the frame that would carry the segment past the target, so audio-only EXTINFs
      // stay within it (and the ceiling of the target duration does not round 2.02 s up to 3).
      const bool full = dts > seg_start_ms && dts + frame_ms[kAudio] > seg_start_ms + target_ms;
      if (mux.is_open() && (full || seg_input_bytes + b.size() > opt.max_segment_bytes))
        CHIRON_RETURN_IF_ERROR(close_segment(dts));
      if (!mux.is_open()) {
        if (Status st = open_segment(dts, true); !st.ok()) return fail(std::move(st));
      }
    }
    if (Status st = mux.write_audio(dts, frame); !st.ok()) {
      if (!close_segment().ok()) mux.abandon();
      waiting_for_keyframe = true;
      next_discontinuity = next_sequence > 0;
      return fail(std::move(st));
    }
    note_frame(kAudio, dts, b.size());
    return result;
  }
};

HlsSegmenter::HlsSegmenter(HlsOptions options) : impl_(std::make_unique<Impl>(options)) {}
HlsSegmenter::~HlsSegmenter() = default;

Status HlsSegmenter::push(const MediaPacket& packet) {
  Impl& m = *impl_;
  if (m.finished) {  // more media after finish(): same configuration, new timeline
    m.finished = false;
    m.next_discontinuity = m.next_sequence > 0;
    m.last_dts[kVideo] = m.last_dts[kAudio] = kNone;
    m.waiting_for_keyframe = true;
  }
  switch (packet.type) {
    case PacketType::kVideo:
      return m.push_video(packet);
    case PacketType::kAudio:
      return m.push_audio(packet);
    case PacketType::kScript:
      return Status();
  }
  return Status();
}

void HlsSegmenter::finish() {
  Impl& m = *impl_;
  if (!m.close_segment().ok()) m.mux.abandon();
  m.finished = true;
  std::lock_guard lock(m.mu_);
  m.ended_ = !m.segments_.empty();
}

void HlsSegmenter::discontinuity() {
  Impl& m = *impl_;
  if (!m.close_segment().ok()) m.mux.abandon();
  m.avc_config.clear();
  m.aac_config.clear();
  m.waiting_for_keyframe = true;
  m.quiet = false;
  m.video_unsupported_reported = m.audio_unsupported_reported = false;
  m.last_dts[kVideo] = m.last_dts[kAudio] = kNone;
  m.next_discontinuity = m.next_sequence > 0;
  m.finished = false;
  std::lock_guard lock(m.mu_);
  m.ended_ = false;
}

std::optional<std::string> HlsSegmenter::playlist(std::string_view uri_prefix) const {
  const Impl& m = *impl_;
  std::lock_guard lock(m.mu_);
  if (m.segments_.empty()) return std::nullopt;
  const size_t first = m.segments_.size() > m.opt.window ? m.segments_.size() - m.opt.window : 0;
  std::string out;
  out.reserve(160 + (m.segments_.size() - first) * (40 + uri_prefix.size()));
  out += "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:";
  out += std::to_string(m.target_duration_s_);
  out += "\n#EXT-X-MEDIA-SEQUENCE:";
  out += std::to_string(m.segments_[first].sequence);
  out += '\n';
  if (m.discontinuity_sequence_ > 0) {
    out += "#EXT-X-DISCONTINUITY-SEQUENCE:";
    out += std::to_string(m.discontinuity_sequence_);
    out += '\n';
  }
  char extinf[48];
  for (size_t i = first; i < m.segments_.size(); ++i) {
    const Segment& s = m.segments_[i];
    if (s.discontinuity) out += "#EXT-X-DISCONTINUITY\n";
    std::snprintf(extinf, sizeof extinf, "#EXTINF:%.3f,\n", s.duration_s);
    out += extinf;
    out += uri_prefix;
    out += std::to_string(s.sequence);
    out += ".ts\n";
  }
  if (m.ended_) out += "#EXT-X-ENDLIST\n";
  return out;
}

std::shared_ptr<const std::string> HlsSegmenter::segment(uint64_t sequence) const {
  const Impl& m = *impl_;
  std::lock_guard lock(m.mu_);
  if (m.segments_.empty() || sequence < m.segments_.front().sequence || sequence > m.segments_.back().sequence)
    return nullptr;
  return m.segments_[sequence - m.segments_.front().sequence].bytes;
}

HlsStats HlsSegmenter::stats() const {
  const Impl& m = *impl_;
  std::lock_guard lock(m.mu_);
  HlsStats s;
  s.segments = m.completed_;
  if (!m.segments_.empty()) {
    const size_t first = m.segments_.size() > m.opt.window ? m.segments_.size() - m.opt.window : 0;
    s.first_sequence = m.segments_[first].sequence;
    s.last_sequence = m.segments_.back().sequence;
  }
  s.last_duration_s = m.last_duration_s_;
  s.ended = m.ended_;
  s.errors = m.errors_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace chiron::media
