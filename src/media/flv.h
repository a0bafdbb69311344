#pragma once
// FLV (Adobe Flash Video File Format v10.1, annex E): the container of HTTP-FLV and of
// recordings, plus the codec-configuration parsers the stream-health numbers need.
//
//   header:  "FLV" 0x01 flags(0x04 audio | 0x01 video) 00 00 00 09, then PreviousTagSize0 = 0
//   tag:     type(8/9/18) size(24) timestamp(24) timestamp_ext(8) stream_id(24 = 0) body
//            PreviousTagSize(32) = 11 + size
//
// Writing is pure and allocation-light (append to a caller's buffer). FlvReader is an
// incremental parser for bytes arriving in arbitrary pieces (an edge pulling /live/<ch>.flv from
// its origin, a recording read back): malformed or oversized input is a clear error, never a
// crash; it is fuzzed (fuzz/media_flv_fuzz.cc).
//
// CONTRACT (owner: rtmp helper; the lead's media server and HLS segmenter use it).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "media/packet.h"

namespace chiron::media {

inline constexpr size_t kFlvHeaderBytes = 13;  // 9-byte header + PreviousTagSize0
inline constexpr size_t kFlvTagOverhead = 15;  // 11-byte tag header + 4-byte PreviousTagSize

// Turns 32-bit millisecond timestamps (RTMP, FLV: wrap every 49.7 days) into a monotonic 64-bit
// count: each value is read as the nearest 32-bit neighbour of the previous one, so small
// backwards steps (audio/video interleaving) stay backwards and a wrap moves forward. The first
// value is taken as is. Not thread-safe.
class TimestampUnwrapper {
 public:
  int64_t unwrap(uint32_t ts) {
    if (!started_) {
      started_ = true;
      last_ = ts;
      return last_;
    }
    last_ += static_cast<int32_t>(ts - static_cast<uint32_t>(last_));
    return last_;
  }
  int64_t last() const { return last_; }
  void reset(int64_t last) { started_ = true, last_ = last; }

 private:
  bool started_ = false;
  int64_t last_ = 0;
};

// Appends the 13 bytes that open an FLV stream.
void append_flv_header(std::string& out, bool has_audio, bool has_video);
// Appends one tag (header, body, PreviousTagSize). The timestamp is the low 32 bits of dts_ms.
void append_flv_tag(std::string& out, PacketType type, int64_t dts_ms, std::string_view body);
inline void append_flv_tag(std::string& out, const MediaPacket& p) { append_flv_tag(out, p.type, p.dts_ms, p.payload); }

struct FlvReaderOptions {
  size_t max_tag_bytes = 16u << 20;  // a larger declared tag is an error
  bool expect_header = true;         // false: the input starts at a tag (no 13-byte header)
};

// Incremental FLV parser. Not thread-safe.
class FlvReader {
 public:
  explicit FlvReader(FlvReaderOptions options = {});
  // Consumes bytes; calls on_packet for each complete audio/video/script tag (other tag types
  // are skipped), with dts_ms unwrapped across 32-bit wrap-around and keyframe /
  // sequence_header classified. Returns an error (and stays failed) on a bad signature, an
  // oversized tag, or a PreviousTagSize that does not match the tag before it.
  Status feed(std::string_view bytes, const std::function<void(MediaPacket&&)>& on_packet);
  // Bytes held back waiting for the rest of a tag.
  size_t buffered() const;
  bool header_seen() const;
  bool has_audio() const;  // header flags (valid once header_seen())
  bool has_video() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// What the publisher's onMetaData says (zero/empty when absent).
struct StreamMetadata {
  uint32_t width = 0;
  uint32_t height = 0;
  double framerate = 0;
  double video_kbps = 0;  // videodatarate
  double audio_kbps = 0;  // audiodatarate
  std::string encoder;    // "obs-output module (libobs version 30.0.2)", "Lavf59.27.100"
};
// Parses a script tag body ("onMetaData" + ECMA array or object). nullopt if it is not one.
std::optional<StreamMetadata> parse_metadata(std::string_view script_body);
// Builds a clean script body: "onMetaData" + ECMA array of the given fields (used when the
// publisher's metadata is stripped of "@setDataFrame"; keeps every property it had).
// (The RTMP session does the stripping; this is for tests and recordings.)
std::string encode_metadata(const StreamMetadata& m);

// The AVC decoder configuration record (video sequence header body after the 5-byte FLV video
// prefix) → size from the first SPS (ISO/IEC 14496-10 7.3.2.1, frame cropping applied).
struct AvcConfig {
  uint8_t profile = 0;        // profile_idc (66 baseline, 77 main, 100 high)
  uint8_t compatibility = 0;  // constraint_set flags byte (the middle pair of the codec string)
  uint8_t level = 0;    // level_idc (31 = 3.1)
  uint32_t width = 0;
  uint32_t height = 0;
  std::string codec_string() const;  // "avc1.64001f"
};
std::optional<AvcConfig> parse_avc_sequence_header(std::string_view video_body);

// The AAC AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1) in an audio sequence header body.
struct AacConfig {
  uint8_t object_type = 0;  // 2 = AAC-LC
  uint32_t sample_rate = 0;
  uint8_t channels = 0;
  std::string codec_string() const;  // "mp4a.40.2"
};
std::optional<AacConfig> parse_aac_sequence_header(std::string_view audio_body);

}  // namespace chiron::media
