// libFuzzer target for FLV parsing (src/media/flv.h): FlvReader fed in pieces, and the
// onMetaData, AVC and AAC sequence-header parsers on every tag body (and on the raw input).
// The first byte picks the split size and whether a file header is expected.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/check.h"
#include "media/flv.h"

using namespace chiron::media;

namespace {
void parse_body(std::string_view body) {
  if (auto m = parse_metadata(body)) CHIRON_CHECK(m->width <= 65536 && m->height <= 65536, "absurd metadata size");
  if (auto a = parse_avc_sequence_header(body)) {
    CHIRON_CHECK(a->width > 0 && a->width <= 65536 && a->height > 0 && a->height <= 65536, "absurd SPS size");
    (void)a->codec_string();
  }
  if (auto c = parse_aac_sequence_header(body)) (void)c->codec_string();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const size_t step = (mode & 0x1F) == 0 ? SIZE_MAX : (mode & 0x1F);
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  parse_body(in);
  FlvReaderOptions options;
  options.max_tag_bytes = 1 << 16;
  options.expect_header = (mode & 0x20) == 0;
  FlvReader reader(options);
  int64_t last = INT64_MIN;
  for (size_t pos = 0; pos < in.size(); pos += step) {
    const chiron::Status st = reader.feed(in.substr(pos, std::min(step, in.size() - pos)), [&](MediaPacket&& p) {
      CHIRON_CHECK(p.payload.size() <= options.max_tag_bytes, "tag over the cap");
      CHIRON_CHECK(last == INT64_MIN || p.dts_ms - last <= INT32_MAX, "unwrap jumped too far");
      last = p.dts_ms;
      parse_body(p.payload);
    });
    CHIRON_CHECK(reader.buffered() <= options.max_tag_bytes + kFlvHeaderBytes, "reader holds more than a tag");
    if (!st.ok()) break;
  }
  return 0;
}
