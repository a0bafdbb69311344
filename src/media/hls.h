#pragma once
// HLS (RFC 8216) from the live stream, in memory: MPEG-TS segments cut at video keyframes and a
// sliding-window media playlist, for hls.js and Safari (iPhones without Media Source Extensions).
// No re-encoding: H.264 NALUs are rewritten from length-prefixed (AVCC) to Annex B with SPS/PPS
// before each IDR, AAC frames get ADTS headers from the AudioSpecificConfig; muxing into
// MPEG-TS uses libavformat's mpegts muxer writing into memory (each segment self-contained: it
// opens with PAT/PMT and a keyframe; continuity counters run on across segments).
//
// Segmenting: a segment is closed at the first video keyframe at or after target_segment_s
// since its start (so its length is a multiple of the encoder's keyframe interval); audio-only
// streams cut on time (before the frame that would carry the segment past the target). A
// segment never holds more than max_segment_bytes of media (TS framing adds a few percent; a
// stream without keyframes is cut there anyway, flagged as not starting with a keyframe). The playlist lists the last
// `window` complete segments; EXT-X-TARGETDURATION is the ceiling of the longest one ever
// listed (RFC 8216 §4.3.3.1 forbids it to shrink), EXT-X-MEDIA-SEQUENCE counts up as the window
// slides, EXT-X-DISCONTINUITY marks the first segment after discontinuity() (a republish),
// EXT-X-ENDLIST follows finish(). Segments leaving the window stay fetchable for `keep_after`
// more segments (players may still be downloading them), then are freed.
//
// Threading: push()/finish()/discontinuity() from one thread at a time (the publisher's);
// playlist()/segment()/stats() from any thread (an internal mutex guards the published part).
//
// CONTRACT (owner: hls helper; the lead's media server feeds it and serves its output).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "media/packet.h"

namespace chiron::media {

struct HlsOptions {
  double target_segment_s = 2.0;
  size_t window = 6;                   // segments in the playlist
  size_t keep_after = 3;               // segments kept after leaving the playlist
  size_t max_segment_bytes = 32u << 20;
};

struct HlsStats {
  uint64_t segments = 0;        // completed so far
  uint64_t first_sequence = 0;  // EXT-X-MEDIA-SEQUENCE of the current playlist
  uint64_t last_sequence = 0;
  double last_duration_s = 0;
  bool ended = false;
  uint64_t errors = 0;          // push() problems so far, including ones not returned (see push)
};

class HlsSegmenter {
 public:
  explicit HlsSegmenter(HlsOptions options = {});
  ~HlsSegmenter();
  HlsSegmenter(const HlsSegmenter&) = delete;
  HlsSegmenter& operator=(const HlsSegmenter&) = delete;

  // Every packet of the stream, in order: metadata and the AVC/AAC sequence headers included
  // (they configure the muxer; a changed sequence header starts a new segment). Packets before
  // the first video keyframe (when the stream has video) are skipped. Errors are reported,
  // and the segmenter recovers at the next keyframe; the caller logs them. One error is
  // returned per episode (until the next keyframe or segment), the rest only counted in
  // stats().errors, so a broken publisher costs one log line per GOP, not one per packet.
  // A non-OK status does not always mean the packet was dropped: a keyframe whose timestamp
  // jumps is used to start a new segment after EXT-X-DISCONTINUITY, and that is reported too.
  Status push(const MediaPacket& packet);
  // The publisher is gone: the open segment is closed and the playlist gets EXT-X-ENDLIST.
  void finish();
  // A new publisher on the same channel: the next segment starts with EXT-X-DISCONTINUITY (and
  // ENDLIST is removed); codec configuration is forgotten until new sequence headers arrive.
  void discontinuity();

  // The media playlist; segment URIs are `<prefix><sequence>.ts` (prefix e.g. "" or
  // "/live/alice/"). nullopt until the first segment is complete.
  std::optional<std::string> playlist(std::string_view uri_prefix = "") const;
  // A segment's bytes, nullptr when unknown or already freed.
  std::shared_ptr<const std::string> segment(uint64_t sequence) const;
  HlsStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chiron::media
