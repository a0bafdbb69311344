// libFuzzer target for the HLS segmenter (src/media/hls.h) and the input checks in front of
// libavformat (src/media/ts_muxer.h: AVC configuration record, NAL unit lengths,
// AudioSpecificConfig). The input is a packet script:
//
//   byte 0: options (bit 0: 0.5 s target instead of 2 s; bit 1: window 1; bit 2: 4 KiB segment cap)
//   then records: [kind] [dts delta, int16 BE] [length, uint16 BE] [payload]
//     kind & 3: 0 video, 1 audio, 2 script, 3 control (payload[0] & 1 ? finish : discontinuity)
//
// so seeds made from real FLV tags reach the muxer and mutations reach every error path,
// including timestamps running backwards. Checks the segmenter's promises, not only "no
// crash": the target duration covers every EXTINF, listed segments are fetchable whole TS
// packets, the window holds at most `window` segments.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "common/check.h"
#include "media/hls.h"

using chiron::media::HlsOptions;
using chiron::media::HlsSegmenter;
using chiron::media::MediaPacket;
using chiron::media::PacketType;

namespace {

void check_playlist(const HlsSegmenter& hls, const HlsOptions& opt) {
  const auto text = hls.playlist();
  if (!text) return;
  std::istringstream in(*text);
  std::string line;
  double target = -1;
  size_t listed = 0;
  while (std::getline(in, line)) {
    if (line.rfind("#EXT-X-TARGETDURATION:", 0) == 0) target = std::stod(line.substr(22));
    if (line.rfind("#EXTINF:", 0) == 0) {
      CHIRON_CHECK(target >= 1, "EXTINF before EXT-X-TARGETDURATION");
      const double d = std::stod(line.substr(8));
      CHIRON_CHECK(d > 0 && d <= target, "EXTINF exceeds EXT-X-TARGETDURATION");
    }
    if (!line.empty() && line[0] != '#') {
      ++listed;
      auto seg = hls.segment(std::stoull(line.substr(0, line.size() - 3)));
      CHIRON_CHECK(seg != nullptr, "a listed segment is not fetchable");
      CHIRON_CHECK(!seg->empty() && seg->size() % 188 == 0 && (*seg)[0] == 0x47, "segment is not whole TS packets");
    }
  }
  CHIRON_CHECK(listed >= 1 && listed <= opt.window, "playlist window size");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  HlsOptions opt;
  opt.target_segment_s = (data[0] & 1) ? 0.5 : 2.0;
  opt.window = (data[0] & 2) ? 1 : 3;
  opt.keep_after = 1;
  if (data[0] & 4) opt.max_segment_bytes = 4096;
  HlsSegmenter hls(opt);

  size_t pos = 1;
  int64_t dts = 0;
  MediaPacket p;
  while (pos + 5 <= size) {
    const uint8_t kind = data[pos] & 3;
    const auto delta = static_cast<int16_t>((data[pos + 1] << 8) | data[pos + 2]);
    const size_t len = std::min<size_t>((data[pos + 3] << 8) | data[pos + 4], size - pos - 5);
    const std::string_view payload(reinterpret_cast<const char*>(data + pos + 5), len);
    pos += 5 + len;
    dts += delta;
    if (kind == 3) {
      if (!payload.empty() && (payload[0] & 1)) hls.finish();
      else hls.discontinuity();
      continue;
    }
    p.type = kind == 0 ? PacketType::kVideo : kind == 1 ? PacketType::kAudio : PacketType::kScript;
    p.dts_ms = dts;
    p.payload.assign(payload);
    classify(p);
    (void)hls.push(p);
  }
  hls.finish();
  check_playlist(hls, opt);
  const auto st = hls.stats();
  CHIRON_CHECK(st.ended == hls.playlist().has_value(), "finish() ends a non-empty playlist");
  return 0;
}
