#pragma once
// DESIGN — ChatServer: the paper's live chat ("new user" joins a room, "new message" is
// broadcast to it) over Socket.IO v4's WebSocket transport, so the official socket.io-client
// (transports: ["websocket"]) talks to it unchanged. The event protocol (identity, presence,
// history, moderation) is documented in docs/protocols.md and summarised below.
//
// Sessions: one per WebSocket, kept as the socket's handler state and confined to its net
// thread (handlers and the session's Engine.IO ping timer run there). Open → `0{open}`; the
// client's `40` CONNECT → `40{"sid"}`; every ping_interval the server sends `2` and the client
// must answer `3` within ping_timeout, or the socket is closed. Malformed frames, binary
// attachments and foreign namespaces get the protocol's answer and the socket is closed.
// Identity: CONNECT `{"token":JWT}` (token.h) → the token's user, name, post right and moderated
// rooms; a bad token (or any token while ChatOptions::secret is empty) gets `44{"message"}` and
// the socket stays unconnected; no token → read-only "anon-<sid>" (posting with anonymous_post).
//
// Bus: every room event goes through the Bus (bus.h) and comes back through the sink, this
// edge's own included, so one process and several sharing Redis take the same path.
//   - sequenced (publish): "message" (a chat message) and "delete" (a tombstone). The member-
//     facing body is built without seq; on delivery the bus's seq is spliced in, the event is
//     encoded ONCE (one SharedFrame), kept in the room's history ring, and under the room lock
//     one task per net thread with members is posted, so every client sees one order. The
//     poster's ack {ok, seq} comes from publish's done (any thread; send_text is thread-safe).
//   - signals: "presence" {edge, users[, hello]} (each edge's full local user list: on change,
//     coalesced per presence_interval_ms, every 10 s, and with hello when it subscribes, which
//     makes the other edges answer at once); "ban"/"mute"/"slow" with state keys "ban:<user>",
//     "mute:<user>", "slow" and a ttl, so an edge subscribing later learns them (replayed).
//   - subscribe when a room's local socket count goes 0 → 1, unsubscribe at 1 → 0, under the
//     room lock; publish/signal are never called with the lock held (they may deliver inline).
//   - seq discontinuities, a new epoch and sink.gap clear the ring and tell members "gap".
// Rooms (RoomHistory, RoomPresence, RoomModeration hold the pure state) live in one map under
// rooms_mu_. With history on, an emptied room keeps its ring and last seq (a lone client that
// reconnects recovers); with moderation state it is kept too (a banned user cannot rejoin before
// the bus replays the ban); at most kMaxIdleRooms such rooms are kept.
// A socket's queued frames leave in one gathered write per loop turn; a socket over its
// send-queue cap is closed (1008) instead of growing memory.
//
// Events (client → server; every one acks, errors as [{"ok":false,"error":"..."}]):
//   "new user", room [, {epoch, seq}]   join (+ recovery: missed events are sent before the ack);
//                                       ack {ok, room, epoch, seq, members, users, recovered?,
//                                       you: {user, name, anonymous, can_post, moderator}}
//   "leave", room                       ack {ok, room}
//   "new message", {room?, ...}         to payload.room or every joined room; ack {ok, seq}
//   "delete message", {room, seq}       moderators, or the author while remembered; ack {ok, seq}
//   "ban" / "mute", {room, user, seconds, reason?}   moderators; 0 lifts; ack {ok, until}
//   "slow mode", {room, seconds}        moderators; ack {ok, seconds}
//   "members", room                     ack {ok, room, count, users}
// Server → client: "new message" {...payload, room, ts, user, name, seq}, "message deleted"
// {room, seq, target, by}, "presence" {room, count, joined, left}, "moderation" {room, action,
// user?, until?, seconds?, by}, "banned" {room, until, reason}, "gap" {room, epoch, reason}.
//
// Thread-safe: handlers() may be installed on a multi-threaded HttpServer.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/json/object.hpp>

#include "chat/bus.h"
#include "chat/room_history.h"
#include "chat/room_moderation.h"
#include "chat/room_presence.h"
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
  uint64_t deliveries = 0;    // room frames enqueued to members (messages, tombstones, presence, ...)
  uint64_t rejected = 0;      // refused posts (rate, size, read-only, mute, slow mode)
  uint64_t protocol_errors = 0;
  size_t rooms = 0;
};

class ChatServer : public std::enable_shared_from_this<ChatServer> {
 public:
  static constexpr size_t kMaxIdleRooms = 4096;    // emptied rooms kept for history/moderation
  static constexpr size_t kMaxListedUsers = 200;   // users in acks and presence events
  static constexpr int64_t kPresenceRefreshMs = 10000;

  // contexts: the HttpServer's net contexts (sessions live on them).
  // bus: how room events reach the edges (bus.h); null = a LocalBus on contexts[0].
  static std::shared_ptr<ChatServer> create(std::vector<boost::asio::io_context*> contexts, ChatOptions options,
                                            std::shared_ptr<Bus> bus = nullptr);
  ~ChatServer();

  // The route: router.websocket("/socket.io/", chat->handlers(), chat->ws_options()).
  net::WsHandlers handlers();
  net::WsOptions ws_options() const;
  // Closes every socket (1001) and stops the bus. Idempotent.
  void stop();
  ChatStats stats() const;

