#pragma once
// Registrar: how a Chiron edge (`chiron serve`) registers itself with a name server and stays
// registered — the client side of REG/HB/REM (research notes §3: heartbeat every TTL/3).
//
//   connect → [REG service id weight [token]] → every heartbeat_ms: HB service id load=N [token]
//   HB answered "unknown server" (the name server restarted without a store, or deregistered
//   us while we were partitioned) → REG again, like Eureka's 404-then-register.
//   Connection lost / refused → reconnect with exponential backoff (0.2 s → 10 s, ±20 %).
//   stop(): best-effort REM (signed when a secret is set), then close.
// With a secret every command carries a fresh signed token (ns/auth.h).
//
// Threading: runs on one io_context; start/stop/set_load from any thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/strings.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace chiron::nameserver {

struct RegistrarOptions {
  HostPort name_server{"127.0.0.1", 5300};
  std::string service = "edge";
  std::string id;  // "ip:port" others should reach us at
  uint32_t weight = 1;
  std::string secret;  // registration secret of the service; "" = unsigned
  uint32_t heartbeat_ms = 5000;
};

struct RegistrarStatus {
  bool registered = false;
  uint64_t heartbeats = 0;   // acknowledged
  uint64_t registrations = 0;
  std::string last_error;
};

class Registrar {
 public:
  Registrar(boost::asio::io_context& context, RegistrarOptions options);
  ~Registrar();
  Registrar(const Registrar&) = delete;
  Registrar& operator=(const Registrar&) = delete;

  void start();
  // Sends REM (bounded by ~1 s), then closes. on_done runs on the io_context when finished.
  void stop(std::function<void()> on_done = {});
  // Reported with the next heartbeat as load=N (e.g. open connections).
  void set_load(uint64_t load);
  RegistrarStatus status() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace chiron::nameserver
