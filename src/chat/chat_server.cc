#include "chat/chat_server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <algorithm>
#include <chrono>
#include <ctime>

#include "common/clock.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/strings.h"
#include "chat/chat_session.h"
#include "chat/token.h"

namespace chiron::chat {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr size_t kMaxRoomsPerSocket = 64;
constexpr uint64_t kMaxModerationSeconds = 366ull * 24 * 3600;
constexpr int64_t kSlowStateTtlMs = 30ll * 24 * 3600 * 1000;
constexpr int64_t kLiftStateTtlMs = 60000;
constexpr std::string_view kBadRoom = "room name must be a non-empty string of at most 128 bytes";

json::array ack_error(std::string_view why) {
  json::object o;
  o["ok"] = false;
  o["error"] = why;
  return json::array{std::move(o)};
}

// The text of the message object in a frame exactly as socket.io-client's JSON.stringify writes
// it: 42[<ack id>]["new message",{...}]. Empty when the frame has any other shape (whitespace,
// more arguments), in which case the caller re-serializes the parsed object instead. The frame
// was already parsed successfully, so the slice is the object's complete JSON text.
std::string_view client_object_text(std::string_view frame) {
  constexpr std::string_view kHead = "[\"new message\",";
  if (frame.size() < 2 || frame.substr(0, 2) != "42") return {};
  size_t i = 2;
  while (i < frame.size() && frame[i] >= '0' && frame[i] <= '9') ++i;
  if (frame.substr(i, kHead.size()) != kHead) return {};
  std::string_view obj = frame.substr(i + kHead.size());
  if (obj.size() < 3 || obj.back() != ']' || obj.front() != '{') return {};
  obj.remove_suffix(1);
  if (obj.back() != '}') return {};
  return obj;
}

}  // namespace

// Shared with chat_bus_side.cc (declared in chat_session.h).

int64_t steady_ms() { return Clock::system().steady_us() / 1000; }

std::optional<std::string> room_arg(const json::value* v) {
  if (v == nullptr || !v->is_string() || v->as_string().empty() || v->as_string().size() > 128) return std::nullopt;
  return std::string(v->as_string());
}

std::optional<uint64_t> uint_arg(const json::value& v) {
  if (v.is_uint64()) return v.as_uint64();
  if (v.is_int64() && v.as_int64() >= 0) return static_cast<uint64_t>(v.as_int64());
  if (v.is_double() && v.as_double() >= 0 && v.as_double() < 9e15 &&
      v.as_double() == static_cast<double>(static_cast<uint64_t>(v.as_double())))
    return static_cast<uint64_t>(v.as_double());
  return std::nullopt;
}

json::array users_json(const std::vector<ChatUser>& users) {
  json::array a;
  for (const ChatUser& u : users) a.push_back(json::object{{"user", u.user}, {"name", u.name}});
  return a;
}

net::SharedFrame gap_frame(const std::string& room, const std::string& epoch, std::string_view reason) {
  json::object o;
  o["room"] = room;
  o["epoch"] = epoch;
  o["reason"] = reason;
  return net::SharedFrame::text(sio_event("gap", json::array{std::move(o)}));
}

std::shared_ptr<ChatServer> ChatServer::create(std::vector<asio::io_context*> contexts, ChatOptions options,
                                              std::shared_ptr<Bus> bus) {
  if (!bus) bus = make_local_bus(*contexts.at(0));
  auto server = std::shared_ptr<ChatServer>(new ChatServer(std::move(contexts), std::move(options), std::move(bus)));
  std::weak_ptr<ChatServer> weak = server;
  BusSink sink;
  sink.deliver = [weak](const BusEvent& ev) {
    if (auto self = weak.lock()) self->on_bus_event(ev);
  };
  sink.gap = [weak](const std::vector<std::string>& rooms) {
    if (auto self = weak.lock()) self->on_bus_gap(rooms);
  };
  server->bus_->start(std::move(sink));
  server->presence_timer_ = std::make_unique<Timer>(*server->contexts_[0]);
  server->arm_presence_tick();
  return server;
}

