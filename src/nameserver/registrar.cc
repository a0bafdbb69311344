#include "nameserver/registrar.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <atomic>
#include <mutex>
#include <random>

#include "common/clock.h"
#include "common/log.h"
#include "net/resp.h"
#include "ns/auth.h"

namespace chiron::nameserver {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Registrar::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& ctx, RegistrarOptions opts)
      : context(ctx), options(std::move(opts)), socket(ctx), resolver(ctx), timer(ctx), rng(std::random_device{}()) {}

  asio::io_context& context;
  const RegistrarOptions options;
  tcp::socket socket;
  tcp::resolver resolver;
  asio::steady_timer timer;
  asio::steady_timer stop_guard{context};
  asio::streambuf inbuf;
  std::string outbuf;
  std::mt19937_64 rng;
  uint32_t backoff_ms = 200;
  bool stopping = false;
  bool busy = false;  // a command is in flight
  std::function<void()> on_stopped;
  std::atomic<uint64_t> load{0};
  mutable std::mutex mu;
  RegistrarStatus st;  // Guarded by mu

  std::vector<std::string> command(const char* verb, bool with_weight) {
    std::vector<std::string> args{verb, options.service, options.id};
    if (with_weight) args.push_back(std::to_string(options.weight));
    if (std::string_view(verb) == "HB") args.push_back("load=" + std::to_string(load.load()));
    if (!options.secret.empty())
      args.push_back(ns::sign_registration(options.secret, verb, options.service, options.id,
                                           Clock::system().unix_ms() / 1000));
    return args;
  }

  void fail(const std::string& why) {
    {
      std::lock_guard lock(mu);
      st.registered = false;
      st.last_error = why;
    }
    boost::system::error_code ignored;
    socket.close(ignored);
    if (stopping) return finish();
    log::warn("registrar", "name server unreachable; retrying",
              {{"ns", options.name_server.to_string()}, {"error", why}, {"retry_ms", backoff_ms}});
    std::uniform_int_distribution<uint32_t> jitter(backoff_ms * 8 / 10, backoff_ms * 12 / 10);
    timer.expires_after(std::chrono::milliseconds(jitter(rng)));
    backoff_ms = std::min<uint32_t>(backoff_ms * 2, 10'000);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec && !self->stopping) self->connect();
    });
  }

  void finish() {
    boost::system::error_code ignored;
    socket.close(ignored);
    timer.cancel();
    stop_guard.cancel();
    if (on_stopped) std::exchange(on_stopped, nullptr)();
  }

  void connect() {
    resolver.async_resolve(options.name_server.host, std::to_string(options.name_server.port),
                           [self = shared_from_this()](const boost::system::error_code& ec, tcp::resolver::results_type r) {
                             if (ec) return self->fail("resolve: " + ec.message());
                             asio::async_connect(self->socket, r,
                                                 [self](const boost::system::error_code& cec, const tcp::endpoint&) {
                                                   if (cec) return self->fail("connect: " + cec.message());
                                                   self->send(self->command("REG", true));
                                                 });
                           });
  }

  // One command, one reply line (REG/HB answer +OK or -ERR, REM :n).
  void send(std::vector<std::string> args) {
    busy = true;
    outbuf = net::resp_bulk_array(args);
    const std::string verb = args[0];
    asio::async_write(socket, asio::buffer(outbuf), [self = shared_from_this(), verb](const boost::system::error_code& ec, size_t) {
      if (ec) return self->fail("write: " + ec.message());
      asio::async_read_until(self->socket, self->inbuf, "\r\n",
                             [self, verb](const boost::system::error_code& rec, size_t n) {
                               if (rec) return self->fail("read: " + rec.message());
                               std::string line(asio::buffers_begin(self->inbuf.data()),
                                                asio::buffers_begin(self->inbuf.data()) + static_cast<std::ptrdiff_t>(n) - 2);
                               self->inbuf.consume(n);
                               self->busy = false;
                               self->on_reply(verb, line);
                             });
    });
  }

  void on_reply(const std::string& verb, const std::string& line) {
    if (verb == "REM") return finish();
    if (!line.empty() && line[0] == '-') {
      if (verb == "HB" && line.find("unknown server") != std::string::npos) {
        log::info("registrar", "name server forgot us; registering again", {{"ns", options.name_server.to_string()}});
        return send(command("REG", true));
      }
      {
        std::lock_guard lock(mu);
        st.registered = false;
        st.last_error = line.substr(1);
      }
      log::warn("registrar", "name server refused", {{"verb", verb}, {"reply", line.substr(1)}});
      if (stopping) return finish();
      // Refusals (bad secret, ...) do not heal by hammering: retry at the slowest pace.
      backoff_ms = 10'000;
      return fail(line.substr(1));
    }
    backoff_ms = 200;
    {
      std::lock_guard lock(mu);
      st.registered = true;
      st.last_error.clear();
      if (verb == "REG") ++st.registrations;
      if (verb == "HB") ++st.heartbeats;
    }
    if (verb == "REG") {
      log::info("registrar", "registered", {{"ns", options.name_server.to_string()}, {"service", options.service}, {"id", options.id}});
      return send(command("HB", false));  // proves us up at once instead of one period later
    }
    if (stopping) return send(command("REM", false));
    timer.expires_after(std::chrono::milliseconds(options.heartbeat_ms));
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      if (self->stopping) return self->send(self->command("REM", false));
      self->send(self->command("HB", false));
    });
  }
};

Registrar::Registrar(asio::io_context& context, RegistrarOptions options)
    : impl_(std::make_shared<Impl>(context, std::move(options))) {}

Registrar::~Registrar() {
  auto impl = impl_;
  asio::post(impl->context, [impl] {
    impl->stopping = true;
    impl->finish();
  });
}

void Registrar::start() {
  asio::post(impl_->context, [impl = impl_] { impl->connect(); });
}

void Registrar::stop(std::function<void()> on_done) {
  asio::post(impl_->context, [impl = impl_, on_done = std::move(on_done)]() mutable {
    impl->stopping = true;
    impl->on_stopped = std::move(on_done);
    // Bound the goodbye: a name server that does not answer must not hold up shutdown.
    impl->stop_guard.expires_after(std::chrono::seconds(1));
    impl->stop_guard.async_wait([impl](const boost::system::error_code& ec) {
      if (!ec) impl->finish();
    });
    // Deregister if connected and idle; a command in flight sends REM when its reply comes.
    if (impl->busy) return;
    if (!impl->socket.is_open()) return impl->finish();
    impl->timer.cancel();
    impl->send(impl->command("REM", false));
  });
}

void Registrar::set_load(uint64_t load) { impl_->load.store(load); }

RegistrarStatus Registrar::status() const {
  std::lock_guard lock(impl_->mu);
  return impl_->st;
}

}  // namespace chiron::nameserver
