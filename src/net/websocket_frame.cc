// RFC 6455 frame encoding and incremental parsing. See websocket_frame.h.

#include "net/websocket_frame.h"

#include <cstring>

#include "common/strings.h"

namespace chiron::net::detail {

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
  for (size_t i = 0; i < payload.size(); ++i) out[start + i] = static_cast<char>(out[start + i] ^ (*mask)[i & 3]);
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

}  // namespace chiron::net::detail
