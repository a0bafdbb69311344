#pragma once
// NameServer internals shared by name_server.cc (lifecycle), data_plane.cc and admin_api.cc.

#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "nameserver/events.h"
#include "nameserver/health_checker.h"
#include "nameserver/metrics.h"
#include "nameserver/name_server.h"
#include "nameserver/request_log.h"
#include "nameserver/store.h"
#include "net/net.h"
#include "ns/auth.h"
#include "ns/protocol.h"

namespace chiron::nameserver {

struct NameServer::Impl {
  Impl(kernel::Runtime& rt, NameServerOptions opts);

  kernel::Runtime& runtime;
  const NameServerOptions options;
  ns::Registry registry;
  ns::Verifier verifier;
  ns::Security security;
  std::unique_ptr<Store> store;  // null: memory only
  int store_lock_fd = -1;        // flock'd "<store>.lock": one name server per store
  ~Impl();
  std::unique_ptr<RequestLog> request_log;
  LatencyHistogram req_latency;
  LatencyHistogram write_latency;  // REG/REM/ALG/STATE until durable
  std::atomic<uint64_t> commands{0};
  std::atomic<uint64_t> auth_failures{0};
  std::unique_ptr<HealthChecker> checker;
  std::shared_ptr<EventHub> events;
  std::unique_ptr<net::LineServer> data_server;
  std::unique_ptr<net::HttpServer> admin_server;
  std::unique_ptr<boost::asio::steady_timer> sweep_timer;
  std::atomic<bool> stopped{false};
  // Active checks: the spec each server is watched with ("service\0id" → JSON), so an upsert
  // that leaves the check alone (health, load, ...) does not restart it.
  std::mutex checks_mu;
  std::unordered_map<std::string, std::string> check_specs;  // Guarded by checks_mu
  const int64_t started_us;

  // The registry observer: journals durable changes, feeds the hub and the checker.
  void on_change(const ns::Change& c);
  void schedule_sweep();
  Status restore();

  // data_plane.cc
  std::string handle_command(const net::LineConnectionInfo& conn, net::RespCommand& cmd);
  std::string fast_req(const net::LineConnectionInfo& conn, const net::RespCommand& cmd,
                       std::chrono::steady_clock::time_point t0);
  // admin_api.cc
  net::Router admin_router();
  bool admin_authorized(const net::Request& req) const;
};

// The store sequence number of the last durable change this thread made since the previous
// call (0 if none); the caller's reply waits for it (data_plane.cc).
void note_journal_seq(uint64_t seq);
uint64_t take_journal_seq();

// RESP2 encoding of a neutral reply.
std::string encode_resp(const ns::Reply& r);

}  // namespace chiron::nameserver
