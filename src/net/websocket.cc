// SharedFrame and the opening-handshake key (RFC 6455 §4.2.2, §5.2).

#include "net/websocket.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "net/websocket_frame.h"

namespace chiron::net {

namespace {

std::shared_ptr<const std::string> encode_shared(WsOpcode opcode, std::string_view payload) {
  auto bytes = std::make_shared<std::string>();
  detail::encode_ws_frame(*bytes, opcode, payload);
  return bytes;
}

}  // namespace

SharedFrame SharedFrame::text(std::string_view payload) { return SharedFrame(encode_shared(WsOpcode::kText, payload)); }
SharedFrame SharedFrame::binary(std::string_view payload) {
  return SharedFrame(encode_shared(WsOpcode::kBinary, payload));
}
SharedFrame SharedFrame::close(uint16_t code, std::string_view reason) {
  return SharedFrame(encode_shared(WsOpcode::kClose, detail::ws_close_payload(code, reason)));
}
// Control frames carry at most 125 bytes (RFC 6455 §5.5); longer payloads are truncated.
SharedFrame SharedFrame::ping(std::string_view payload) {
  return SharedFrame(encode_shared(WsOpcode::kPing, payload.substr(0, 125)));
}
SharedFrame SharedFrame::pong(std::string_view payload) {
  return SharedFrame(encode_shared(WsOpcode::kPong, payload.substr(0, 125)));
}

std::string websocket_accept_key(std::string_view client_key) {
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input;
  input.reserve(client_key.size() + kGuid.size());
  input.append(client_key).append(kGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  // 20 bytes → 28 base64 characters + NUL.
  unsigned char out[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int n = EVP_EncodeBlock(out, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

}  // namespace chiron::net
