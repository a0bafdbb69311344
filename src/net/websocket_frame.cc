// RFC 6455 frame encoding and incremental parsing. See websocket_frame.h.

#include "net/websocket_frame.h"

#include <algorithm>
#include <cstring>

#include "common/strings.h"

namespace chiron::net::detail {

namespace {

// XORs p[0..n) with the 4-byte key starting at key phase `offset` (RFC 6455 §5.3),
// eight bytes at a time: 8 is a multiple of 4, so a rotated 64-bit key keeps the phase.
void apply_mask(char* p, size_t n, const std::array<uint8_t, 4>& key, uint64_t offset) {
  uint8_t k8[8];
  for (size_t j = 0; j < 8; ++j) k8[j] = key[(offset + j) & 3];
  uint64_t k64;
  std::memcpy(&k64, k8, 8);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    std::memcpy(&v, p + i, 8);
    v ^= k64;
    std::memcpy(p + i, &v, 8);
  }
  for (; i < n; ++i) p[i] = static_cast<char>(p[i] ^ key[(offset + i) & 3]);
}

}  // namespace

void encode_ws_frame(std::string& out, WsOpcode opcode, std::string_view payload, bool fin,
                     std::optional<std::array<uint8_t, 4>> mask) {
  // RFC 6455 §5.2: FIN, RSV1-3 = 0, opcode; MASK bit + 7/16/64-bit payload length.
  out.push_back(static_cast<char>((fin ? 0x80 : 0x00) | static_cast<uint8_t>(opcode)));
  const uint8_t mask_bit = mask ? 0x80 : 0x00;
  const uint64_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(mask_bit | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xFF));
  }
  if (!mask) {
    out.append(payload);
    return;
  }
  out.append(reinterpret_cast<const char*>(mask->data()), 4);
  const size_t start = out.size();
  out.append(payload);
  apply_mask(out.data() + start, payload.size(), *mask, 0);
}

std::string encode_ws_frame(WsOpcode opcode, std::string_view payload, bool fin,
                            std::optional<std::array<uint8_t, 4>> mask) {
  std::string out;
  out.reserve(payload.size() + 14);
  encode_ws_frame(out, opcode, payload, fin, mask);
  return out;
}

std::string ws_close_payload(uint16_t code, std::string_view reason) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  // §5.5: control payloads ≤ 125 bytes. Cut on a UTF-8 boundary so the reason stays valid (§5.5.1).
  reason = reason.substr(0, 123);
  while (!reason.empty() && !is_valid_utf8(reason)) reason.remove_suffix(1);
  p.append(reason);
  return p;
}

bool is_valid_ws_close_code(uint16_t code) {
  // §7.4.1: 1004, 1005, 1006 and 1015 are reserved and must not be sent; 1012-1014
  // are registered in the IANA registry (§11.7); 3000-4999 are for libraries/apps.
  if (code >= 3000 && code <= 4999) return true;
  switch (code) {
    case 1000: case 1001: case 1002: case 1003: case 1007: case 1008:
    case 1009: case 1010: case 1011: case 1012: case 1013: case 1014:
      return true;
    default:
      return false;
  }
}

// RFC 3629 §4: the second byte's range depends on the lead byte (this rejects
// overlongs, surrogates U+D800..DFFF and code points above U+10FFFF).
bool Utf8Validator::feed(std::string_view bytes) {
  if (need_ < 0) return false;
  size_t next_fast = 0;  // after a failed 8-byte probe, go byte by byte past it
  for (size_t i = 0; i < bytes.size(); ++i) {
    // Fast path: eight ASCII bytes at once between characters.
    while (need_ == 0 && i >= next_fast && i + 8 <= bytes.size()) {
      uint64_t v;
      std::memcpy(&v, bytes.data() + i, 8);
      if (v & 0x8080808080808080ull) {
        next_fast = i + 8;
        break;
      }
      i += 8;
    }
    if (i >= bytes.size()) break;
    const auto b = static_cast<uint8_t>(bytes[i]);
    if (need_ > 0) {
      if (b < lo_ || b > hi_) {
        need_ = -1;
        return false;
      }
      --need_;
      lo_ = 0x80;
      hi_ = 0xBF;
      continue;
    }
    if (b < 0x80) continue;
    if (b >= 0xC2 && b <= 0xDF) {
      need_ = 1;
    } else if (b == 0xE0) {
      need_ = 2;
      lo_ = 0xA0;
    } else if (b == 0xED) {
      need_ = 2;
      hi_ = 0x9F;
    } else if (b >= 0xE1 && b <= 0xEF) {
      need_ = 2;
    } else if (b == 0xF0) {
      need_ = 3;
      lo_ = 0x90;
    } else if (b >= 0xF1 && b <= 0xF3) {
      need_ = 3;
    } else if (b == 0xF4) {
      need_ = 3;
      hi_ = 0x8F;
    } else {
      need_ = -1;
      return false;
    }
  }
  return true;
}

