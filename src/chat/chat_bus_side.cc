// ChatServer, the bus side (chat_server.h, "Bus"): sequenced events and signals coming back
// from the bus, gaps, and the presence tick that coalesces this edge's join/leave changes.

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <algorithm>

#include "chat/chat_server.h"
#include "chat/chat_session.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/strings.h"

namespace chiron::chat {

namespace asio = boost::asio;
namespace json = boost::json;

void ChatServer::on_bus_event(const BusEvent& ev) {
  if (ev.seq > 0) return on_sequenced(ev);
  if (ev.kind == "presence") return on_presence(ev);
  if (ev.kind == "ban" || ev.kind == "mute" || ev.kind == "slow") return on_moderation(ev);
}

void ChatServer::on_sequenced(const BusEvent& ev) {
  // Our bodies are JSON objects ending in '}': the seq is spliced in and the event is encoded
  // ONCE for every member of every thread.
  if (ev.body.size() < 2 || ev.body.back() != '}') return;
  std::string body = ev.body.substr(0, ev.body.size() - 1);
  if (body.size() > 1) body += ',';
  body += "\"seq\":" + std::to_string(ev.seq) + '}';
  std::string author;
  uint64_t target = 0;
  std::string_view name;
  if (ev.kind == "message") {
    name = "new message";
    boost::system::error_code ec;
    json::value v = json::parse(ev.body, ec);
    if (const json::object* o = ec ? nullptr : v.if_object(); o != nullptr)
      if (const json::value* u = o->if_contains("user"); u != nullptr && u->is_string()) author = u->as_string();
  } else if (ev.kind == "delete") {
    name = "message deleted";
    boost::system::error_code ec;
    json::value v = json::parse(ev.body, ec);
    if (const json::object* o = ec ? nullptr : v.if_object(); o != nullptr)
      if (auto t = o->if_contains("target") ? uint_arg(o->at("target")) : std::nullopt) target = *t;
  } else {
    return;
  }
  const std::string_view args[] = {body};
  const net::SharedFrame frame = net::SharedFrame::text(sio_event_serialized(name, args));
  std::lock_guard lock(rooms_mu_);
  auto it = rooms_.find(ev.room);
  if (it == rooms_.end()) return;  // no local member (any more)
  Room& r = it->second;
  const RoomHistory::Step step = r.history.advance(ev.epoch, ev.seq);
  if (step == RoomHistory::Step::kStale) return;
  if (step == RoomHistory::Step::kNewEpoch || step == RoomHistory::Step::kSeqGap)
    post_to_members(r, gap_frame(ev.room, ev.epoch, step == RoomHistory::Step::kNewEpoch ? "new epoch" : "seq discontinuity"));
  r.history.add(ev.seq, frame, std::move(author));
  if (target > 0) r.history.mark_deleted(target);
  post_to_members(r, frame);
}

void ChatServer::on_presence(const BusEvent& ev) {
  auto sig = RoomPresence::parse(ev.body);
  if (!sig || sig->edge == bus_->edge_id()) return;  // this edge's own list is known exactly
  bool answer = false;
  {
    std::lock_guard lock(rooms_mu_);
    auto it = rooms_.find(ev.room);
    if (it == rooms_.end() || it->second.count == 0) return;
    it->second.presence.merge(*sig, steady_ms());
    it->second.presence_changed = true;
    answer = sig->hello;
  }
  // A new edge said hello: answer with this edge's list at once. Not inline: publish/signal
  // may be delivering right now (LocalBus holds its lock around deliver).
  if (answer) {
    std::weak_ptr<ChatServer> weak = weak_from_this();
    asio::post(*contexts_[0], [weak, room = ev.room] {
      if (auto self = weak.lock()) self->signal_presence_now(room);
    });
  }
}

void ChatServer::on_moderation(const BusEvent& ev) {
  boost::system::error_code ec;
  json::value v = json::parse(ev.body, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  if (o == nullptr) return;
  auto seconds = o->if_contains("seconds") ? uint_arg(o->at("seconds")) : std::nullopt;
  const json::value* by = o->if_contains("by");
  if (!seconds || by == nullptr || !by->is_string()) return;
  json::object event;
  event["room"] = ev.room;
  event["action"] = ev.kind;
  const int64_t now_ms = Clock::system().unix_ms();
  std::string user;
  int64_t until = 0;
  std::string reason;
  if (ev.kind != "slow") {
    const json::value* u = o->if_contains("user");
    const json::value* t = o->if_contains("until");
    if (u == nullptr || !u->is_string() || t == nullptr || !t->is_int64()) return;
    user = u->as_string();
    until = t->as_int64();
    if (const json::value* r = o->if_contains("reason"); r != nullptr && r->is_string()) reason = r->as_string();
    event["user"] = user;
    event["until"] = until;
  }
  event["seconds"] = *seconds;
  event["by"] = by->as_string();
  std::lock_guard lock(rooms_mu_);
  auto it = rooms_.find(ev.room);
  if (it == rooms_.end()) return;  // no local member: the bus replays the state at subscribe
  Room& r = it->second;
  if (ev.kind == "ban") r.moderation.ban(user, until, reason, now_ms);
  else if (ev.kind == "mute") r.moderation.mute(user, until, now_ms);
  else r.moderation.set_slow(static_cast<uint32_t>(*seconds));
  if (!ev.replayed) {
    const json::value args[] = {event};
    post_to_members(r, net::SharedFrame::text(sio_event("moderation", json::array{args[0]})));
  }
  if (ev.kind == "ban" && until > now_ms) {
    json::object banned;
    banned["room"] = ev.room;
    banned["until"] = until;
    banned["reason"] = reason;
    kick_locked(r, ev.room, user, json::serialize(banned));
  }
  if (r.count == 0) maybe_drop_locked(it);
}

void ChatServer::kick_locked(const Room& r, const std::string& room, const std::string& user,
                             const std::string& event_body) {
  std::weak_ptr<ChatServer> weak = weak_from_this();
  for (size_t t = 0; t < r.members.size(); ++t) {
    auto members = r.members[t];
    if (!members || members->empty()) continue;
    // On the members' own thread: their sessions are confined there.
    asio::post(*contexts_[t], [weak, members = std::move(members), room, user, event_body] {
      auto self = weak.lock();
      if (!self) return;
      const std::string_view args[] = {event_body};
      for (const net::WebSocketPtr& ws : *members) {
        Session* s = ws->handler_state<Session>();
        if (s == nullptr || s->user != user) continue;
        auto joined = std::find(s->rooms.begin(), s->rooms.end(), room);
        if (joined == s->rooms.end()) continue;
        s->rooms.erase(joined);
        self->leave(room, ws, s->thread, s->user);
        ws->send_text(sio_event_serialized("banned", args));
      }
    });
  }
}

void ChatServer::on_bus_gap(const std::vector<std::string>& rooms) {
  std::lock_guard lock(rooms_mu_);
  for (const std::string& room : rooms) {
    auto it = rooms_.find(room);
    if (it == rooms_.end()) continue;
    Room& r = it->second;
    r.history.clear();
    r.hello = r.local_changed = true;  // the room was subscribed again: announce this edge anew
    if (r.count > 0) post_to_members(r, gap_frame(room, r.history.epoch(), "bus gap"));
  }
}

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

void ChatServer::arm_presence_tick() {
  presence_timer_->timer.expires_after(std::chrono::milliseconds(std::max<uint32_t>(options_.presence_interval_ms, 20)));
  std::weak_ptr<ChatServer> weak = weak_from_this();
  presence_timer_->timer.async_wait([weak](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->stopped_.load()) return;
    self->presence_tick();
    self->arm_presence_tick();
  });
}

void ChatServer::presence_tick() {
  const int64_t now = steady_ms();
  std::vector<PendingSignal> signals;
  {
    std::lock_guard lock(rooms_mu_);
    size_t idle = 0;
    for (auto it = rooms_.begin(); it != rooms_.end();) {
      Room& r = it->second;
      if (r.count == 0) {
        // Kept for history or moderation; beyond kMaxIdleRooms (or with nothing left worth
        // keeping) they go.
        if (++idle > kMaxIdleRooms ||
            (r.history.capacity() == 0 && r.moderation.empty(Clock::system().unix_ms()))) {
          it = rooms_.erase(it);
          continue;
        }
        ++it;
        continue;
      }
      if (r.presence.expire(now)) r.presence_changed = true;
      if (r.local_changed || now - r.signalled_ms >= kPresenceRefreshMs) {
        signals.push_back({it->first, RoomPresence::body(bus_->edge_id(), r.presence.local_users(), r.hello)});
        r.local_changed = r.hello = false;
        r.signalled_ms = now;
      }
      if (r.presence_changed) {
        r.presence_changed = false;
        if (auto d = r.presence.take_diff(kMaxListedUsers)) {
          json::object p;
          p["room"] = it->first;
          p["count"] = d->count;
          p["joined"] = users_json(d->joined);
          p["left"] = users_json(d->left);
          const json::value args[] = {p};
          post_to_members(r, net::SharedFrame::text(sio_event("presence", json::array{args[0]})));
        }
      }
      ++it;
    }
  }
  send_signals(std::move(signals));
}

void ChatServer::signal_presence_now(const std::string& room) {
  std::optional<PendingSignal> sig;
  {
    std::lock_guard lock(rooms_mu_);
    auto it = rooms_.find(room);
    if (it == rooms_.end() || it->second.count == 0) return;
    sig = PendingSignal{room, RoomPresence::body(bus_->edge_id(), it->second.presence.local_users(), false)};
    it->second.signalled_ms = steady_ms();
  }
  send_signals({std::move(*sig)});
}

void ChatServer::send_signals(std::vector<PendingSignal> signals) {
  for (PendingSignal& s : signals) bus_->signal(std::move(s.room), "presence", std::move(s.body));
}

}  // namespace chiron::chat
