#pragma once
// WebSocket connections (RFC 6455) for every service that pushes to browsers.
//
// Server-to-client frames are never masked (RFC 6455 §5.1), so one encoded
// frame is byte-identical for every receiver: SharedFrame encodes a message
// once and WebSocket::send(SharedFrame) queues the same immutable buffer on
// any number of sockets (chat rooms, dashboards). Frames queued on one socket
// during one loop turn go out in one gathered write.
//
// Each connection has a send-queue cap in bytes; a consumer that does not
// read is closed with 1008 "send queue overflow" instead of growing memory.
// Threading: a WebSocket is confined to the net-pipeline thread that owns its
// socket; send()/close() may be called from any thread (they post to it).
// Lifetime: shared_ptr, because the connection lives as long as its pending
// asynchronous operations, not as long as any one owner.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "net/http_message.h"

namespace chiron::net {

enum class WsOpcode : uint8_t { kContinuation = 0, kText = 1, kBinary = 2, kClose = 8, kPing = 9, kPong = 10 };

// Close codes used by Chiron (RFC 6455 §7.4.1).
inline constexpr uint16_t kWsNormalClosure = 1000;
inline constexpr uint16_t kWsGoingAway = 1001;
inline constexpr uint16_t kWsProtocolError = 1002;
inline constexpr uint16_t kWsInvalidPayload = 1007;  // e.g. text that is not UTF-8
inline constexpr uint16_t kWsPolicyViolation = 1008;  // e.g. send queue overflow
inline constexpr uint16_t kWsMessageTooBig = 1009;
inline constexpr uint16_t kWsInternalError = 1011;

// An immutable, fully encoded server-to-client frame. Cheap to copy.
class SharedFrame {
 public:
  SharedFrame() = default;
  static SharedFrame text(std::string_view payload);
  static SharedFrame binary(std::string_view payload);
  static SharedFrame close(uint16_t code, std::string_view reason);
  static SharedFrame ping(std::string_view payload);
  static SharedFrame pong(std::string_view payload);

  std::string_view bytes() const { return bytes_ ? std::string_view(*bytes_) : std::string_view(); }
  size_t size() const { return bytes_ ? bytes_->size() : 0; }
  bool empty() const { return !bytes_; }

 private:
  explicit SharedFrame(std::shared_ptr<const std::string> b) : bytes_(std::move(b)) {}
  std::shared_ptr<const std::string> bytes_;
};

struct WsMessage {
  WsOpcode opcode = WsOpcode::kText;  // kText or kBinary (fragments are reassembled)
  std::string payload;
};

struct WsOptions {
  size_t max_message_bytes = 1 << 20;      // larger messages close with 1009
  size_t max_send_queue_bytes = 8 << 20;   // queued-but-unsent bytes before 1008
  uint32_t ping_interval_ms = 25000;       // 0 disables server pings
  uint32_t idle_timeout_ms = 60000;        // no frame at all for this long → close
};

class WebSocket {
 public:
  virtual ~WebSocket() = default;
  // Queue a pre-encoded frame. Thread-safe. Returns false if the socket is closing.
  virtual bool send(SharedFrame frame) = 0;
  // Encode and queue one text message. Thread-safe.
  virtual bool send_text(std::string_view payload) = 0;
  // Start the closing handshake. Thread-safe; idempotent.
  virtual void close(uint16_t code, std::string_view reason) = 0;
  virtual uint64_t id() const = 0;
  virtual const std::string& remote_address() const = 0;
  // Bytes queued and not yet written (for metrics and tests).
  virtual size_t queued_bytes() const = 0;

  // State the route's handlers keep per connection (e.g. a chat session): set it in on_open,
  // read it in on_message/on_close. Handlers run on the connection's own thread, one at a time,
  // so no lock is needed; other threads must not touch it.
  void set_handler_state(std::shared_ptr<void> state) { handler_state_ = std::move(state); }
  template <class T>
  T* handler_state() const {
    return static_cast<T*>(handler_state_.get());
  }

 private:
  std::shared_ptr<void> handler_state_;
};
using WebSocketPtr = std::shared_ptr<WebSocket>;

// Callbacks run on the connection's own thread, never concurrently for one connection.
struct WsHandlers {
  // Runs on the handshake request before 101 is sent (after it was validated): return a
  // Response (e.g. 401) to refuse the upgrade with it, nullopt to accept. Optional.
  std::function<std::optional<Response>(const Request&)> on_handshake;
  std::function<void(const WebSocketPtr&, const Request&)> on_open;
  std::function<void(const WebSocketPtr&, WsMessage&&)> on_message;
  std::function<void(const WebSocketPtr&, uint16_t code, std::string_view reason)> on_close;
};

// RFC 6455 §4.2.2: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string websocket_accept_key(std::string_view client_key);

}  // namespace chiron::net
