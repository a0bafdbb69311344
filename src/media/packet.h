#pragma once
// MediaPacket: one audio, video or script message of a live stream, as RTMP carries it and as
// an FLV tag body holds it (the two are byte-for-byte the same, so the server never re-encodes).
//
//   video body: [frame type << 4 | codec id (7 = AVC)] [AVCPacketType: 0 seq header, 1 NALUs,
//               2 end of sequence] [composition time, 24-bit signed] [data]
//   audio body: [format << 4 | rate/size/channels (0xAF = AAC 44.1k stereo)] [AACPacketType:
//               0 AudioSpecificConfig, 1 raw frame] [data]
//   script body: AMF0 "onMetaData" + ECMA array (an "@setDataFrame" prefix is already stripped)
//
// Timestamps are unwrapped: the 32-bit RTMP/FLV timestamp (which wraps every 49.7 days, and is
// carried in an extended field past 0xFFFFFF ms) becomes a monotonic 64-bit millisecond count.
// Immutable once built; shared between viewers as std::shared_ptr<const MediaPacket>.

#include <cstdint>
#include <string>

namespace chiron::media {

enum class PacketType : uint8_t { kAudio = 8, kVideo = 9, kScript = 18 };

struct MediaPacket {
  PacketType type = PacketType::kVideo;
  int64_t dts_ms = 0;            // unwrapped decode timestamp
  bool keyframe = false;         // video frame type 1 (AVC IDR); false for audio/script
  bool sequence_header = false;  // AVC decoder configuration or AAC AudioSpecificConfig
  std::string payload;           // the FLV tag body / RTMP message payload

  bool video() const { return type == PacketType::kVideo; }
  bool audio() const { return type == PacketType::kAudio; }
  bool script() const { return type == PacketType::kScript; }
  // Composition time offset of an AVC NALU packet (pts = dts + cts), 0 for anything else.
  int32_t composition_time_ms() const {
    if (type != PacketType::kVideo || payload.size() < 5 || (payload[0] & 0x0f) != 7) return 0;
    int32_t v = (static_cast<uint8_t>(payload[2]) << 16) | (static_cast<uint8_t>(payload[3]) << 8) |
                static_cast<uint8_t>(payload[4]);
    if (v & 0x800000) v -= 0x1000000;  // 24-bit two's complement
    return v;
  }
};

// Fills keyframe/sequence_header from the payload's first bytes (RTMP and FLV readers use it).
inline void classify(MediaPacket& p) {
  p.keyframe = false;
  p.sequence_header = false;
  if (p.payload.size() < 2) return;
  const auto b0 = static_cast<uint8_t>(p.payload[0]);
  const auto b1 = static_cast<uint8_t>(p.payload[1]);
  if (p.type == PacketType::kVideo) {
    const bool avc = (b0 & 0x0f) == 7;
    p.keyframe = (b0 >> 4) == 1 && !(avc && b1 == 0);
    p.sequence_header = avc && b1 == 0;
  } else if (p.type == PacketType::kAudio) {
    p.sequence_header = (b0 >> 4) == 10 && b1 == 0;  // AAC
  }
}

}  // namespace chiron::media
