#include "chat/chat_server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/serialize.hpp>
#include <algorithm>
#include <chrono>

#include "common/clock.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/strings.h"

namespace chiron::chat {

namespace asio = boost::asio;
namespace json = boost::json;

struct ChatServer::Session {
  std::string sid;
  std::string user;
  std::string name;
  size_t thread = 0;
  bool connected = false;  // Socket.IO CONNECT done
  bool can_post = false;
  bool awaiting_pong = false;
  std::vector<std::string> rooms;
  double tokens = 0;
  int64_t refilled_us = 0;
  std::unique_ptr<asio::steady_timer> ping_timer;
};

namespace {

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
  return server;
}

ChatServer::ChatServer(std::vector<asio::io_context*> contexts, ChatOptions options, std::shared_ptr<Bus> bus)
    : contexts_(std::move(contexts)), options_(std::move(options)), bus_(std::move(bus)) {}

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
  s.ping_timer->async_wait([this, weak_ws, self = shared_from_this()](const boost::system::error_code& ec) {
    auto socket = weak_ws.lock();
    if (ec || !socket) return;
    Session* session = socket->handler_state<Session>();
    if (session == nullptr || !session->ping_timer) return;  // closed meanwhile
    if (session->awaiting_pong) return socket->close(net::kWsPolicyViolation, "ping timeout");
    session->awaiting_pong = true;
    socket->send_text(eio_ping());
    arm_ping(socket, *session);
  });
}