ChatServer::~ChatServer() = default;

ChatServer::ChatServer(std::vector<asio::io_context*> contexts, ChatOptions options, std::shared_ptr<Bus> bus)
    : contexts_(std::move(contexts)),
      options_(std::move(options)),
      bus_(std::move(bus)),
      bus_local_(bus_->describe() == "local") {}

size_t ChatServer::thread_index() const {
  for (size_t i = 0; i < contexts_.size(); ++i)
    if (contexts_[i]->get_executor().running_in_this_thread()) return i;
  CHIRON_CHECK(false, "chat handler ran outside the server's net threads");
  return 0;
}

net::WsOptions ChatServer::ws_options() const {
  net::WsOptions o;
  o.max_message_bytes = options_.max_frame_bytes;
  o.max_send_queue_bytes = options_.max_send_queue_bytes;
  o.ping_interval_ms = 0;  // Engine.IO has its own heartbeat (server "2", client "3")
  o.idle_timeout_ms = options_.ping_interval_ms + options_.ping_timeout_ms + 5000;
  return o;
}

net::WsHandlers ChatServer::handlers() {
  std::weak_ptr<ChatServer> weak = weak_from_this();
  net::WsHandlers h;
  // Engine.IO: the WebSocket transport of protocol 4 only (HTTP 400 with its error codes).
  h.on_handshake = [](const net::Request& req) -> std::optional<net::Response> {
    if (req.query_param("EIO").value_or("") != "4")
      return net::Response::json(400, R"({"code":5,"message":"Unsupported protocol version"})");
    if (req.query_param("transport").value_or("") != "websocket")
      return net::Response::json(400, R"({"code":0,"message":"Transport unknown"})");
    return std::nullopt;
  };
  h.on_open = [weak](const net::WebSocketPtr& ws, const net::Request& req) {
    if (auto self = weak.lock()) self->on_open(ws, req);
  };
  h.on_message = [weak](const net::WebSocketPtr& ws, net::WsMessage&& msg) {
    if (auto self = weak.lock()) self->on_message(ws, std::move(msg));
  };
  h.on_close = [weak](const net::WebSocketPtr& ws, uint16_t, std::string_view) {
    if (auto self = weak.lock()) self->on_close(ws);
  };
  return h;
}

void ChatServer::on_open(const net::WebSocketPtr& ws, const net::Request&) {
  if (stopped_.load()) return ws->close(net::kWsGoingAway, "server shutting down");
  auto s = std::make_shared<Session>();
  s->sid = random_token(20);
  s->thread = thread_index();
  s->tokens = options_.burst;
  s->refilled_us = Clock::system().steady_us();
  s->ping_timer = std::make_unique<asio::steady_timer>(*contexts_[s->thread]);
  ws->set_handler_state(s);
  {
    std::lock_guard lock(sockets_mu_);
    sockets_.emplace(ws->id(), ws);
  }
  ws->send_text(eio_open(s->sid, options_.ping_interval_ms, options_.ping_timeout_ms, options_.max_frame_bytes));
  arm_ping(ws, *s);
}

void ChatServer::arm_ping(const net::WebSocketPtr& ws, Session& s) {
  s.ping_timer->expires_after(std::chrono::milliseconds(s.awaiting_pong ? options_.ping_timeout_ms
                                                                        : options_.ping_interval_ms));
  std::weak_ptr<net::WebSocket> weak_ws = ws;
  // Weak: a wait still pending when the net threads stop is destroyed with its io_context, and
  // must not be what keeps the server (and its bus) alive until then.
  s.ping_timer->async_wait([weak_ws, weak_self = weak_from_this()](const boost::system::error_code& ec) {
    auto socket = weak_ws.lock();
    auto self = weak_self.lock();
    if (ec || !socket || !self) return;
    Session* session = socket->handler_state<Session>();
    if (session == nullptr || !session->ping_timer) return;  // closed meanwhile
    if (session->awaiting_pong) return socket->close(net::kWsPolicyViolation, "ping timeout");
    session->awaiting_pong = true;
    socket->send_text(eio_ping());
    self->arm_ping(socket, *session);
  });
}

