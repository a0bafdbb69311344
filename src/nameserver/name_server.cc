#include "nameserver/name_server.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include "common/log.h"
#include "nameserver/name_server_impl.h"

namespace chiron::nameserver {

namespace {

std::string check_key(std::string_view service, std::string_view id) {
  std::string k(service);
  k += '\0';
  k += id;
  return k;
}

// Waits (bounded) for fn() to become true, sleeping between polls.
template <class F>
bool wait_until(F fn, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!fn()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace

bool is_loopback_host(std::string_view host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(std::string(host), ec);
  return !ec && addr.is_loopback();
}

NameServer::Impl::Impl(kernel::Runtime& rt, NameServerOptions opts)
    : runtime(rt),
      options(std::move(opts)),
      registry(Clock::system(), options.registry),
      verifier(Clock::system()),
      started_us(Clock::system().steady_us()) {
  security.admin_token = options.admin_token;
  security.verifier = &verifier;
}

void NameServer::Impl::on_change(const ns::Change& c) {
  if (store && c.durable) {
    Mutation m;
    switch (c.op) {
      case ns::Change::Op::kUpsert:
        m.kind = Mutation::Kind::kPutServer;
        m.server = StoredServer{c.service, c.server.id, c.server.weight, c.server.admin, c.server.check};
        break;
      case ns::Change::Op::kRemove:
        m.kind = Mutation::Kind::kDeleteServer;
        m.server.service = c.service;
        m.server.id = c.id;
        break;
      case ns::Change::Op::kService:
        m.kind = Mutation::Kind::kPutService;
        m.service = StoredService{c.service, c.algorithm, c.secret};
        break;
      case ns::Change::Op::kRemoveService:
        m.kind = Mutation::Kind::kDeleteService;
        m.service.name = c.service;
        break;
    }
    note_journal_seq(store->submit(std::move(m)));
  }
  if (events) events->on_change(c);
  if (!checker) return;
  std::lock_guard lock(checks_mu);
  switch (c.op) {
    case ns::Change::Op::kUpsert: {
      std::string key = check_key(c.service, c.server.id);
      auto it = check_specs.find(key);
      const std::string& current = it == check_specs.end() ? std::string() : it->second;
      if (current == c.server.check) break;
      if (c.server.check.empty()) {
        check_specs.erase(key);
        checker->unwatch(c.service, c.server.id);
        break;
      }
      auto spec = parse_check_spec(c.server.check);
      if (!spec.ok()) break;  // validated by the admin API before it reached the registry
      check_specs[key] = c.server.check;
      checker->watch(c.service, c.server.id, *spec);
      break;
    }
    case ns::Change::Op::kRemove:
      if (check_specs.erase(check_key(c.service, c.id)) > 0) checker->unwatch(c.service, c.id);
      break;
    case ns::Change::Op::kRemoveService:
      for (auto it = check_specs.begin(); it != check_specs.end();) {
        const size_t nul = it->first.find('\0');
        if (std::string_view(it->first).substr(0, nul) == c.service) {
          checker->unwatch(c.service, std::string_view(it->first).substr(nul + 1));
          it = check_specs.erase(it);
        } else {
          ++it;
        }
      }
      break;
    case ns::Change::Op::kService: break;
  }
}

Status NameServer::Impl::restore() {
  CHIRON_ASSIGN_OR_RETURN(StoredState state, store->load());
  for (const StoredService& s : state.services)
    CHIRON_RETURN_IF_ERROR(registry.restore_service(s.name, s.algorithm, s.secret));
  for (const StoredServer& s : state.servers) {
    CHIRON_RETURN_IF_ERROR(registry.restore_server(s.service, s.id, s.weight, s.admin, s.check));
    if (!s.check.empty()) {
      auto spec = parse_check_spec(s.check);
      if (!spec.ok()) {
        log::warn("ns", "stored check spec is invalid; server kept lease-less until re-registered",
                  {{"service", s.service}, {"server", s.id}, {"error", spec.status().message()}});
        continue;
      }
      std::lock_guard lock(checks_mu);
      check_specs[check_key(s.service, s.id)] = s.check;
      checker->watch(s.service, s.id, *spec);
    }
  }
  log::info("ns", "restored", {{"services", state.services.size()}, {"servers", state.servers.size()},
                               {"store", store->path().string()}});
  return ok_status();
}

void NameServer::Impl::schedule_sweep() {
  sweep_timer->expires_after(std::chrono::milliseconds(options.sweep_interval_ms));
  sweep_timer->async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped.load()) return;
    const ns::SweepReport rep = registry.sweep();
    if (rep.expired > 0 || rep.deregistered > 0)
      log::info("ns", "sweep", {{"expired", rep.expired}, {"deregistered", rep.deregistered}});
    if (rep.held_back > 0)
      log::warn("ns", "panic guard: deregistrations held back (over half a pool down at once)",
                {{"held_back", rep.held_back}});
    if (request_log) request_log->flush_async();
    schedule_sweep();
  });
}

