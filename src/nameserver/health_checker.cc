// HealthChecker implementation. See health_checker.h for the contract.
//
// Ownership: each watched server is a `Probe`, owned by a shared_ptr because its async
// operations outlive any single call (the map entry, and every pending handler, hold one).
// A Probe's mutable state is confined to its own strand; the map of probes is guarded by
// Impl::mu_, so watch/unwatch/stop can act synchronously from any thread and only hand the
// socket/timer cancellation to the probe's strand. A probe removed from the map is marked
// inactive first, so a check completing after unwatch() reports nothing.
//
// Impl holds no Asio object (only a reference to the io_context), so a checker that was
// stopped may be destroyed after the io_context; probes still referenced by queued handlers
// die with the context's handlers. Probes hold a shared_ptr<Impl> for the callback and the
// counters; the Impl → probe edge is dropped by stop(), which the destructor calls.
//
// One attempt: [resolve] → connect → (HTTP: write GET, read ≤ 4 KiB body) → finish, raced by a
// deadline timer that closes the socket (and cancels the resolver) so the chain ends with
// operation_aborted and finish() reports "timeout after N ms". Exactly one finish per attempt.

#include "nameserver/health_checker.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <unordered_map>

#include "common/strings.h"

namespace chiron::nameserver {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using boost::system::error_code;
using Strand = asio::strand<asio::io_context::executor_type>;

constexpr uint32_t kMinIntervalMs = 100;
constexpr uint32_t kMaxIntervalMs = 3'600'000;
constexpr uint32_t kMinTimeoutMs = 50;
constexpr uint32_t kMaxRiseFall = 100;
constexpr size_t kMaxPathBytes = 1024;
constexpr uint64_t kMaxBodyBytes = 4096;
constexpr uint32_t kMaxHeaderBytes = 8192;

// A request-target is visible ASCII without spaces (RFC 9112 §3.2), so it cannot break the
// request line or smuggle headers.
bool valid_path(std::string_view path) {
  if (path.empty() || path.front() != '/' || path.size() > kMaxPathBytes) return false;
  return std::all_of(path.begin(), path.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

// watch() has no error channel, so out-of-range specs (not produced by parse_check_spec) are
// clamped into the documented bounds rather than spinning a timer at interval 0.
CheckSpec clamp_spec(CheckSpec spec) {
  spec.interval_ms = std::clamp(spec.interval_ms, kMinIntervalMs, kMaxIntervalMs);
  spec.timeout_ms = std::clamp(spec.timeout_ms, kMinTimeoutMs, spec.interval_ms);
  spec.rise = std::clamp<uint32_t>(spec.rise, 1, kMaxRiseFall);
  spec.fall = std::clamp<uint32_t>(spec.fall, 1, kMaxRiseFall);
  return spec;
}

// Uniform in [lo, hi]. Jitter needs no cryptographic quality, only independence per thread.
uint64_t random_between(uint64_t lo, uint64_t hi) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
}

std::string map_key(std::string_view service, std::string_view id) {
  std::string key(service);
  key.push_back('\0');
  key.append(id);
  return key;
}

}  // namespace

struct HealthChecker::Impl {
  explicit Impl(asio::io_context& c, Callback cb) : context(c), on_change(std::move(cb)) {}

  asio::io_context& context;
  const Callback on_change;
  std::atomic<uint64_t> checks{0};
  std::atomic<uint64_t> passes{0};
  std::atomic<uint64_t> failures{0};
  std::atomic<size_t> pending{0};

  struct Probe;
  std::mutex mu;
  bool stopped = false;                                            // Guarded by mu
  std::unordered_map<std::string, std::shared_ptr<Probe>> probes;  // Guarded by mu
};

struct HealthChecker::Impl::Probe : std::enable_shared_from_this<Probe> {
  Probe(std::shared_ptr<Impl> owner, std::string_view svc, std::string_view server_id, const CheckSpec& s)
      : impl(std::move(owner)),
        service(svc),
        id(server_id),
        spec(clamp_spec(s)),
        strand(asio::make_strand(impl->context)),
        interval_timer(strand),
        deadline(strand),
        resolver(strand),
        socket(strand) {}