void ChatServer::on_close(const net::WebSocketPtr& ws) {
  Session* s = ws->handler_state<Session>();
  if (s != nullptr) {
    // Destroyed here, on its own thread: the socket (and so the session) may be released
    // later by another thread, e.g. by a broadcast task that still holds it.
    s->ping_timer.reset();
    for (const std::string& room : s->rooms) leave(room, ws, s->thread, s->user);
    s->rooms.clear();
  }
  std::lock_guard lock(sockets_mu_);
  sockets_.erase(ws->id());
}

void ChatServer::on_message(const net::WebSocketPtr& ws, net::WsMessage&& msg) {
  Session* s = ws->handler_state<Session>();
  if (s == nullptr) return;
  if (msg.opcode != net::WsOpcode::kText) {
    ++protocol_errors_;
    return ws->close(net::kWsInvalidPayload, "binary frames are not supported");
  }
  ParseLimits limits;
  limits.max_frame_bytes = options_.max_frame_bytes;
  auto packet = parse_client_frame(msg.payload, limits);
  if (!packet.ok()) {
    ++protocol_errors_;
    log::debug("chat", "malformed packet", {{"sid", s->sid}, {"error", packet.status().message()}});
    const uint16_t code = packet.status().code() == StatusCode::kResourceExhausted ? net::kWsMessageTooBig
                                                                                   : net::kWsProtocolError;
    return ws->close(code, packet.status().message().substr(0, 120));
  }
  switch (packet->eio) {
    case EioType::kPong:
      s->awaiting_pong = false;
      if (!s->ping_timer) return;
      s->ping_timer->cancel();  // the cancelled wait is replaced by a fresh interval
      arm_ping(ws, *s);
      return;
    case EioType::kPing:
      // v4 heartbeats go server → client; "2probe" belongs to a polling upgrade we never offer.
      ++protocol_errors_;
      return ws->close(net::kWsProtocolError, "invalid heartbeat direction");
    case EioType::kClose:
      return ws->close(net::kWsNormalClosure, "client closed");
    case EioType::kNoop:
      return;
    case EioType::kMessage:
      break;
    default:
      ++protocol_errors_;
      return ws->close(net::kWsProtocolError, "unexpected Engine.IO packet");
  }
  const SioPacket& sio = packet->sio;
  if (!sio.default_namespace()) {
    // Only "/" exists: CONNECT gets the protocol's refusal, anything else closes (as Node does).
    if (sio.type == SioType::kConnect) return (void)ws->send_text(sio_connect_error(sio.nsp, "Invalid namespace"));
    ++protocol_errors_;
    return ws->close(net::kWsProtocolError, "packet for a namespace that is not connected");
  }
  switch (sio.type) {
    case SioType::kConnect:
      return on_connect(ws, *s, sio);
    case SioType::kDisconnect:
      return ws->close(net::kWsNormalClosure, "client disconnected");
    case SioType::kEvent:
      if (!s->connected) {
        ++protocol_errors_;
        return ws->close(net::kWsProtocolError, "event before CONNECT");
      }
      return handle_event(ws, *s, *packet, msg.payload);
    default:
      return;  // acks from the client answer nothing we asked
  }
}