  // Platform hooks.
  // A message from the server itself into `room` (e.g. a new line comment): the payload plus
  // room, ts, user "system", name "Chiron", system:true, sequenced like any member's message
  // (every edge, history, one order). Thread-safe; never blocks.
  void post_system(const std::string& room, boost::json::object payload);
  // Called for every accepted member message, once per target room, on the poster's net thread
  // (must not block). Set before the server takes sockets.
  void set_message_observer(std::function<void(const std::string& room)> fn) { message_observer_ = std::move(fn); }

  struct Session;  // chat_server.cc

 private:
  struct Room {
    explicit Room(size_t history_size) : history(history_size) {}
    size_t count = 0;  // local sockets
    // Members per net thread; replaced (never mutated) on join/leave so a broadcast can take
    // a snapshot with one reference count per thread.
    std::vector<std::shared_ptr<const std::vector<net::WebSocketPtr>>> members;
    RoomHistory history;
    RoomPresence presence;
    RoomModeration moderation;
    bool presence_changed = false;  // the merged set may differ from what members were told
    bool local_changed = false;     // this edge's list changed since it last signalled it
    bool hello = false;             // next signal says hello (just (re)subscribed)
    int64_t signalled_ms = 0;       // steady ms of this edge's last presence signal
  };
  // A presence signal to send once the room lock is released.
  struct PendingSignal {
    std::string room;
    std::string body;
  };

  ChatServer(std::vector<boost::asio::io_context*> contexts, ChatOptions options, std::shared_ptr<Bus> bus);
  size_t thread_index() const;  // which of contexts_ runs the calling thread
  void on_open(const net::WebSocketPtr& ws, const net::Request& req);
  void on_message(const net::WebSocketPtr& ws, net::WsMessage&& msg);
  void on_close(const net::WebSocketPtr& ws);
  void on_connect(const net::WebSocketPtr& ws, Session& s, const SioPacket& sio);
  void arm_ping(const net::WebSocketPtr& ws, Session& s);
  void handle_event(const net::WebSocketPtr& ws, Session& s, const ClientPacket& packet, std::string_view frame);
  void handle_join(const net::WebSocketPtr& ws, Session& s, const EventView& ev, std::optional<uint64_t> ack_id);
  void handle_post(const net::WebSocketPtr& ws, Session& s, const EventView& ev, std::optional<uint64_t> ack_id,
                   std::string_view frame);
  void handle_moderation(const net::WebSocketPtr& ws, Session& s, const EventView& ev,
                         std::optional<uint64_t> ack_id);
  void handle_delete(const net::WebSocketPtr& ws, Session& s, const EventView& ev, std::optional<uint64_t> ack_id);
  // The done callback of `publishes` publishes: acks {ok, seq} once all are done.
  static std::function<void(Result<uint64_t>)> make_acker(const net::WebSocketPtr& ws, std::optional<uint64_t> ack_id,
                                                           size_t publishes);
  // Removes ws from the room; returns the presence signal to send (after unlocking) when this
  // edge no longer has members there.
  std::optional<PendingSignal> leave_locked(const std::string& room, const net::WebSocketPtr& ws, size_t thread,
                                            const std::string& user);
  void leave(const std::string& room, const net::WebSocketPtr& ws, size_t thread, const std::string& user);
  // Removes the room if it is empty and worth nothing; call under rooms_mu_.
  void maybe_drop_locked(std::unordered_map<std::string, Room>::iterator it);
  // The member-facing body of a message, without seq (the bus assigns it).
  // raw: the client's object text when it can be spliced as is (see chat_server.cc).
  std::string message_body(const std::string& room, const boost::json::object& payload, std::string_view raw,
                           const std::string& user, const std::string& name) const;
  // BusSink callbacks.
  void on_bus_event(const BusEvent& ev);
  void on_bus_gap(const std::vector<std::string>& rooms);
  void on_sequenced(const BusEvent& ev);
  void on_presence(const BusEvent& ev);
  void on_moderation(const BusEvent& ev);
  // One delivery task per thread with members; call under rooms_mu_.
  void post_to_members(const Room& r, const net::SharedFrame& frame);
  // Removes `user`'s sockets from the room on their threads and tells them "banned".
  void kick_locked(const Room& r, const std::string& room, const std::string& user, const std::string& event_body);
  // Presence: the coalescing tick (on contexts_[0]) and an immediate signal of this edge's list.
  void arm_presence_tick();
  void presence_tick();
  void signal_presence_now(const std::string& room);
  void send_signals(std::vector<PendingSignal> signals);

  const std::vector<boost::asio::io_context*> contexts_;
  const ChatOptions options_;
  const std::shared_ptr<Bus> bus_;
  const bool bus_local_;  // LocalBus: nothing can happen in a room while this edge is unsubscribed
  struct Timer;                           // an asio::steady_timer (chat_server.cc)
  std::unique_ptr<Timer> presence_timer_;  // on contexts_[0]
  mutable std::mutex rooms_mu_;
  std::unordered_map<std::string, Room> rooms_;  // Guarded by rooms_mu_
  mutable std::mutex sockets_mu_;
  std::unordered_map<uint64_t, net::WebSocketPtr> sockets_;  // Guarded by sockets_mu_
  std::function<void(const std::string& room)> message_observer_;
  std::atomic<bool> stopped_{false};
  std::atomic<uint64_t> messages_in_{0};
  std::atomic<uint64_t> deliveries_{0};
  std::atomic<uint64_t> rejected_{0};
  std::atomic<uint64_t> protocol_errors_{0};
};

}  // namespace chiron::chat
