#pragma once
// EventHub: the admin plane's WebSocket `/api/v1/events` (docs/protocols.md): a snapshot on
// connect, then the registry's changes as versioned deltas, and a statistics frame per second.
//
// The registry observer only appends the Change to a queue (it runs under the registry lock,
// on the REQ threads); a drain posted to the hub's io_context encodes each delta once
// (SharedFrame) and sends the same bytes to every client. Back-pressure, so a slow browser can
// never slow REQ or grow memory: a client whose socket has more than `max_client_backlog`
// bytes unsent is skipped and marked stale; once its backlog drains it gets a fresh snapshot
// (deltas older than the snapshot's version are not sent to it). If the hub's own queue passes
// `max_pending_changes`, it is dropped and every client gets a snapshot instead.
//
// Thread-safe: on_change() from any thread; everything else runs on the io_context.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "nameserver/metrics.h"
#include "net/net.h"
#include "ns/registry.h"

namespace chiron::nameserver {

struct EventHubOptions {
  size_t max_client_backlog = 1 << 20;  // bytes unsent before a client is marked stale
  size_t max_pending_changes = 100'000;
  uint32_t stats_interval_ms = 1000;
  // Stats frames break picks down per server only for pools up to this size.
  size_t max_per_server_stats = 256;
};

class EventHub : public std::enable_shared_from_this<EventHub> {
 public:
  EventHub(boost::asio::io_context& context, ns::Registry& registry, const LatencyHistogram& req_latency,
           EventHubOptions options = {});

  // Starts the stats timer. Call once, after construction (needs shared_from_this).
  void start();
  // Closes every client (1001) and stops the timer. Idempotent.
  void stop();

  // The registry observer (any thread; cheap).
  void on_change(const ns::Change& change);

  // WebSocket route handlers for net::Router::websocket.
  // authorized(request) decides at upgrade time (the dashboard passes ?token=); a refused
  // handshake is answered 401.
  net::WsHandlers handlers(std::function<bool(const net::Request&)> authorized);

  size_t client_count() const;
  uint64_t snapshots_sent() const { return snapshots_sent_; }

 private:
  struct Client {
    net::WebSocketPtr ws;
    uint64_t version = 0;  // last version this client has seen
    bool stale = true;     // needs a snapshot before deltas
  };

  void schedule_drain();
  void drain();
  void send_snapshot(Client& c);
  void tick();

  boost::asio::io_context& context_;
  ns::Registry& registry_;
  const LatencyHistogram& req_latency_;
  const EventHubOptions options_;
  boost::asio::steady_timer timer_;

  std::mutex mu_;
  std::deque<ns::Change> pending_;  // Guarded by mu_
  bool overflowed_ = false;         // Guarded by mu_
  bool drain_scheduled_ = false;    // Guarded by mu_

  // Confined to context_.
  std::unordered_map<uint64_t, Client> clients_;
  bool stopped_ = false;
  uint64_t snapshots_sent_ = 0;
  // Previous tick's per-service/per-server pick counters and latency counts, for deltas.
  std::unordered_map<std::string, uint64_t> last_picks_;
  std::unordered_map<std::string, uint64_t> last_service_req_;
  std::unordered_map<std::string, uint64_t> last_service_errors_;
  std::vector<uint64_t> last_latency_;
  std::atomic<size_t> client_count_{0};
};

}  // namespace chiron::nameserver