  // Wraps a completion handler so pending() counts it until it has run.
  template <class F>
  auto track(F&& f) {
    impl->pending.fetch_add(1, std::memory_order_relaxed);
    return [self = shared_from_this(), f = std::forward<F>(f)](auto&&... args) mutable {
      f(std::forward<decltype(args)>(args)...);
      self->impl->pending.fetch_sub(1, std::memory_order_relaxed);
    };
  }

  void post(std::function<void()> fn) {
    asio::post(strand, track([fn = std::move(fn)] { fn(); }));
  }

  // Strand: first check soon, spread over 10% of the interval (HAProxy spread-checks).
  void start() {
    if (!active.load()) return;
    schedule(std::chrono::milliseconds(random_between(0, spec.interval_ms / 10)));
  }

  // Strand: cancels everything outstanding; the handlers see operation_aborted or !active.
  void cancel() {
    error_code ignored;
    interval_timer.cancel();
    deadline.cancel();
    resolver.cancel();
    socket.close(ignored);
  }

  void schedule(std::chrono::steady_clock::duration delay) {
    interval_timer.expires_after(delay);
    interval_timer.async_wait(track([this](const error_code& ec) {
      if (!ec && active.load()) run();
    }));
  }

  void run() {
    ++attempt;
    in_flight = true;
    timed_out = false;
    attempt_start = std::chrono::steady_clock::now();
    deadline.expires_after(std::chrono::milliseconds(spec.timeout_ms));
    deadline.async_wait(track([this, my_attempt = attempt](const error_code& ec) {
      if (ec || my_attempt != attempt || !in_flight) return;
      timed_out = true;
      error_code ignored;
      resolver.cancel();
      socket.close(ignored);
    }));

    auto target = parse_host_port(id);
    if (!target.ok() || target->port == 0) return finish(false, "bad address '" + id + "'");
    if (spec.type == CheckSpec::Type::kHttp && !valid_path(spec.path)) return finish(false, "bad path");
    host_header = target->to_string();
    error_code ec;
    const asio::ip::address address = asio::ip::make_address(target->host, ec);
    if (!ec) {
      socket.async_connect(tcp::endpoint(address, target->port), track([this](const error_code& e) { on_connect(e); }));
      return;
    }
    resolver.async_resolve(target->host, std::to_string(target->port),
                           track([this](const error_code& e, const tcp::resolver::results_type& results) {
                             if (e || abandoned()) return fail("resolve", e);
                             asio::async_connect(
                                 socket, results,
                                 track([this](const error_code& e2, const tcp::endpoint&) { on_connect(e2); }));
                           }));
  }

  void on_connect(const error_code& ec) {
    if (ec || abandoned()) return fail("connect", ec);
    if (spec.type != CheckSpec::Type::kHttp) return finish(true, "TCP connect ok");
    request = {};
    request.method(http::verb::get);
    request.target(spec.path);
    request.version(11);
    request.set(http::field::host, host_header);
    request.set(http::field::user_agent, "chiron-health-check");
    request.set(http::field::connection, "close");
    http::async_write(socket, request, track([this](const error_code& e, size_t) {
                        if (e || abandoned()) return fail("write", e);
                        buffer.consume(buffer.size());
                        parser.emplace();
                        parser->header_limit(kMaxHeaderBytes);
                        parser->body_limit(kMaxBodyBytes);
                        http::async_read(socket, buffer, *parser,
                                         track([this](const error_code& e2, size_t) { on_read(e2); }));
                      }));
  }

  void on_read(const error_code& ec) {
    // A complete header is enough to judge; a body over the limit is not the server's failure.
    if (abandoned() || (ec && !(ec == http::error::body_limit && parser->is_header_done()))) return fail("read", ec);
    const unsigned status = parser->get().result_int();
    finish(status >= 200 && status < 400, "HTTP " + std::to_string(status));
  }

  // A step whose success was already queued when the deadline fired or the probe was
  // cancelled must not start the next step (it could outlive the timeout).
  bool abandoned() const { return timed_out || !active.load(); }