void ChatServer::on_connect(const net::WebSocketPtr& ws, Session& s, const SioPacket& sio) {
  if (s.connected) return (void)ws->send_text(sio_connect_ok(s.sid));
  // CONNECT's auth payload: {"token": JWT} (token.h). A refused token leaves the socket open
  // and unconnected, as Socket.IO's middleware errors do; the client may CONNECT again.
  const json::value* token = nullptr;
  if (sio.data && sio.data->is_object()) token = sio.data->as_object().if_contains("token");
  if (token != nullptr && !token->is_null()) {
    if (!token->is_string()) return (void)ws->send_text(sio_connect_error(kDefaultNamespace, "token must be a string"));
    if (options_.secret.empty())
      return (void)ws->send_text(
          sio_connect_error(kDefaultNamespace, "this server accepts no chat tokens (no --chat-secret)"));
    auto claims = verify_chat_token(options_.secret, token->as_string(), Clock::system().unix_ms() / 1000);
    if (!claims.ok()) return (void)ws->send_text(sio_connect_error(kDefaultNamespace, claims.status().message()));
    s.anonymous = false;
    s.user = claims->user;
    s.name = claims->name.empty() ? claims->user : claims->name;
    s.can_post = claims->can_post;
    s.moderates = claims->moderates;
  } else {
    // Anonymous: read-only unless the operator allows anonymous posts (the paper's harness).
    s.anonymous = true;
    s.can_post = options_.anonymous_post;
    s.user = "anon-" + s.sid.substr(0, 6);
    s.name = s.user;
  }
  s.connected = true;
  ws->send_text(sio_connect_ok(s.sid));
}

void ChatServer::handle_event(const net::WebSocketPtr& ws, Session& s, const ClientPacket& packet,
                              std::string_view frame) {
  auto ev = event_view(packet);
  if (!ev) return;
  const std::optional<uint64_t> ack_id = packet.sio.ack_id;
  if (ev->name == "new user") return handle_join(ws, s, *ev, ack_id);
  if (ev->name == "new message") return handle_post(ws, s, *ev, ack_id, frame);
  if (ev->name == "ban" || ev->name == "mute" || ev->name == "slow mode") return handle_moderation(ws, s, *ev, ack_id);
  if (ev->name == "delete message") return handle_delete(ws, s, *ev, ack_id);
  auto reply = [&](json::array args) {
    if (ack_id) ws->send_text(sio_ack(*ack_id, args));
  };
  if (ev->name != "leave" && ev->name != "members") return reply(ack_error("unknown event"));
  auto room = room_arg(ev->args.empty() ? nullptr : &ev->args[0]);
  if (!room) return reply(ack_error(kBadRoom));
  json::object o;
  o["ok"] = true;
  o["room"] = *room;
  if (ev->name == "leave") {
    if (auto it = std::find(s.rooms.begin(), s.rooms.end(), *room); it != s.rooms.end()) {
      s.rooms.erase(it);
      leave(*room, ws, s.thread, s.user);
    }
    return reply(json::array{std::move(o)});
  }
  {
    std::lock_guard lock(rooms_mu_);
    auto it = rooms_.find(*room);
    o["count"] = it == rooms_.end() ? 0 : it->second.presence.count();
    o["users"] = it == rooms_.end() ? json::array() : users_json(it->second.presence.users(kMaxListedUsers));
  }
  reply(json::array{std::move(o)});
}

