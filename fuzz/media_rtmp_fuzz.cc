// libFuzzer target for RtmpServerSession (src/media/rtmp_session.h): arbitrary bytes after a
// valid handshake (or, with mode bit 0x40, as the handshake itself), fed in pieces. Publish and
// play requests are accepted so media paths run too. Checks: no crash, media payloads within
// max_message_bytes, dts never negative, errors stick.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/check.h"
#include "media/rtmp_session.h"

using namespace chiron::media;

namespace {
struct Events : RtmpSessionEvents {
  bool publish = false, play = false;
  size_t max_bytes = 0;
  void on_publish(std::string_view, std::string_view) override { publish = true; }
  void on_play(std::string_view, std::string_view) override { play = true; }
  void on_media(MediaPacket&& p) override {
    CHIRON_CHECK(p.payload.size() <= max_bytes, "media message over the cap");
    CHIRON_CHECK(p.dts_ms >= 0, "negative dts");
  }
  void on_unpublish() override {}
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const size_t step = (mode & 0x3F) == 0 ? SIZE_MAX : (mode & 0x3F) * 7;
  std::string input;
  if ((mode & 0x40) == 0) {
    input.assign(1 + 2 * 1536, '\x5a');
    input[0] = 3;
    std::memset(input.data() + 1, 0, 8);
  }
  input.append(reinterpret_cast<const char*>(data + 1), size - 1);
  Events ev;
  RtmpSessionOptions options;
  options.max_message_bytes = 1 << 16;
  options.max_chunk_streams = 8;
  options.max_chunk_size = 1 << 16;
  ev.max_bytes = options.max_message_bytes;
  RtmpServerSession session(options, ev);
  std::string out;
  for (size_t pos = 0; pos < input.size(); pos += step) {
    const auto st = session.feed(std::string_view(input).substr(pos, std::min(step, input.size() - pos)), out);
    if (ev.publish) session.accept_publish(out), ev.publish = false;
    if (ev.play) session.accept_play(out), ev.play = false;
    if (!st.ok()) {
      CHIRON_CHECK(!session.feed("x", out).ok(), "an error did not stick");
      break;
    }
    out.clear();
  }
  return 0;
}