  void fail(std::string_view what, const error_code& ec) {
    if (timed_out) return finish(false, "timeout after " + std::to_string(spec.timeout_ms) + " ms");
    finish(false, std::string(what) + ": " + ec.message());
  }

  void finish(bool pass, std::string detail) {
    in_flight = false;
    deadline.cancel();
    error_code ignored;
    socket.close(ignored);
    parser.reset();
    if (!active.load()) return;

    impl->checks.fetch_add(1, std::memory_order_relaxed);
    (pass ? impl->passes : impl->failures).fetch_add(1, std::memory_order_relaxed);
    std::optional<ns::Health> change;
    if (pass) {
      fails = 0;
      if (++passes >= spec.rise && verdict != ns::Health::kUp) change = ns::Health::kUp;
    } else {
      passes = 0;
      if (++fails >= spec.fall && verdict != ns::Health::kDown) change = ns::Health::kDown;
    }
    if (change) {
      verdict = *change;
      if (impl->on_change) impl->on_change(CheckResult{service, id, *change, std::move(detail)});
    }
    if (!active.load()) return;  // the callback may have unwatched us

    // ±10% jitter; the period is measured from the attempt's start so slow checks do not drift.
    const uint64_t interval = spec.interval_ms;
    const auto period = std::chrono::milliseconds(random_between(interval - interval / 10, interval + interval / 10));
    const auto elapsed = std::chrono::steady_clock::now() - attempt_start;
    schedule(
        std::max<std::chrono::steady_clock::duration>(period - elapsed, std::chrono::steady_clock::duration::zero()));
  }

  const std::shared_ptr<Impl> impl;
  const std::string service;
  const std::string id;
  const CheckSpec spec;
  std::atomic<bool> active{true};

