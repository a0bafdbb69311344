#pragma once
// HealthChecker: optional active checks of registered servers (HAProxy `check`, Consul TCP/HTTP
// checks). A TCP check passes when a connection to ip:port is established within the timeout;
// an HTTP check sends `GET <path> HTTP/1.1` (Host = ip:port, Connection: close) and passes on a
// 2xx or 3xx status within the timeout (at most 4 KiB of the response is read).
//
// Damping: a server's verdict flips to up after `rise` consecutive passes and to down after
// `fall` consecutive failures; the first verdict of a newly watched server (it starts
// `pending`) needs `rise` passes or `fall` failures too. Only verdict changes are reported.
// Checks of one server never overlap; each interval gets ±10% jitter so a thousand servers
// registered together are not checked in lock-step (HAProxy `spread-checks`).
//
// Threading: everything runs on the io_context passed in; watch/unwatch/stop may be called from
// any thread. The callback runs on that io_context and must not block. The io_context must
// outlive the checker's pending operations: call stop(), then keep running the context until
// pending() is 0 (or destroy the context after the checker).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "ns/server.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace chiron::nameserver {

struct CheckSpec {
  enum class Type : uint8_t { kNone, kTcp, kHttp };
  Type type = Type::kNone;
  std::string path = "/";       // HTTP only; must start with '/'
  uint32_t interval_ms = 2000;  // HAProxy inter
  uint32_t timeout_ms = 1000;
  uint32_t rise = 2;
  uint32_t fall = 3;

  bool enabled() const { return type != Type::kNone; }
  bool operator==(const CheckSpec&) const = default;
};

// JSON form, stored in StoredServer::check and used by the admin API:
//   {"type":"tcp"|"http","path":"/health","interval_ms":2000,"timeout_ms":1000,"rise":2,"fall":3}
// Missing fields take the defaults above; "" or "null" parse to Type::kNone. Bounds:
// interval 100..3600000 ms, timeout 50 ms..interval, rise/fall 1..100, path ≤ 1024 bytes of
// printable ASCII starting with '/'. Anything else → kInvalidArgument naming the field.
Result<CheckSpec> parse_check_spec(std::string_view json);
std::string to_json(const CheckSpec& spec);  // "" for kNone

// One verdict change.
struct CheckResult {
  std::string service;
  std::string id;              // "ip:port"
  ns::Health health;           // kUp or kDown
  std::string detail;          // e.g. "HTTP 503", "connect: Connection refused", "timeout after 1000 ms"
};

struct CheckerStats {
  uint64_t checks = 0;    // completed checks
  uint64_t passes = 0;
  uint64_t failures = 0;
  size_t watched = 0;
};

class HealthChecker {
 public:
  using Callback = std::function<void(const CheckResult&)>;

  HealthChecker(boost::asio::io_context& context, Callback on_change);
  ~HealthChecker();  // stop()
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Starts (or, if already watched, restarts with the new spec and a fresh pending verdict)
  // checking id of service. id must be "ip:port" with a numeric IPv4/IPv6 address or a host
  // name (resolved on each check). A spec with Type::kNone is the same as unwatch().
  void watch(std::string_view service, std::string_view id, const CheckSpec& spec);
  void unwatch(std::string_view service, std::string_view id);
  // Unwatches everything and cancels checks in flight. Idempotent.
  void stop();

  CheckerStats stats() const;
  size_t pending() const;  // operations still referencing the io_context

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace chiron::nameserver
