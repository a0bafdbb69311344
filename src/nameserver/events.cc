#include "nameserver/events.h"

#include <boost/asio/post.hpp>
#include <boost/json/serialize.hpp>

#include "common/clock.h"
#include "nameserver/json_views.h"

namespace chiron::nameserver {

namespace json = boost::json;

EventHub::EventHub(boost::asio::io_context& context, ns::Registry& registry, const LatencyHistogram& req_latency,
                   EventHubOptions options)
    : context_(context), registry_(registry), req_latency_(req_latency), options_(options), timer_(context) {}

void EventHub::start() {
  auto self = shared_from_this();
  boost::asio::post(context_, [self] {
    self->last_latency_ = self->req_latency_.counts();
    self->tick();
  });
}

void EventHub::stop() {
  auto self = shared_from_this();
  boost::asio::post(context_, [self] {
    if (self->stopped_) return;
    self->stopped_ = true;
    self->timer_.cancel();
    for (auto& [id, c] : self->clients_) c.ws->close(net::kWsGoingAway, "name server shutting down");
    self->clients_.clear();
    self->client_count_ = 0;
  });
}

size_t EventHub::client_count() const { return client_count_.load(); }

void EventHub::on_change(const ns::Change& change) {
  std::lock_guard lock(mu_);
  if (client_count_.load(std::memory_order_relaxed) == 0) return;  // nobody listens: drop
  if (pending_.size() >= options_.max_pending_changes) {
    pending_.clear();
    overflowed_ = true;
  } else if (!overflowed_) {
    pending_.push_back(change);
  }
  if (!drain_scheduled_) {
    drain_scheduled_ = true;
    boost::asio::post(context_, [self = shared_from_this()] { self->drain(); });
  }
}

void EventHub::drain() {
  std::deque<ns::Change> changes;
  bool overflowed;
  {
    std::lock_guard lock(mu_);
    changes.swap(pending_);
    overflowed = overflowed_;
    overflowed_ = false;
    drain_scheduled_ = false;
  }
  if (stopped_) return;
  if (overflowed) {
    for (auto& [id, c] : clients_) c.stale = true;
  }
  const int64_t now = Clock::system().steady_us();
  for (const ns::Change& change : changes) {
    net::SharedFrame frame;  // encoded once, on first need
    for (auto& [id, c] : clients_) {
      if (c.stale || change.version <= c.version) continue;
      if (c.ws->queued_bytes() > options_.max_client_backlog) {
        c.stale = true;
        continue;
      }
      if (frame.empty()) frame = net::SharedFrame::text(delta_message(change, now));
      c.ws->send(frame);
      c.version = change.version;
    }
  }
  for (auto& [id, c] : clients_) {
    if (c.stale && c.ws->queued_bytes() <= options_.max_client_backlog / 2) send_snapshot(c);
  }
}

void EventHub::send_snapshot(Client& c) {
  uint64_t version = 0;
  std::vector<ns::ServiceView> services = registry_.snapshot(&version);
  c.ws->send_text(snapshot_message(services, version, Clock::system().steady_us()));
  c.version = version;
  c.stale = false;
  ++snapshots_sent_;
}

net::WsHandlers EventHub::handlers(std::function<bool(const net::Request&)> authorized) {
  std::weak_ptr<EventHub> weak = shared_from_this();
  net::WsHandlers h;
  h.on_handshake = [authorized](const net::Request& req) -> std::optional<net::Response> {
    if (!authorized || authorized(req)) return std::nullopt;
    return net::Response::error(401, "unauthenticated", "admin token required (?token=<token>)");
  };
  h.on_open = [weak](const net::WebSocketPtr& ws, const net::Request&) {
    auto self = weak.lock();
    if (!self) return ws->close(net::kWsGoingAway, "name server shutting down");
    {
      std::lock_guard lock(self->mu_);
      self->client_count_.fetch_add(1);
    }
    boost::asio::post(self->context_, [self, ws] {
      if (self->stopped_) return ws->close(net::kWsGoingAway, "name server shutting down");
      Client& c = self->clients_[ws->id()];
      c.ws = ws;
      self->send_snapshot(c);
    });
  };
  h.on_message = [](const net::WebSocketPtr&, net::WsMessage&&) {};  // clients only listen
  h.on_close = [weak](const net::WebSocketPtr& ws, uint16_t, std::string_view) {
    auto self = weak.lock();
    if (!self) return;
    boost::asio::post(self->context_, [self, id = ws->id()] {
      if (self->clients_.erase(id) > 0) self->client_count_.fetch_sub(1);
    });
  };
  return h;
}

void EventHub::tick() {
  if (stopped_) return;
  timer_.expires_after(std::chrono::milliseconds(options_.stats_interval_ms));
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->tick();
  });

  std::vector<uint64_t> latency = req_latency_.counts();
  std::vector<uint64_t> latency_delta(latency.size());
  for (size_t i = 0; i < latency.size(); ++i)
    latency_delta[i] = latency[i] - (i < last_latency_.size() ? last_latency_[i] : 0);
  last_latency_ = std::move(latency);
  // The baselines are kept up to date even with nobody listening, so the first frame a new
  // dashboard gets already holds a real per-second figure.

  std::vector<ns::ServiceStats> services = registry_.stats(options_.max_per_server_stats);
  const bool listening = !clients_.empty();  // without listeners only the baselines move on
  json::object per_service;
  uint64_t req_total = 0;
  std::unordered_map<std::string, uint64_t> picks_now;
  std::unordered_map<std::string, uint64_t> req_now;
  std::unordered_map<std::string, uint64_t> errors_now;
  // Unseen before: everything it has counts for this interval (it appeared within it).
  auto delta = [](const std::unordered_map<std::string, uint64_t>& last, const std::string& key, uint64_t now) {
    auto it = last.find(key);
    return it == last.end() ? now : now - std::min(now, it->second);
  };
  for (const ns::ServiceStats& v : services) {
    const uint64_t req = v.picks + v.errors;
    const uint64_t req_delta = delta(last_service_req_, v.name, req);
    req_total += req_delta;
    json::object svc;
    json::object servers;
    if (listening) {
      svc["req"] = req_delta;
      svc["errors"] = delta(last_service_errors_, v.name, v.errors);
      svc["server_count"] = v.servers;
    }
    for (const ns::ServerStats& s : v.per_server) {
      std::string key = v.name + '\0' + s.id;
      if (listening) {
        json::object so;
        so["picks"] = delta(last_picks_, key, s.picks);
        so["health"] = std::string(ns::to_string(s.health));
        so["load"] = s.load;
        servers[s.id] = std::move(so);
      }
      picks_now.emplace(std::move(key), s.picks);
    }
    req_now[v.name] = req;
    errors_now[v.name] = v.errors;
    if (listening) {
      svc["servers"] = std::move(servers);
      per_service[v.name] = std::move(svc);
    }
  }
  last_picks_ = std::move(picks_now);
  last_service_req_ = std::move(req_now);
  last_service_errors_ = std::move(errors_now);
  if (!listening) return;
  json::object msg;
  msg["type"] = "stats";
  msg["ts"] = Clock::system().unix_ms();
  msg["interval_ms"] = options_.stats_interval_ms;
  msg["services"] = std::move(per_service);
  msg["req_total"] = req_total;
  json::object lat;
  lat["p50"] = LatencyHistogram::quantile(latency_delta, 0.50);
  lat["p99"] = LatencyHistogram::quantile(latency_delta, 0.99);
  msg["req_latency_us"] = std::move(lat);
  const net::SharedFrame frame = net::SharedFrame::text(json::serialize(msg));
  for (auto& [id, c] : clients_) {
    // A stats frame is never queued behind more than a little backlog: skip busy clients.
    if (!c.stale && c.ws->queued_bytes() <= frame.size() * 2) c.ws->send(frame);
  }
  drain();  // also retries snapshots for stale clients whose backlog has drained
}

}  // namespace chiron::nameserver
