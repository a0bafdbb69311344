#pragma once
// DESIGN — nameserver: the running name server (`chiron ns`, and embedded in `chiron serve`),
// built from the pure core in src/ns:
//
//   data plane   LineServer (RESP + inline) → ns::execute → Registry           data_plane.cc
//   durability   Registry change feed → Store (SQLite WAL, group commit); a mutating verb's
//                reply is held until its change is durable                    store.h
//   liveness     1 s sweep (leases, deregistration, panic guard) + HealthChecker verdicts
//   admin plane  HttpServer: /api/v1 JSON, /metrics, events WebSocket, dashboard   admin_api.cc
//   request log  sampled JSON lines on the disk pipeline                       request_log.h
//
// Everything runs on the kernel Runtime's pipelines: connections and timers on the net
// threads, SQLite commits and log writes on the disk threads. The Registry's one mutex is the
// only lock on the REQ path; the observer it calls under that lock only queues work.
//
// Start-up: open the store, restore services and servers (restored servers are `up` with a
// full lease: a restart alone never causes an outage), resume active checks, then listen.
// Shutdown (stop): stop listening, let connections write what they owe, flush the store.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "common/result.h"
#include "common/strings.h"
#include "kernel/kernel.h"
#include "ns/registry.h"

namespace chiron::nameserver {

struct NameServerOptions {
  HostPort data{"127.0.0.1", 5300};
  HostPort admin{"127.0.0.1", 5380};
  bool admin_enabled = true;
  std::filesystem::path store_file;  // SQLite database; empty = memory only (tests, demos)
  std::filesystem::path web_dir;     // the web UI root; the dashboard is its ns/ (at /ns/); empty = none
  std::filesystem::path vendor_dir;  // node_modules (for /vendor/uplot/); empty = none
  std::string admin_token;           // empty = admin verbs and API open (loopback only)
  ns::RegistryOptions registry;
  uint32_t sweep_interval_ms = 1000;
  std::filesystem::path request_log;  // empty = no request log
  double request_log_sample = 0.01;
};

class NameServer {
 public:
  // Opens the store, restores state, starts both planes. Refuses a non-loopback listener
  // without an admin token (kFailedPrecondition), like Redis' protected mode.
  static Result<std::unique_ptr<NameServer>> start(kernel::Runtime& runtime, NameServerOptions options);
  ~NameServer();  // stop()
  NameServer(const NameServer&) = delete;
  NameServer& operator=(const NameServer&) = delete;

  HostPort data_endpoint() const;
  HostPort admin_endpoint() const;  // port 0 when the admin plane is off
  ns::Registry& registry();

  // Graceful stop: listeners close, connections finish their replies (bounded wait), the
  // store is flushed. Idempotent. Must run before the Runtime stops.
  void stop();

  struct Impl;

 private:
  explicit NameServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

bool is_loopback_host(std::string_view host);

}  // namespace chiron::nameserver
