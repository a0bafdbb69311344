// libFuzzer target for the RFC 6455 frame parser (src/net/websocket_frame.h).
// The first input byte picks the feeding pattern (chunk size) and role; the
// rest is the byte stream. Checks the parser's promises, not just "no crash":
// progress on every call, messages within the size cap, text always UTF-8.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/check.h"
#include "common/strings.h"
#include "net/websocket_frame.h"

using chiron::net::detail::WsEvent;
using chiron::net::detail::WsFrameParser;
using chiron::net::detail::WsParserLimits;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const size_t step = (mode & 0x0F) == 0 ? SIZE_MAX : (mode & 0x0F);
  const bool require_mask = (mode & 0x10) == 0;
  const WsParserLimits limits{(mode & 0x20) ? 64u : 4096u};
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);

  WsFrameParser parser(limits, require_mask);
  size_t pos = 0;
  while (pos < in.size()) {
    std::string_view chunk = in.substr(pos, std::min(step, in.size() - pos));
    std::optional<WsEvent> ev;
    const size_t used = parser.parse(chunk, ev);
    CHIRON_CHECK(used <= chunk.size(), "parser consumed more than it was given");
    if (ev) {
      if (ev->kind == WsEvent::Kind::kMessage) {
        CHIRON_CHECK(ev->payload.size() <= limits.max_message_bytes, "message over the cap");
        if (ev->opcode == chiron::net::WsOpcode::kText)
          CHIRON_CHECK(chiron::is_valid_utf8(ev->payload), "text message is not UTF-8");
      } else if (ev->kind == WsEvent::Kind::kPing || ev->kind == WsEvent::Kind::kPong) {
        CHIRON_CHECK(ev->payload.size() <= 125, "control payload over 125 bytes");
      } else if (ev->kind == WsEvent::Kind::kClose) {
        CHIRON_CHECK(chiron::is_valid_utf8(ev->payload), "close reason is not UTF-8");
      }
    } else {
      CHIRON_CHECK(used == chunk.size() || parser.failed(), "parser stalled without an event");
    }
    if (parser.failed()) break;
    pos += used;
  }
  return 0;
}
