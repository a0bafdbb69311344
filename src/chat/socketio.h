#pragma once
// DESIGN — Socket.IO v4 packet codec for the WebSocket transport (no I/O).
//
// Implements the text forms of Engine.IO protocol 4 (socketio/engine.io-protocol README) and
// Socket.IO protocol 5 (socketio/socket.io-protocol Readme) that travel in WebSocket TEXT frames:
// one Engine.IO packet per frame, a Socket.IO packet inside each Engine.IO `4` (message):
//
//   <eio type>[<sio type>[<nsp>,][<ack id>][<JSON>]]        e.g. 4212["new message",{"text":"hi"}]
//
// parse_client_frame() accepts only what a client may legally send (socket.io-client's encoder:
// `40`, `40{auth}`, `41`, `42[...]`, `42<id>[...]`, `43<id>[...]`, plus `/nsp,` for namespaces)
// and is strict: anything else is an error the caller answers by closing the connection.
// Binary attachments (types 5/6, and base64 `b` frames) are refused with a distinct code because
// this server does not implement them. Foreign namespaces are parsed and reported, not refused, so
// the server can reply with the protocol's own `44/<nsp>,{"message":"Invalid namespace"}`.
// The encoders build the exact frames the server sends; JSON goes through boost::json::serialize,
// so strings are always escaped. Broadcasts encode once and share the bytes.
//
// Threading: pure functions over values; thread-safe.

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"

namespace chiron::chat {

// Engine.IO v4 packet types: the first character of every frame.
enum class EioType : char {
  kOpen = '0',
  kClose = '1',
  kPing = '2',
  kPong = '3',
  kMessage = '4',
  kUpgrade = '5',
  kNoop = '6',
};

// Socket.IO v5 packet types: the first character after the Engine.IO `4`.
enum class SioType : uint8_t {
  kConnect = 0,
  kDisconnect = 1,
  kEvent = 2,
  kAck = 3,
  kConnectError = 4,
  kBinaryEvent = 5,
  kBinaryAck = 6,
};

// Ack ids are JavaScript numbers on the client, so they stay exact only up to 2^53 - 1.
inline constexpr uint64_t kMaxAckId = (uint64_t{1} << 53) - 1;
inline constexpr std::string_view kDefaultNamespace = "/";

struct ParseLimits {
  size_t max_frame_bytes = 1'000'000;  // the maxPayload announced in the open packet
  uint32_t max_json_depth = 32;        // nesting of arrays/objects in the payload
  size_t max_event_name_bytes = 256;
  size_t max_namespace_bytes = 128;    // including the leading '/'
};

// One Socket.IO packet as sent by a client.
struct SioPacket {
  SioType type = SioType::kConnect;
  std::string nsp = std::string(kDefaultNamespace);
  std::optional<uint64_t> ack_id;  // EVENT: the client wants an ACK with this id; ACK: always set
  // CONNECT: absent or an object (the auth payload); EVENT: non-empty array starting with the
  // event name; ACK: an array; DISCONNECT: absent.
  std::optional<boost::json::value> data;

  bool default_namespace() const { return nsp == kDefaultNamespace; }
};

// One client WebSocket text frame.
struct ClientPacket {
  EioType eio = EioType::kNoop;
  std::string eio_data;  // kPing/kPong: "" or "probe"; empty otherwise
  SioPacket sio;         // meaningful only when eio == kMessage
};

// Parses one text frame from a client.
// Errors: kInvalidArgument (malformed; short reason in the message), kUnimplemented (binary
// attachments: Socket.IO types 5/6 or an Engine.IO base64 `b` frame), kResourceExhausted (frame
// longer than limits.max_frame_bytes). Every error means: close the connection.
// Foreign namespaces are returned (see SioPacket::default_namespace()); the server decides.
Result<ClientPacket> parse_client_frame(std::string_view text, const ParseLimits& limits = {});

// A parsed EVENT seen as name + arguments; borrows from the packet, which must outlive it.
struct EventView {
  std::string_view name;
  std::span<const boost::json::value> args;
};
// The event of a kMessage/kEvent packet as returned by parse_client_frame; nullopt otherwise.
std::optional<EventView> event_view(const ClientPacket& packet);
std::optional<EventView> event_view(const ClientPacket&& packet) = delete;  // would dangle

// ---- Encoders: the exact text of one frame. ----

// Engine.IO open, the first frame on a new connection (Engine.IO v4 "handshake"); upgrades is
// always [] because only the WebSocket transport is served.
std::string eio_open(std::string_view sid, uint32_t ping_interval_ms, uint32_t ping_timeout_ms,
                     uint64_t max_payload_bytes);
std::string eio_ping();                              // "2": the v4 server-initiated heartbeat
std::string eio_pong(std::string_view data = {});    // "3" or "3probe"
std::string eio_noop();                              // "6"

std::string sio_connect_ok(std::string_view sid);  // 40{"sid":"..."}
// 44{"message":"..."} for the default namespace, 44/<nsp>,{"message":"..."} otherwise.
// nsp must be "/" or a namespace returned by parse_client_frame (so it is safe to echo).
std::string sio_connect_error(std::string_view nsp, std::string_view message);
std::string sio_disconnect();  // 41: the server disconnects the default namespace
// 42["event",args...]
std::string sio_event(std::string_view event, const boost::json::array& args);
// 42["event",a0,a1,...] where each element of serialized_args is one complete JSON value
// (e.g. a message object serialized once for a broadcast). The caller guarantees validity.
std::string sio_event_serialized(std::string_view event, std::span<const std::string_view> serialized_args);
std::string sio_ack(uint64_t id, const boost::json::array& args);  // 43<id>[args...]

// The client-side encoding of a packet (socket.io-client's format): used by load generators and
// tests, and by the fuzz target to check that parse → encode → parse is the identity.
std::string encode_client_packet(const ClientPacket& packet);

}  // namespace chiron::chat
