#pragma once
// Internal to the net module: the RFC 6455 frame layer without sockets.
//
// WsFrameParser turns bytes from a client into complete messages and control
// frames, enforcing every server-side rule of RFC 6455 §5 (masking, RSV bits,
// opcodes, control-frame limits, fragmentation order, UTF-8 of text) plus our
// message size cap. It is incremental: bytes may arrive one at a time, and a
// payload is unmasked and checked as it arrives, never buffered beyond the cap.
// encode_ws_frame() builds server frames (unmasked) and, for tests, masked
// client frames. Not thread-safe; pure (no I/O).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net/websocket.h"

namespace chiron::net::detail {

// Appends one frame to out. With a mask key the payload is masked (RFC 6455 §5.3),
// as a client must; servers never mask (§5.1).
void encode_ws_frame(std::string& out, WsOpcode opcode, std::string_view payload, bool fin = true,
                     std::optional<std::array<uint8_t, 4>> mask = std::nullopt);
std::string encode_ws_frame(WsOpcode opcode, std::string_view payload, bool fin = true,
                            std::optional<std::array<uint8_t, 4>> mask = std::nullopt);
// A close frame payload: 2-byte big-endian code + reason truncated to fit 125 bytes (§5.5.1).
std::string ws_close_payload(uint16_t code, std::string_view reason);

// True for codes an endpoint may send in a close frame (RFC 6455 §7.4.1, §7.4.2).
bool is_valid_ws_close_code(uint16_t code);

// Incremental UTF-8 validator (RFC 3629) for text split across frames and reads.
class Utf8Validator {
 public:
  // Feeds more bytes; false as soon as the sequence can no longer be valid.
  bool feed(std::string_view bytes);
  // True if everything fed so far ends on a character boundary.
  bool complete() const { return need_ == 0; }
  void reset() { need_ = 0; lo_ = 0x80; hi_ = 0xBF; }

 private:
  int need_ = 0;          // continuation bytes still expected
  uint8_t lo_ = 0x80;     // allowed range of the next continuation byte
  uint8_t hi_ = 0xBF;
};

struct WsParserLimits {
  size_t max_message_bytes = 1 << 20;
};

// One event produced by the parser.
struct WsEvent {
  enum class Kind { kMessage, kPing, kPong, kClose, kError };
  Kind kind = Kind::kMessage;
  WsOpcode opcode = WsOpcode::kText;  // kMessage: kText or kBinary
  std::string payload;                // message / ping / pong payload, close reason
  uint16_t code = 0;                  // kClose: peer code (1005 when absent); kError: our close code
};

class WsFrameParser {
 public:
  explicit WsFrameParser(WsParserLimits limits = {}, bool require_mask = true)
      : limits_(limits), require_mask_(require_mask) {}

  // Consumes bytes from data and stops after at most one event. Returns the
  // number of bytes consumed; `event` is set when one is complete. After a
  // kError or kClose event the parser consumes nothing more.
  size_t parse(std::string_view data, std::optional<WsEvent>& event);

  bool failed() const { return state_ == State::kDone; }

 private:
  enum class State { kHeader, kPayload, kDone };

  // Header fields are decoded from hdr_ once enough bytes are present; the
  // first two bytes are checked before the rest of the header arrives.
  std::optional<WsEvent> check_first_two_bytes();
  std::optional<WsEvent> on_header();
  std::optional<WsEvent> on_frame_end();
  WsEvent fail(uint16_t code, std::string why);

  WsParserLimits limits_;
  bool require_mask_;
  State state_ = State::kHeader;

  std::array<uint8_t, 14> hdr_{};
  size_t hdr_len_ = 0;

  // Current frame.
  bool fin_ = false;
  WsOpcode opcode_ = WsOpcode::kContinuation;
  bool masked_ = false;
  std::array<uint8_t, 4> mask_{};
  uint64_t remaining_ = 0;  // payload bytes of the current frame not yet consumed
  uint64_t offset_ = 0;     // payload bytes already consumed (for the mask phase)
  std::string control_;     // payload of the current control frame

  // Current data message (possibly fragmented).
  bool in_message_ = false;
  WsOpcode message_opcode_ = WsOpcode::kText;
  std::string message_;
  Utf8Validator utf8_;
};

}  // namespace chiron::net::detail