void ChatServer::handle_join(const net::WebSocketPtr& ws, Session& s, const EventView& ev,
                             std::optional<uint64_t> ack_id) {
  auto reply = [&](json::array args) {
    if (ack_id) ws->send_text(sio_ack(*ack_id, args));
  };
  auto room = room_arg(ev.args.empty() ? nullptr : &ev.args[0]);
  if (!room) return reply(ack_error(kBadRoom));
  // Recovery: {"epoch":E,"seq":N}.
  std::optional<std::pair<std::string, uint64_t>> recover;
  if (ev.args.size() > 1 && !ev.args[1].is_null()) {
    const json::object* r = ev.args[1].if_object();
    const json::value* epoch = r != nullptr ? r->if_contains("epoch") : nullptr;
    const json::value* seq = r != nullptr ? r->if_contains("seq") : nullptr;
    auto n = seq != nullptr ? uint_arg(*seq) : std::nullopt;
    if (epoch == nullptr || !epoch->is_string() || epoch->as_string().size() > 64 || !n)
      return reply(ack_error("recovery is {\"epoch\":string,\"seq\":non-negative integer}"));
    recover.emplace(std::string(epoch->as_string()), *n);
  }
  const bool member = std::find(s.rooms.begin(), s.rooms.end(), *room) != s.rooms.end();
  if (!member && s.rooms.size() >= kMaxRoomsPerSocket) return reply(ack_error("too many rooms"));
  const int64_t now_ms = Clock::system().unix_ms();
  json::object o;
  std::optional<PendingSignal> hello;
  {
    std::lock_guard lock(rooms_mu_);
    auto it = rooms_.try_emplace(*room, options_.history_size).first;
    Room& r = it->second;
    if (auto ban = r.moderation.ban_of(s.user, now_ms)) {
      maybe_drop_locked(it);
      return reply(ack_error("banned until " + format_utc_ms(ban->until_ms)));
    }
    if (!member) {
      if (r.members.empty()) r.members.resize(contexts_.size());
      auto next = std::make_shared<std::vector<net::WebSocketPtr>>();
      if (r.members[s.thread]) *next = *r.members[s.thread];
      next->push_back(ws);
      r.members[s.thread] = std::move(next);
      if (++r.count == 1) {
        bus_->subscribe(*room);  // under the lock: calls stay balanced and ordered (bus.h)
        if (!bus_local_) r.history.resync();
        r.presence = RoomPresence();
        r.signalled_ms = steady_ms();
        r.local_changed = true;  // the tick re-signals soon with whoever joined meanwhile
        r.presence.add_local(ChatUser{s.user, s.name});
        hello = PendingSignal{*room, RoomPresence::body(bus_->edge_id(), r.presence.local_users(), true)};
        r.presence_changed = true;
      } else if (r.presence.add_local(ChatUser{s.user, s.name})) {
        r.local_changed = r.presence_changed = true;
      }
      s.rooms.push_back(*room);
    }
    if (recover) {
      // Sent inline, on this socket's thread, under the room lock: every later event of the
      // room reaches this socket through a task posted after this point, so nothing is missed
      // and nothing is doubled.
      auto missed = r.history.since(recover->first, recover->second);
      if (missed)
        for (const net::SharedFrame& f : *missed) ws->send(f);
      o["recovered"] = missed.has_value();
    }
    o["ok"] = true;
    o["room"] = *room;
    o["epoch"] = r.history.epoch();
    o["seq"] = r.history.last_seq();
    o["members"] = r.presence.count();
    o["users"] = users_json(r.presence.users(kMaxListedUsers));
    // Who the server takes this socket for, so a page need not infer it.
    o["you"] = json::object{{"user", s.user},
                            {"name", s.name},
                            {"anonymous", s.anonymous},
                            {"can_post", s.can_post},
                            {"moderator", s.moderates_room(*room)}};
  }
  if (hello) send_signals({std::move(*hello)});
  reply(json::array{std::move(o)});
}