Result<std::unique_ptr<NameServer>> NameServer::start(kernel::Runtime& runtime, NameServerOptions options) {
  if (options.admin_token.empty()) {
    const bool exposed = !is_loopback_host(options.data.host) ||
                         (options.admin_enabled && !is_loopback_host(options.admin.host));
    if (exposed)
      return Status::failed_precondition(
          "refusing to listen on a non-loopback address without an admin token (set --admin-token or "
          "CHIRON_ADMIN_TOKEN)");
  }
  if (options.sweep_interval_ms == 0) return Status::invalid_argument("sweep interval must be > 0");
  auto contexts = runtime.net_contexts();
  if (contexts.empty()) return Status::failed_precondition("runtime has no net threads");
  auto impl = std::make_unique<Impl>(runtime, options);
  Impl* s = impl.get();

  s->checker = std::make_unique<HealthChecker>(*contexts[0], [s](const CheckResult& r) {
    if (s->stopped.load()) return;
    (void)s->registry.set_health(r.service, r.id, r.health, r.detail);
  });
  if (!options.store_file.empty()) {
    // One name server per store: a second one would restore the same state and then diverge.
    std::error_code ec;
    if (options.store_file.has_parent_path()) std::filesystem::create_directories(options.store_file.parent_path(), ec);
    const std::string lock_path = options.store_file.string() + ".lock";
    s->store_lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->store_lock_fd < 0) return Status::from_errno("open " + lock_path, errno);
    if (::flock(s->store_lock_fd, LOCK_EX | LOCK_NB) != 0)
      return Status::failed_precondition("another name server is using " + options.store_file.string() +
                                         " (lock " + lock_path + " is held)");
    CHIRON_ASSIGN_OR_RETURN(s->store, Store::open(options.store_file, runtime));
    CHIRON_RETURN_IF_ERROR(s->restore().context("restore " + options.store_file.string()));
  }
  if (!options.request_log.empty()) {
    CHIRON_ASSIGN_OR_RETURN(s->request_log,
                            RequestLog::open(options.request_log, runtime, options.request_log_sample));
  }
  if (options.admin_enabled) {
    s->events = std::make_shared<EventHub>(*contexts[0], s->registry, s->req_latency);
    s->events->start();
  }
  s->registry.set_observer([s](const ns::Change& c) { s->on_change(c); });

  net::LineServerOptions line_opts;
  line_opts.address = options.data.host;
  line_opts.port = options.data.port;
  s->data_server = std::make_unique<net::LineServer>(
      contexts, line_opts,
      [s](const net::LineConnectionInfo& conn, net::RespCommand& cmd) { return s->handle_command(conn, cmd); });
  CHIRON_RETURN_IF_ERROR(s->data_server->start().context("data plane " + options.data.to_string()));

  if (options.admin_enabled) {
    net::HttpServerOptions http_opts;
    http_opts.address = options.admin.host;
    http_opts.port = options.admin.port;
    s->admin_server = std::make_unique<net::HttpServer>(contexts, http_opts, s->admin_router());
    if (Status st = s->admin_server->start(); !st.ok()) {
      s->data_server->stop();
      return st.context("admin plane " + options.admin.to_string());
    }
  }
  s->sweep_timer = std::make_unique<boost::asio::steady_timer>(*contexts[0]);
  boost::asio::post(*contexts[0], [s] { s->schedule_sweep(); });
  return std::unique_ptr<NameServer>(new NameServer(std::move(impl)));
}

NameServer::Impl::~Impl() {
  // Members are destroyed after this body: close the store (and its SQLite file) before
  // releasing the lock that says it is ours.
  data_server.reset();
  admin_server.reset();
  store.reset();
  if (store_lock_fd >= 0) ::close(store_lock_fd);
}

NameServer::NameServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

NameServer::~NameServer() { stop(); }

HostPort NameServer::data_endpoint() const { return HostPort{impl_->options.data.host, impl_->data_server->port()}; }

HostPort NameServer::admin_endpoint() const {
  if (!impl_->admin_server) return HostPort{impl_->options.admin.host, 0};
  return HostPort{impl_->options.admin.host, impl_->admin_server->port()};
}

ns::Registry& NameServer::registry() { return impl_->registry; }

void NameServer::stop() {
  Impl& s = *impl_;
  if (s.stopped.exchange(true)) return;
  auto contexts = s.runtime.net_contexts();
  if (s.sweep_timer && !contexts.empty()) {
    std::promise<void> cancelled;
    boost::asio::post(*contexts[0], [&s, &cancelled] {
      s.sweep_timer->cancel();
      cancelled.set_value();
    });
    cancelled.get_future().wait_for(std::chrono::seconds(5));
  }
  if (s.data_server) s.data_server->stop();
  if (s.admin_server) s.admin_server->stop();
  if (s.events) s.events->stop();
  if (s.checker) s.checker->stop();
  // Connections write the replies they owe (durable ones included), then close.
  if (s.data_server && !wait_until([&s] { return s.data_server->connection_count() == 0; }, std::chrono::seconds(5)))
    log::warn("ns", "data connections still open after 5 s; closing anyway");
  if (s.admin_server) (void)wait_until([&s] { return s.admin_server->connection_count() == 0; }, std::chrono::seconds(2));
  if (s.checker) (void)wait_until([&s] { return s.checker->pending() == 0; }, std::chrono::seconds(2));
  s.registry.set_observer(nullptr);
  if (s.store) {
    if (Status st = s.store->flush(); !st.ok()) log::error("ns", "store flush failed", {{"error", st.message()}});
  }
}

}  // namespace chiron::nameserver