  // Strand-confined.
  Strand strand;
  asio::steady_timer interval_timer;
  asio::steady_timer deadline;
  tcp::resolver resolver;
  tcp::socket socket;
  std::string host_header;
  http::request<http::empty_body> request;
  boost::beast::flat_buffer buffer;
  std::optional<http::response_parser<http::string_body>> parser;
  std::chrono::steady_clock::time_point attempt_start;
  uint64_t attempt = 0;
  bool in_flight = false;
  bool timed_out = false;
  uint32_t passes = 0;
  uint32_t fails = 0;
  ns::Health verdict = ns::Health::kPending;
};

namespace {

Status field_error(std::string_view field, std::string_view what) {
  return Status::invalid_argument("check spec: " + std::string(field) + " " + std::string(what));
}

Result<uint32_t> parse_bounded(const boost::json::value& v, std::string_view field, uint32_t lo, uint32_t hi) {
  int64_t n = 0;
  if (v.is_int64()) {
    n = v.get_int64();
  } else if (v.is_uint64()) {
    n = INT64_MAX;  // above every bound
  } else {
    return field_error(field, "must be an integer");
  }
  if (n < lo || n > hi) return field_error(field, "must be " + std::to_string(lo) + ".." + std::to_string(hi));
  return static_cast<uint32_t>(n);
}

}  // namespace

Result<CheckSpec> parse_check_spec(std::string_view json) {
  const std::string_view text = trim(json);
  if (text.empty()) return CheckSpec{};
  error_code ec;
  const boost::json::value doc = boost::json::parse(text, ec);
  if (ec) return Status::invalid_argument("check spec: bad JSON: " + ec.message());
  if (doc.is_null()) return CheckSpec{};
  if (!doc.is_object()) return Status::invalid_argument("check spec: expected a JSON object or null");

  CheckSpec spec;
  bool has_type = false;
  bool has_timeout = false;
  for (const auto& [key, v] : doc.get_object()) {
    if (key == "type") {
      if (!v.is_string()) return field_error("type", "must be \"tcp\" or \"http\"");
      if (v.get_string() == "tcp") {
        spec.type = CheckSpec::Type::kTcp;
      } else if (v.get_string() == "http") {
        spec.type = CheckSpec::Type::kHttp;
      } else {
        return field_error("type", "must be \"tcp\" or \"http\"");
      }
      has_type = true;
    } else if (key == "path") {
      if (!v.is_string() || !valid_path(v.get_string()))
        return field_error("path", "must start with '/' and be at most 1024 bytes of visible ASCII");
      spec.path = std::string(v.get_string());
    } else if (key == "interval_ms") {
      CHIRON_ASSIGN_OR_RETURN(spec.interval_ms, parse_bounded(v, "interval_ms", kMinIntervalMs, kMaxIntervalMs));
    } else if (key == "timeout_ms") {
      CHIRON_ASSIGN_OR_RETURN(spec.timeout_ms, parse_bounded(v, "timeout_ms", kMinTimeoutMs, kMaxIntervalMs));
      has_timeout = true;
    } else if (key == "rise") {
      CHIRON_ASSIGN_OR_RETURN(spec.rise, parse_bounded(v, "rise", 1, kMaxRiseFall));
    } else if (key == "fall") {
      CHIRON_ASSIGN_OR_RETURN(spec.fall, parse_bounded(v, "fall", 1, kMaxRiseFall));
    } else {
      return field_error(json_quote(std::string_view(key).substr(0, 64)), "is not a check field");
    }
  }
  // A spec without a type would silently disable the check; null is the way to say "none".
  if (!has_type) return field_error("type", "is required");
  if (spec.timeout_ms > spec.interval_ms) {
    // An explicit timeout must fit the interval; the default timeout shrinks to a short one.
    if (has_timeout) return field_error("timeout_ms", "must not exceed interval_ms");
    spec.timeout_ms = spec.interval_ms;
  }
  return spec;
}

std::string to_json(const CheckSpec& spec) {
  if (!spec.enabled()) return "";
  boost::json::object o;
  o["type"] = spec.type == CheckSpec::Type::kHttp ? "http" : "tcp";
  o["path"] = spec.path;
  o["interval_ms"] = spec.interval_ms;
  o["timeout_ms"] = spec.timeout_ms;
  o["rise"] = spec.rise;
  o["fall"] = spec.fall;
  return boost::json::serialize(o);
}

HealthChecker::HealthChecker(asio::io_context& context, Callback on_change)
    : impl_(std::make_shared<Impl>(context, std::move(on_change))) {}

HealthChecker::~HealthChecker() {
  stop();
}

void HealthChecker::watch(std::string_view service, std::string_view id, const CheckSpec& spec) {
  if (!spec.enabled()) return unwatch(service, id);
  auto probe = std::make_shared<Impl::Probe>(impl_, service, id, spec);
  std::shared_ptr<Impl::Probe> old;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopped) return;
    auto& slot = impl_->probes[map_key(service, id)];
    old = std::exchange(slot, probe);
  }
  if (old) {
    old->active.store(false);
    old->post([old] { old->cancel(); });
  }
  probe->post([probe] { probe->start(); });
}

void HealthChecker::unwatch(std::string_view service, std::string_view id) {
  std::shared_ptr<Impl::Probe> old;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->probes.find(map_key(service, id));
    if (it == impl_->probes.end()) return;
    old = std::move(it->second);
    impl_->probes.erase(it);
  }
  old->active.store(false);
  old->post([old] { old->cancel(); });
}

void HealthChecker::stop() {
  std::unordered_map<std::string, std::shared_ptr<Impl::Probe>> probes;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopped = true;
    probes.swap(impl_->probes);
  }
  for (auto& [key, probe] : probes) {
    probe->active.store(false);
    probe->post([p = probe] { p->cancel(); });
  }
}

CheckerStats HealthChecker::stats() const {
  CheckerStats s;
  s.checks = impl_->checks.load(std::memory_order_relaxed);
  s.passes = impl_->passes.load(std::memory_order_relaxed);
  s.failures = impl_->failures.load(std::memory_order_relaxed);
  std::lock_guard lock(impl_->mu);
  s.watched = impl_->probes.size();
  return s;
}

size_t HealthChecker::pending() const {
  return impl_->pending.load(std::memory_order_relaxed);
}

}  // namespace chiron::nameserver