WsEvent WsFrameParser::fail(uint16_t code, std::string why) {
  state_ = State::kDone;
  message_.clear();
  control_.clear();
  WsEvent ev;
  ev.kind = WsEvent::Kind::kError;
  ev.code = code;
  ev.payload = std::move(why);
  return ev;
}

namespace {

bool is_control(WsOpcode op) { return static_cast<uint8_t>(op) >= 8; }

// Header length implied by the first two bytes (RFC 6455 §5.2).
size_t header_length(uint8_t b1) {
  size_t n = 2;
  const uint8_t len7 = b1 & 0x7F;
  if (len7 == 126) n += 2;
  if (len7 == 127) n += 8;
  if (b1 & 0x80) n += 4;
  return n;
}

}  // namespace

size_t WsFrameParser::parse(std::string_view data, std::optional<WsEvent>& event) {
  event.reset();
  size_t used = 0;
  while (used < data.size() && state_ != State::kDone) {
    if (state_ == State::kHeader) {
      // Take the first two bytes alone so their rules are checked before the rest arrives.
      if (hdr_len_ < 2) {
        const size_t take = std::min<size_t>(2 - hdr_len_, data.size() - used);
        std::memcpy(hdr_.data() + hdr_len_, data.data() + used, take);
        hdr_len_ += take;
        used += take;
        if (hdr_len_ < 2) continue;
        if (auto err = check_first_two_bytes()) {
          event = std::move(err);
          return used;
        }
      }
      const size_t want = header_length(hdr_[1]);
      const size_t take = std::min(want - hdr_len_, data.size() - used);
      std::memcpy(hdr_.data() + hdr_len_, data.data() + used, take);
      hdr_len_ += take;
      used += take;
      if (hdr_len_ < want) continue;
      if (auto ev = on_header()) {
        event = std::move(ev);
        return used;
      }
      continue;
    }
    // State::kPayload: unmask (RFC 6455 §5.3) and check as the bytes arrive.
    const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, data.size() - used));
    std::string& dst = is_control(opcode_) ? control_ : message_;
    const size_t start = dst.size();
    dst.append(data.data() + used, take);
    if (masked_) apply_mask(dst.data() + start, take, mask_, offset_);
    used += take;
    offset_ += take;
    remaining_ -= take;
    if (!is_control(opcode_) && message_opcode_ == WsOpcode::kText &&
        !utf8_.feed(std::string_view(dst).substr(start))) {
      event = fail(kWsInvalidPayload, "text message is not valid UTF-8");
      return used;
    }
    if (remaining_ == 0) {
      state_ = State::kHeader;
      hdr_len_ = 0;
      if (auto ev = on_frame_end()) {
        event = std::move(ev);
        return used;
      }
    }
  }
  return used;
}

std::optional<WsEvent> WsFrameParser::check_first_two_bytes() {
  const uint8_t b0 = hdr_[0];
  const uint8_t b1 = hdr_[1];
  fin_ = (b0 & 0x80) != 0;
  // §5.2: RSV1-3 must be 0 unless an extension defining them was negotiated (none is).
  if (b0 & 0x70) return fail(kWsProtocolError, "reserved bits set without an extension");
  const uint8_t op = b0 & 0x0F;
  // §5.2: opcodes 3-7 and 0xB-0xF are reserved; an endpoint must fail the connection.
  if (!(op <= 2 || (op >= 8 && op <= 10))) return fail(kWsProtocolError, "reserved opcode");
  opcode_ = static_cast<WsOpcode>(op);
  masked_ = (b1 & 0x80) != 0;
  // §5.1: a server must close on an unmasked client frame; a client on a masked server frame.
  if (masked_ != require_mask_)
    return fail(kWsProtocolError, require_mask_ ? "client frame is not masked" : "server frame is masked");
  const uint8_t len7 = b1 & 0x7F;
  if (is_control(opcode_)) {
    // §5.5: control frames have a payload of at most 125 bytes and are never fragmented.
    if (!fin_) return fail(kWsProtocolError, "fragmented control frame");
    if (len7 > 125) return fail(kWsProtocolError, "control frame longer than 125 bytes");
  } else if (opcode_ == WsOpcode::kContinuation) {
    // §5.4: a continuation only follows a non-final data frame.
    if (!in_message_) return fail(kWsProtocolError, "continuation frame without a message to continue");
  } else if (in_message_) {
    // §5.4: fragments of one message are not interleaved with another data message.
    return fail(kWsProtocolError, "new data frame inside a fragmented message");
  }
  return std::nullopt;
}