void ChatServer::handle_post(const net::WebSocketPtr& ws, Session& s, const EventView& ev,
                             std::optional<uint64_t> ack_id, std::string_view frame) {
  auto reply = [&](json::array args) {
    if (ack_id) ws->send_text(sio_ack(*ack_id, args));
  };
  if (!s.can_post) {
    ++rejected_;
    return reply(ack_error(s.anonymous ? "read-only: anonymous viewers cannot post" : "read-only: this token cannot post"));
  }
  if (ev.args.empty() || !ev.args[0].is_object()) {
    ++rejected_;
    return reply(ack_error("a message is an object"));
  }
  const json::object& payload = ev.args[0].as_object();
  if (const json::value* text = payload.if_contains("text");
      text != nullptr && text->is_string() && text->as_string().size() > options_.max_text_bytes) {
    ++rejected_;
    return reply(ack_error("message text too long"));
  }
  // Token bucket: rate_per_s sustained, burst on top.
  const int64_t now = Clock::system().steady_us();
  s.tokens = std::min(options_.burst, s.tokens + options_.rate_per_s * static_cast<double>(now - s.refilled_us) / 1e6);
  s.refilled_us = now;
  if (s.tokens < 1) {
    ++rejected_;
    return reply(ack_error("rate limited"));
  }
  std::vector<std::string> targets;
  if (const json::value* room = payload.if_contains("room"); room != nullptr && room->is_string()) {
    targets.emplace_back(room->as_string());
    if (std::find(s.rooms.begin(), s.rooms.end(), targets[0]) == s.rooms.end()) {
      ++rejected_;
      return reply(ack_error("join the room first (new user)"));
    }
  } else {
    targets = s.rooms;
  }
  if (targets.empty()) return reply(ack_error("not in any room"));
  {
    // Mutes and slow mode, as this edge knows them (bus signals; moderators are exempt from
    // slow mode). All rooms are checked before any is posted to.
    const int64_t now_ms = Clock::system().unix_ms();
    std::lock_guard lock(rooms_mu_);
    for (const std::string& room : targets) {
      auto it = rooms_.find(room);
      if (it == rooms_.end()) continue;
      if (auto until = it->second.moderation.muted_until(s.user, now_ms)) {
        ++rejected_;
        return reply(ack_error("muted in " + room + " until " + format_utc_ms(*until)));
      }
    }
    for (const std::string& room : targets) {
      auto it = rooms_.find(room);
      int64_t wait_ms = 0;
      if (it == rooms_.end() || s.moderates_room(room)) continue;
      if (!it->second.moderation.try_post(s.user, now_ms, &wait_ms)) {
        ++rejected_;
        return reply(ack_error("slow mode: wait " + std::to_string((wait_ms + 999) / 1000) + " s"));
      }
    }
  }
  s.tokens -= 1;
  ++messages_in_;
  const std::string_view raw = ev.args.size() == 1 ? client_object_text(frame) : std::string_view();
  auto acker = make_acker(ws, ack_id, targets.size());
  for (const std::string& room : targets) {
    if (message_observer_) message_observer_(room);
    bus_->publish(room, "message", message_body(room, payload, raw, s.user, s.name), acker);
  }
}

void ChatServer::post_system(const std::string& room, json::object payload) {
  if (stopped_) return;
  payload.erase("seq");
  payload["room"] = room;
  payload["ts"] = Clock::system().unix_ms();
  payload["user"] = "system";
  payload["name"] = "Chiron";
  payload["system"] = true;
  bus_->publish(room, "message", json::serialize(payload), [room](Result<uint64_t> r) {
    if (!r.ok()) log::warn("chat", "system message not delivered", {{"room", room}, {"error", r.status().to_string()}});
  });
}

void ChatServer::handle_delete(const net::WebSocketPtr& ws, Session& s, const EventView& ev,
                               std::optional<uint64_t> ack_id) {
  auto reply = [&](json::array args) {
    if (ack_id) ws->send_text(sio_ack(*ack_id, args));
  };
  const json::object* o = ev.args.empty() ? nullptr : ev.args[0].if_object();
  auto room = room_arg(o != nullptr ? o->if_contains("room") : nullptr);
  auto seq = o != nullptr && o->if_contains("seq") ? uint_arg(o->at("seq")) : std::nullopt;
  if (!room || !seq || *seq == 0) return reply(ack_error("delete message takes {room, seq}"));
  if (!s.moderates_room(*room)) {
    std::optional<std::string> author;
    {
      std::lock_guard lock(rooms_mu_);
      if (auto it = rooms_.find(*room); it != rooms_.end()) author = it->second.history.author(*seq);
    }
    if (s.anonymous || author != s.user)
      return reply(ack_error("only moderators, or the author of a recent message, may delete it"));
  }
  json::object body;
  body["room"] = *room;
  body["target"] = *seq;
  body["by"] = s.user;
  bus_->publish(*room, "delete", json::serialize(body), make_acker(ws, ack_id, 1));
}

