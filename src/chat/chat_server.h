#pragma once
// DESIGN — ChatServer: the paper's live chat ("new user" joins a room, "new message" is
// broadcast to it) over Socket.IO v4's WebSocket transport, so the official socket.io-client
// (transports: ["websocket"]) talks to it unchanged.
//
// Sessions: one per WebSocket, kept as the socket's handler state and confined to its net
// thread (handlers and the session's Engine.IO ping timer run there). Open → `0{open}`; the
// client's `40` CONNECT → `40{"sid"}`; every ping_interval the server sends `2` and the client
// must answer `3` within ping_timeout, or the socket is closed. Malformed frames, binary
// attachments and foreign namespaces get the protocol's answer and the socket is closed.
//
// Rooms and fan-out: a room holds its members per net thread as copy-on-write vectors. A
// `new message` gets the room's next `seq` and is encoded ONCE (one SharedFrame); under the
// room lock one task per thread with members is posted, so every thread — and so every client —
// sees a room's messages in seq order. On its thread the task enqueues the same bytes on each
// member (an inline enqueue); a socket's queued frames leave in one gathered write per loop turn,
// and a socket over its send-queue cap is closed (1008) instead of growing memory.
//
// Events (client → server):
//   "new user", room            join room; ack [{"ok":true,"room":r,"members":n}]
//   "leave", room               leave room; ack [{"ok":true}]
//   "new message", {room?,...}  broadcast to payload.room, or to every room the sender joined;
//                               members get 42["new message",{...payload, seq, ts, user}];
//                               ack [{"ok":true,"seq":n}] or [{"ok":false,"error":"..."}]
// Posting needs a signed-in session; with ChatOptions::anonymous_post (serve --chat-anonymous,
// the paper's harness) anonymous sockets post too, otherwise they only read.
//
// Thread-safe: handlers() may be installed on a multi-threaded HttpServer.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/json/object.hpp>

#include "chat/bus.h"
#include "chat/socketio.h"
#include "net/net.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace chiron::chat {

struct ChatOptions {
  bool anonymous_post = false;
  std::string secret;                     // HS256 key of chat tokens (token.h); empty: tokens refused
  size_t history_size = 0;                // per-room ring of recent events; 0 = off, as in the paper
  uint32_t presence_interval_ms = 250;    // join/leave announcements are coalesced over this
  uint32_t ping_interval_ms = 25000;
  uint32_t ping_timeout_ms = 20000;
  size_t max_frame_bytes = 64 << 10;      // announced as maxPayload; larger frames close (1009)
  size_t max_text_bytes = 4096;           // a message's "text" field
  size_t max_send_queue_bytes = 1 << 20;  // per socket; beyond it the socket is cut off
  double rate_per_s = 20;                 // token bucket per socket for "new message"
  double burst = 40;
};

struct ChatStats {
  uint64_t connections = 0;   // open sockets
  uint64_t messages_in = 0;   // accepted "new message" events
  uint64_t deliveries = 0;    // frames enqueued to members
  uint64_t rejected = 0;      // refused posts (rate, size, read-only)
  uint64_t protocol_errors = 0;
  size_t rooms = 0;
};

class ChatServer : public std::enable_shared_from_this<ChatServer> {
 public:
  // contexts: the HttpServer's net contexts (sessions live on them).
  // bus: how room events reach the edges (bus.h); null = a LocalBus on contexts[0].
  static std::shared_ptr<ChatServer> create(std::vector<boost::asio::io_context*> contexts, ChatOptions options,
                                            std::shared_ptr<Bus> bus = nullptr);

  // The route: router.websocket("/socket.io/", chat->handlers(), chat->ws_options()).
  net::WsHandlers handlers();
  net::WsOptions ws_options() const;
  // Closes every socket (1001). Idempotent.
  void stop();
  ChatStats stats() const;

  struct Session;  // chat_server.cc

 private:
  struct Room {
    std::string epoch;  // of the last event the bus delivered
    uint64_t seq = 0;
    size_t count = 0;
    // Members per net thread; replaced (never mutated) on join/leave so a broadcast can take
    // a snapshot with one reference count per thread.
    std::vector<std::shared_ptr<const std::vector<net::WebSocketPtr>>> members;
  };

  ChatServer(std::vector<boost::asio::io_context*> contexts, ChatOptions options, std::shared_ptr<Bus> bus);
  size_t thread_index() const;  // which of contexts_ runs the calling thread
  void on_open(const net::WebSocketPtr& ws, const net::Request& req);
  void on_message(const net::WebSocketPtr& ws, net::WsMessage&& msg);
  void on_close(const net::WebSocketPtr& ws);
  void arm_ping(const net::WebSocketPtr& ws, Session& s);
  size_t join(const std::string& room, const net::WebSocketPtr& ws, size_t thread);
  void leave(const std::string& room, const net::WebSocketPtr& ws, size_t thread);
  void handle_event(const net::WebSocketPtr& ws, Session& s, const ClientPacket& packet, std::string_view frame);
  // The member-facing body of a message, without seq (the bus assigns it).
  // raw: the client's object text when it can be spliced as is (see chat_server.cc).
  std::string message_body(const std::string& room, boost::json::object payload, std::string_view raw,
                           const std::string& user, const std::string& name) const;
  // BusSink callbacks.
  void on_bus_event(const BusEvent& ev);
  void on_bus_gap(const std::vector<std::string>& rooms);
  // One delivery task per thread with members; call under rooms_mu_.
  void post_to_members(const Room& r, const net::SharedFrame& frame);

  const std::vector<boost::asio::io_context*> contexts_;
  const ChatOptions options_;
  const std::shared_ptr<Bus> bus_;
  mutable std::mutex rooms_mu_;
  std::unordered_map<std::string, Room> rooms_;  // Guarded by rooms_mu_
  mutable std::mutex sockets_mu_;
  std::unordered_map<uint64_t, net::WebSocketPtr> sockets_;  // Guarded by sockets_mu_
  std::atomic<bool> stopped_{false};
  std::atomic<uint64_t> messages_in_{0};
  std::atomic<uint64_t> deliveries_{0};
  std::atomic<uint64_t> rejected_{0};
  std::atomic<uint64_t> protocol_errors_{0};
};

}  // namespace chiron::chat
