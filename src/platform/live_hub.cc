#include "platform/live_hub.h"

#include <algorithm>
#include <set>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "common/clock.h"
#include "common/log.h"
#include "kernel/kernel.h"

namespace chiron::platform {

namespace json = boost::json;

std::shared_ptr<LiveHubServer> LiveHubServer::create(kernel::Runtime& runtime, service::Access& access,
                                                     std::function<void(int64_t, int64_t)> on_participant,
                                                     Options options) {
  return std::shared_ptr<LiveHubServer>(
      new LiveHubServer(runtime, access, std::move(on_participant), std::move(options)));
}

LiveHubServer::LiveHubServer(kernel::Runtime& runtime, service::Access& access,
                             std::function<void(int64_t, int64_t)> on_participant, Options options)
    : runtime_(runtime), access_(access), on_participant_(std::move(on_participant)), options_(std::move(options)) {}

net::WsHandlers LiveHubServer::handlers() {
  std::weak_ptr<LiveHubServer> weak = weak_from_this();
  net::WsHandlers h;
  h.on_open = [weak](const net::WebSocketPtr& ws, const net::Request& req) {
    if (auto self = weak.lock()) self->on_open(ws, req);
  };
  h.on_message = [](const net::WebSocketPtr& ws, net::WsMessage&&) {
    ws->close(net::kWsPolicyViolation, "this socket only sends");
  };
  h.on_close = [weak](const net::WebSocketPtr& ws, uint16_t, std::string_view) {
    if (auto self = weak.lock()) self->on_close(ws);
  };
  return h;
}

void LiveHubServer::on_open(const net::WebSocketPtr& ws, const net::Request& request) {
  auto name = request.query_param("channel");
  if (!name || name->empty()) {
    ws->close(net::kWsPolicyViolation, "missing ?channel=");
    return;
  }
  // The access check reads the database: off the net thread.
  auto req = std::make_shared<net::Request>();
  req->method = request.method;
  req->headers = request.headers;
  req->remote_address = request.remote_address;
  auto self = shared_from_this();
  bool posted = runtime_.post(kernel::Device::kDisk, [self, ws, req, channel_name = *name] {
    auto caller = self->access_.caller(*req);
    auto channel = caller.ok() ? self->access_.channel(channel_name) : Result<service::ChannelRef>(caller.status());
    if (!caller.ok() || !channel.ok()) {
      if (!channel.ok() && channel.status().code() != StatusCode::kNotFound)
        log::warn("live", "access check failed", {{"error", channel.status().to_string()}});
      ws->close(net::kWsPolicyViolation, "not found");
      return;
    }
    if (!self->access_.can_read(*caller, *channel)) {
      ws->close(net::kWsPolicyViolation, "not found");
      return;
    }
    json::object hello{{"type", "hello"},
                       {"live", channel->live_session_id != 0},
                       {"session_id", channel->live_session_id},
                       {"you", caller->anonymous() ? json::value(nullptr) : json::value(caller->name)}};
    const bool participant = !caller->anonymous() && caller->user_id != channel->owner_id && channel->live_session_id;
    self->subscribe(ws, *caller, *channel, std::move(hello));
    if (participant && self->on_participant_) self->on_participant_(channel->live_session_id, caller->user_id);
  });
  if (!posted) ws->close(net::kWsGoingAway, "shutting down");
}

void LiveHubServer::subscribe(const net::WebSocketPtr& ws, const service::Caller& caller,
                              const service::ChannelRef& channel, json::object hello) {
  std::lock_guard lock(mu_);
  if (stopped_) {
    ws->close(net::kWsGoingAway, "shutting down");
    return;
  }
  const bool existed = channels_.count(channel.id) != 0;
  Channel& c = channels_[channel.id];
  c.name = channel.name;
  c.owner_id = channel.owner_id;
  if (!existed) c.live_session_id = channel.live_session_id;
  c.viewers.push_back(Viewer{ws, caller.user_id, caller.name, caller.display_name});
  hello["channel"] = c.name;
  hello["at"] = format_utc_ms(Clock::system().unix_ms());
  json::object v = viewers_event_locked(c);
  hello["viewers"] = v["viewers"];
  hello["anonymous"] = v["anonymous"];
  // A socket that closed while its access check ran refuses the send (its on_close found
  // nothing to remove): it is not added.
  if (!ws->send_text(json::serialize(hello))) {
    c.viewers.pop_back();
    if (c.viewers.empty()) channels_.erase(channel.id);
    return;
  }
  socket_channel_[ws->id()] = channel.id;
  send_locked(c, std::move(v));
}

void LiveHubServer::on_close(const net::WebSocketPtr& ws) {
  std::lock_guard lock(mu_);
  auto sc = socket_channel_.find(ws->id());
  if (sc == socket_channel_.end()) return;
  auto it = channels_.find(sc->second);
  socket_channel_.erase(sc);
  if (it == channels_.end()) return;
  auto& vs = it->second.viewers;
  vs.erase(std::remove_if(vs.begin(), vs.end(), [&](const Viewer& v) { return v.ws == ws; }), vs.end());
  if (vs.empty()) {
    channels_.erase(it);
  } else {
    send_locked(it->second, viewers_event_locked(it->second));
  }
}

json::object LiveHubServer::viewers_event_locked(const Channel& c) const {
  json::array users;
  std::set<int64_t> seen;
  int64_t anonymous = 0;
  for (const Viewer& v : c.viewers) {
    if (v.user_id == 0) {
      ++anonymous;
    } else if (seen.insert(v.user_id).second) {
      users.push_back(json::object{{"id", v.user_id},
                                   {"name", v.name},
                                   {"display_name", v.display_name},
                                   {"owner", v.user_id == c.owner_id}});
    }
  }
  return json::object{{"type", "viewers"}, {"viewers", std::move(users)}, {"anonymous", anonymous}};
}

void LiveHubServer::send_locked(const Channel& c, json::object event) {
  event["channel"] = c.name;
  if (!event.contains("at")) event["at"] = format_utc_ms(Clock::system().unix_ms());
  const net::SharedFrame frame = net::SharedFrame::text(json::serialize(event));
  for (const Viewer& v : c.viewers) v.ws->send(frame);
}

void LiveHubServer::publish(int64_t channel_id, json::object event) {
  std::vector<int64_t> new_participants;
  int64_t session_id = 0;
  {
    std::lock_guard lock(mu_);
    auto it = channels_.find(channel_id);
    if (it == channels_.end()) return;  // nobody watching
    Channel& c = it->second;
    // Sessions change who counts as a participant: everyone logged in and present when one starts.
    if (const json::value* type = event.if_contains("type"); type && type->is_string() && type->as_string() == "session") {
      const json::value* state = event.if_contains("state");
      const json::value* session = event.if_contains("session");
      const bool live = state && state->is_string() && state->as_string() == "live";
      int64_t id = 0;
      if (session && session->is_object()) {
        if (const json::value* sid = session->as_object().if_contains("id"); sid && sid->is_int64()) id = sid->as_int64();
      }
      c.live_session_id = live ? id : 0;
      if (live && id) {
        session_id = id;
        std::set<int64_t> seen;
        for (const Viewer& v : c.viewers)
          if (v.user_id && v.user_id != c.owner_id && seen.insert(v.user_id).second) new_participants.push_back(v.user_id);
      }
    }
    send_locked(c, std::move(event));
  }
  if (!new_participants.empty()) record_participants(session_id, std::move(new_participants));
}

void LiveHubServer::record_participants(int64_t session_id, std::vector<int64_t> users) {
  if (!on_participant_) return;
  auto self = shared_from_this();
  (void)runtime_.post(kernel::Device::kDisk, [self, session_id, users = std::move(users)] {
    for (int64_t u : users) self->on_participant_(session_id, u);
  });
}

void LiveHubServer::stop() {
  std::vector<net::WebSocketPtr> all;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    for (auto& [id, c] : channels_)
      for (auto& v : c.viewers) all.push_back(v.ws);
    channels_.clear();
    socket_channel_.clear();
  }
  for (auto& ws : all) ws->close(net::kWsGoingAway, "server shutting down");
}

size_t LiveHubServer::subscribers() const {
  std::lock_guard lock(mu_);
  return socket_channel_.size();
}

}  // namespace chiron::platform