std::optional<WsEvent> WsFrameParser::on_header() {
  const uint8_t len7 = hdr_[1] & 0x7F;
  size_t pos = 2;
  uint64_t length = len7;
  if (len7 == 126) {
    length = (uint64_t{hdr_[2]} << 8) | hdr_[3];
    pos = 4;
  } else if (len7 == 127) {
    // §5.2: with the 64-bit length the most significant bit must be 0.
    if (hdr_[2] & 0x80) return fail(kWsProtocolError, "64-bit payload length has the high bit set");
    length = 0;
    for (size_t i = 2; i < 10; ++i) length = (length << 8) | hdr_[i];
    pos = 10;
  }
  if (masked_) std::memcpy(mask_.data(), hdr_.data() + pos, 4);
  if (!is_control(opcode_)) {
    // Refuse before buffering a byte: the limit applies to the reassembled message.
    const uint64_t so_far = opcode_ == WsOpcode::kContinuation ? message_.size() : 0;
    if (length > limits_.max_message_bytes || so_far + length > limits_.max_message_bytes)
      return fail(kWsMessageTooBig, "message exceeds " + std::to_string(limits_.max_message_bytes) + " bytes");
    if (opcode_ != WsOpcode::kContinuation) {
      in_message_ = true;
      message_opcode_ = opcode_;
      message_.clear();
      utf8_.reset();
    }
  } else {
    control_.clear();
  }
  remaining_ = length;
  offset_ = 0;
  if (remaining_ > 0) {
    state_ = State::kPayload;
    return std::nullopt;
  }
  hdr_len_ = 0;
  return on_frame_end();
}

std::optional<WsEvent> WsFrameParser::on_frame_end() {
  WsEvent ev;
  switch (opcode_) {
    case WsOpcode::kPing:
      ev.kind = WsEvent::Kind::kPing;
      ev.payload = std::move(control_);
      control_.clear();
      return ev;
    case WsOpcode::kPong:
      ev.kind = WsEvent::Kind::kPong;
      ev.payload = std::move(control_);
      control_.clear();
      return ev;
    case WsOpcode::kClose: {
      // §5.5.1: an empty body, or a 2-byte code followed by a UTF-8 reason.
      if (control_.size() == 1) return fail(kWsProtocolError, "close frame with a 1-byte payload");
      ev.kind = WsEvent::Kind::kClose;
      ev.code = 1005;  // §7.1.5: "no status code was present"
      if (control_.size() >= 2) {
        ev.code = static_cast<uint16_t>((static_cast<uint8_t>(control_[0]) << 8) | static_cast<uint8_t>(control_[1]));
        if (!is_valid_ws_close_code(ev.code)) return fail(kWsProtocolError, "invalid close code");
        ev.payload = control_.substr(2);
        if (!is_valid_utf8(ev.payload)) return fail(kWsProtocolError, "close reason is not valid UTF-8");
      }
      control_.clear();
      state_ = State::kDone;
      return ev;
    }
    default:
      break;
  }
  if (!fin_) return std::nullopt;
  // §5.6 / §8.1: a text message must be valid UTF-8 as a whole.
  if (message_opcode_ == WsOpcode::kText && !utf8_.complete())
    return fail(kWsInvalidPayload, "text message ends inside a UTF-8 sequence");
  ev.kind = WsEvent::Kind::kMessage;
  ev.opcode = message_opcode_;
  ev.payload = std::move(message_);
  message_.clear();
  in_message_ = false;
  return ev;
}

}  // namespace chiron::net::detail