void ChatServer::handle_moderation(const net::WebSocketPtr& ws, Session& s, const EventView& ev,
                                   std::optional<uint64_t> ack_id) {
  auto reply = [&](json::array args) {
    if (ack_id) ws->send_text(sio_ack(*ack_id, args));
  };
  const json::object* o = ev.args.empty() ? nullptr : ev.args[0].if_object();
  auto room = room_arg(o != nullptr ? o->if_contains("room") : nullptr);
  if (!room) return reply(ack_error(kBadRoom));
  if (!s.moderates_room(*room)) return reply(ack_error("only moderators of " + *room + " may do that"));
  auto seconds = o->if_contains("seconds") ? uint_arg(o->at("seconds")) : std::nullopt;
  if (!seconds || *seconds > kMaxModerationSeconds)
    return reply(ack_error("seconds must be an integer from 0 to " + std::to_string(kMaxModerationSeconds)));
  json::object body;
  body["by"] = s.user;
  body["seconds"] = *seconds;
  json::object ok;
  ok["ok"] = true;
  if (ev.name == "slow mode") {
    // Slow mode has no end of its own: the state lives until turned off (ttl: a month).
    bus_->signal(*room, "slow", json::serialize(body), "slow", *seconds > 0 ? kSlowStateTtlMs : kLiftStateTtlMs);
    ok["seconds"] = *seconds;
    return reply(json::array{std::move(ok)});
  }
  const json::value* user = o->if_contains("user");
  if (user == nullptr || !user->is_string() || user->as_string().empty() || user->as_string().size() > 64)
    return reply(ack_error("user must be a user id (1..64 bytes)"));
  std::string reason;
  if (const json::value* r = o->if_contains("reason"); r != nullptr && r->is_string())
    reason = std::string(r->as_string().subview().substr(0, 200));
  const int64_t until = *seconds > 0 ? Clock::system().unix_ms() + static_cast<int64_t>(*seconds) * 1000 : 0;
  body["user"] = user->as_string();
  body["until"] = until;
  if (ev.name == "ban") body["reason"] = reason;
  const std::string kind = ev.name == "ban" ? "ban" : "mute";
  // A lift is stored too (briefly) so it replaces the stored ban/mute for late subscribers.
  bus_->signal(*room, kind, json::serialize(body), kind + ":" + std::string(user->as_string()),
               *seconds > 0 ? static_cast<int64_t>(*seconds) * 1000 : kLiftStateTtlMs);
  ok["until"] = until;
  reply(json::array{std::move(ok)});
}

std::function<void(Result<uint64_t>)> ChatServer::make_acker(const net::WebSocketPtr& ws,
                                                             std::optional<uint64_t> ack_id, size_t publishes) {
  // One ack once every publish is done (done may run on any thread; send_text is thread-safe).
  // A multi-room post acks the highest seq, or the first error. No ack asked (the load
  // generators' posts): no callback at all, so a post costs no allocation here.
  if (!ack_id) return {};
  struct Pending {
    std::mutex mu;
    size_t remaining = 0;  // Guarded by mu
    uint64_t seq = 0;      // Guarded by mu
    std::string error;     // Guarded by mu
  };
  auto pending = std::make_shared<Pending>();
  pending->remaining = publishes;
  std::weak_ptr<net::WebSocket> weak_ws = ws;
  return [pending, ack_id, weak_ws](Result<uint64_t> r) {
    std::unique_lock lock(pending->mu);
    if (r.ok()) pending->seq = std::max(pending->seq, *r);
    else if (pending->error.empty()) pending->error = "not delivered: " + r.status().message();
    if (--pending->remaining != 0) return;
    json::array args;
    if (pending->error.empty()) {
      json::object ok;
      ok["ok"] = true;
      ok["seq"] = pending->seq;
      args = json::array{std::move(ok)};
    } else {
      args = ack_error(pending->error);
    }
    lock.unlock();
    auto socket = weak_ws.lock();
    if (socket) socket->send_text(sio_ack(*ack_id, args));
  };
}