void ChatServer::on_close(const net::WebSocketPtr& ws) {
  Session* s = ws->handler_state<Session>();
  if (s != nullptr) {
    // Destroyed here, on its own thread: the socket (and so the session) may be released
    // later by another thread, e.g. by a broadcast task that still holds it.
    s->ping_timer.reset();
    for (const std::string& room : s->rooms) leave(room, ws, s->thread);
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
      if (!s->connected) {
        s->connected = true;
        // Signed platform tokens come with accounts (issue 5); until then every session is
        // anonymous, and may post only when the operator allows it.
        s->can_post = options_.anonymous_post;
        s->user = "anon-" + s->sid.substr(0, 6);
        s->name = s->user;
      }
      ws->send_text(sio_connect_ok(s->sid));
      return;
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

void ChatServer::handle_event(const net::WebSocketPtr& ws, Session& s, const ClientPacket& packet,
                              std::string_view frame) {
  auto ev = event_view(packet);
  if (!ev) return;
  auto reply = [&](json::array args) {
    if (packet.sio.ack_id) ws->send_text(sio_ack(*packet.sio.ack_id, args));
  };
  if (ev->name == "new user" || ev->name == "leave") {
    if (ev->args.empty() || !ev->args[0].is_string() || ev->args[0].as_string().empty() ||
        ev->args[0].as_string().size() > 128)
      return reply(ack_error("room name must be a non-empty string of at most 128 bytes"));
    std::string room(ev->args[0].as_string());
    json::object o;
    o["ok"] = true;
    if (ev->name == "new user") {
      if (std::find(s.rooms.begin(), s.rooms.end(), room) == s.rooms.end()) {
        o["members"] = join(room, ws, s.thread);
        s.rooms.push_back(room);
      }
    } else if (auto it = std::find(s.rooms.begin(), s.rooms.end(), room); it != s.rooms.end()) {
      leave(room, ws, s.thread);
      s.rooms.erase(it);
    }
    o["room"] = room;
    return reply(json::array{std::move(o)});
  }
  if (ev->name != "new message") return reply(ack_error("unknown event"));
  if (!s.can_post) {
    ++rejected_;
    return reply(ack_error("read-only: anonymous viewers cannot post"));
  }
  if (ev->args.empty() || !ev->args[0].is_object()) {
    ++rejected_;
    return reply(ack_error("a message is an object"));
  }
  json::object payload = ev->args[0].as_object();
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
  s.tokens -= 1;
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
  ++messages_in_;
  const std::string_view raw = ev->args.size() == 1 ? client_object_text(frame) : std::string_view();
  // One ack once every room's publish is done (done may run on any thread; send_text is
  // thread-safe). A multi-room post acks the last room's seq, or the first error.
  struct Pending {
    std::mutex mu;
    size_t remaining = 0;        // Guarded by mu
    uint64_t seq = 0;            // Guarded by mu
    std::string error;           // Guarded by mu
  };
  auto pending = std::make_shared<Pending>();
  pending->remaining = targets.size();
  const std::optional<uint64_t> ack_id = packet.sio.ack_id;
  std::weak_ptr<net::WebSocket> weak_ws = ws;
  for (const std::string& room : targets) {
    bus_->publish(room, "message", message_body(room, payload, raw, s.user, s.name),
                  [pending, ack_id, weak_ws](Result<uint64_t> r) {
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
                    if (socket && ack_id) socket->send_text(sio_ack(*ack_id, args));
                  });
  }
}

size_t ChatServer::join(const std::string& room, const net::WebSocketPtr& ws, size_t thread) {
  std::lock_guard lock(rooms_mu_);
  Room& r = rooms_[room];
  if (r.members.empty()) r.members.resize(contexts_.size());
  auto next = std::make_shared<std::vector<net::WebSocketPtr>>();
  if (r.members[thread]) *next = *r.members[thread];
  next->push_back(ws);
  r.members[thread] = std::move(next);
  if (++r.count == 1) bus_->subscribe(room);  // under the lock: calls stay balanced and ordered (bus.h)
  return r.count;
}

void ChatServer::leave(const std::string& room, const net::WebSocketPtr& ws, size_t thread) {
  std::lock_guard lock(rooms_mu_);
  auto it = rooms_.find(room);
  if (it == rooms_.end() || !it->second.members[thread]) return;
  Room& r = it->second;
  auto next = std::make_shared<std::vector<net::WebSocketPtr>>(*r.members[thread]);
  const auto before = next->size();
  std::erase(*next, ws);
  if (next->size() == before) return;
  r.members[thread] = std::move(next);
  if (--r.count == 0) {
    bus_->unsubscribe(room);
    rooms_.erase(it);  // the paper's rooms keep nothing once empty
  }
}

std::string ChatServer::message_body(const std::string& room, json::object payload, std::string_view raw,
                                     const std::string& user, const std::string& name) const {
  const int64_t ts = Clock::system().unix_ms();
  std::string body;
  const json::value* room_field = payload.if_contains("room");
  const bool splice = !raw.empty() && !payload.contains("seq") && !payload.contains("ts") && !payload.contains("user") &&
                      !payload.contains("name") &&
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
    payload["room"] = room;
    payload["ts"] = ts;
    payload["user"] = user;
    payload["name"] = name;
    payload.erase("seq");
    body = json::serialize(payload);
  }
  return body;
}

void ChatServer::on_bus_event(const BusEvent& ev) {
  if (ev.kind != "message") return;
  // The body is a JSON object of ours ending in '}': the seq is spliced in, and the event is
  // encoded ONCE for every member of every thread.
  if (ev.body.size() < 2 || ev.body.back() != '}') return;
  std::string body = ev.body.substr(0, ev.body.size() - 1);
  if (body.size() > 1) body += ',';
  body += "\"seq\":" + std::to_string(ev.seq) + '}';
  const std::string_view args[] = {body};
  const net::SharedFrame frame = net::SharedFrame::text(sio_event_serialized("new message", args));
  std::lock_guard lock(rooms_mu_);
  auto it = rooms_.find(ev.room);
  if (it == rooms_.end()) return;  // no local member (any more)
  Room& r = it->second;
  r.epoch = ev.epoch;
  r.seq = ev.seq;
  post_to_members(r, frame);
}

void ChatServer::on_bus_gap(const std::vector<std::string>&) {}

void ChatServer::post_to_members(const Room& r, const net::SharedFrame& frame) {
  // Posted under the room lock: each thread receives a room's events in order.
  for (size_t t = 0; t < r.members.size(); ++t) {
    auto members = r.members[t];
    if (!members || members->empty()) continue;
    deliveries_.fetch_add(members->size(), std::memory_order_relaxed);
    asio::post(*contexts_[t], [members = std::move(members), frame] {
      for (const net::WebSocketPtr& ws : *members) ws->send(frame);
    });
  }
}

void ChatServer::stop() {
  if (stopped_.exchange(true)) return;
  bus_->stop();
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