std::optional<ChatServer::PendingSignal> ChatServer::leave_locked(const std::string& room, const net::WebSocketPtr& ws,
                                                                  size_t thread, const std::string& user) {
  auto it = rooms_.find(room);
  if (it == rooms_.end() || it->second.members.empty() || !it->second.members[thread]) return std::nullopt;
  Room& r = it->second;
  auto next = std::make_shared<std::vector<net::WebSocketPtr>>(*r.members[thread]);
  const auto before = next->size();
  std::erase(*next, ws);
  if (next->size() == before) return std::nullopt;
  r.members[thread] = std::move(next);
  if (r.presence.remove_local(user)) r.local_changed = r.presence_changed = true;
  if (--r.count > 0) return std::nullopt;
  bus_->unsubscribe(room);
  r.presence = RoomPresence();
  r.presence_changed = r.local_changed = false;
  maybe_drop_locked(it);
  // The other edges drop this edge's list at once instead of after kEdgeTtlMs.
  return PendingSignal{room, RoomPresence::body(bus_->edge_id(), {}, false)};
}

void ChatServer::leave(const std::string& room, const net::WebSocketPtr& ws, size_t thread, const std::string& user) {
  std::optional<PendingSignal> bye;
  {
    std::lock_guard lock(rooms_mu_);
    bye = leave_locked(room, ws, thread, user);
  }
  if (bye) send_signals({std::move(*bye)});
}

void ChatServer::maybe_drop_locked(std::unordered_map<std::string, Room>::iterator it) {
  Room& r = it->second;
  if (r.count > 0) return;
  // The paper's rooms keep nothing once empty; with history (a lone client reconnecting
  // recovers) or moderation state (a banned user cannot rejoin before the replay) they stay.
  if (r.history.capacity() == 0 && r.moderation.empty(Clock::system().unix_ms())) {
    rooms_.erase(it);
    return;
  }
  r.members.clear();
}

std::string ChatServer::message_body(const std::string& room, const json::object& payload, std::string_view raw,
                                     const std::string& user, const std::string& name) const {
  const int64_t ts = Clock::system().unix_ms();
  std::string body;
  const json::value* room_field = payload.if_contains("room");
  // "system" marks the server's own messages (post_system); a member cannot claim it.
  const bool splice = !raw.empty() && !payload.contains("seq") && !payload.contains("ts") && !payload.contains("user") &&
                      !payload.contains("name") && !payload.contains("system") &&
                      (room_field == nullptr || (room_field->is_string() && room_field->as_string() == room));
  if (splice) {
    // The client's own bytes plus ours: the payload reaches members exactly as it was sent
    // (Boost.JSON would re-print numbers, e.g. 1.5 as 1.5E0), and nothing is re-serialized.
    body.reserve(raw.size() + 64 + user.size() + name.size());
    body.append(raw.substr(0, raw.size() - 1));
    if (raw.size() > 2) body += ',';
    body += "\"ts\":" + std::to_string(ts) + ",\"user\":" + json_quote(user) + ",\"name\":" + json_quote(name);
    if (room_field == nullptr) body += ",\"room\":" + json_quote(room);
    body += '}';
  } else {
    json::object copy = payload;  // only this path changes the object
    copy["room"] = room;
    copy["ts"] = ts;
    copy["user"] = user;
    copy["name"] = name;
    copy.erase("seq");
    copy.erase("system");
    body = json::serialize(copy);
  }
  return body;
}

void ChatServer::stop() {
  if (stopped_.exchange(true)) return;
  bus_->stop();
  asio::post(*contexts_[0], [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->presence_timer_->timer.cancel();
  });
  std::lock_guard lock(sockets_mu_);
  for (auto& [id, ws] : sockets_) ws->close(net::kWsGoingAway, "server shutting down");
}

ChatStats ChatServer::stats() const {
  ChatStats st;
  {
    std::lock_guard lock(sockets_mu_);
    st.connections = sockets_.size();
  }
  {
    std::lock_guard lock(rooms_mu_);
    st.rooms = rooms_.size();
  }
  st.messages_in = messages_in_.load();
  st.deliveries = deliveries_.load();
  st.rejected = rejected_.load();
  st.protocol_errors = protocol_errors_.load();
  return st;
}

}  // namespace chiron::chat
