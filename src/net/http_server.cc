#include "net/http_server.h"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <future>

#include "common/check.h"
#include "common/log.h"
#include "net/http_server_state.h"

namespace chiron::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace detail {

void HttpServerState::connection_gone() {
  if (connections.fetch_sub(1, std::memory_order_acq_rel) == 1) maybe_notify_drained();
}

void HttpServerState::maybe_notify_drained() {
  if (!acceptor_closed.load() || connections.load() != 0) return;
  if (drained_notified.exchange(true)) return;
  std::function<void()> fn;
  {
    std::lock_guard lock(mu_);
    fn = std::move(on_drained);
  }
  if (fn) fn();
}

void HttpServerState::teardown_slot(size_t i) {
  HttpContextSlot& slot = *slots[i];
  if (slot.torn_down.exchange(true)) return;
  if (slot.sweeper) {
    slot.sweeper->cancel();
    slot.sweeper.reset();
  }
  if (i == 0) {
    error_code ec;
    if (acceptor) acceptor->close(ec);
    acceptor.reset();
    if (accept_backoff) accept_backoff->cancel();
    accept_backoff.reset();
  }
}

namespace {

// Loop-confined to the slot's context: closes connections whose deadline
// passed. One timer per context instead of one timer arm per request.
void arm_sweep(std::shared_ptr<HttpServerState> st, HttpContextSlot* slot) {
  if (!slot->sweeper) return;
  slot->sweeping = true;
  slot->sweeper->expires_after(st->sweep_interval);
  slot->sweeper->async_wait([st, slot](error_code ec) {
    if (ec || !slot->sweeper) {
      slot->sweeping = false;
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    // on_sweep() may close (and so unregister) the connection it is called on.
    std::vector<HttpConnectionBase*> snapshot(slot->connections.begin(), slot->connections.end());
    for (HttpConnectionBase* c : snapshot)
      if (slot->connections.count(c)) c->on_sweep(now);
    if (st->stopping.load() && slot->connections.empty()) {
      slot->sweeping = false;
      return;
    }
    arm_sweep(st, slot);
  });
}

void do_accept(std::shared_ptr<HttpServerState> st) {
  if (st->stopping.load() || !st->acceptor) return;
  HttpContextSlot* slot = st->slots[st->next_slot.fetch_add(1, std::memory_order_relaxed) % st->slots.size()].get();
  st->acceptor->async_accept(slot->ctx, [st, slot](error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || st->stopping.load()) return;
    if (ec) {
      // EMFILE / ENFILE / ENOBUFS: back off instead of spinning on the error.
      log::warn("http", "accept failed", {{"error", ec.message()}});
      if (!st->accept_backoff) return;
      st->accept_backoff->expires_after(std::chrono::milliseconds(100));
      st->accept_backoff->async_wait([st](error_code e) {
        if (!e) do_accept(st);
      });
      return;
    }
    if (st->connections.load(std::memory_order_relaxed) >= st->options.max_connections) {
      error_code ignored;
      socket.close(ignored);
      return do_accept(st);
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    st->connections.fetch_add(1, std::memory_order_relaxed);
    asio::post(slot->ctx, [st, slot, s = std::move(socket)]() mutable {
      if (st->stopping.load()) {
        error_code e;
        s.close(e);
        st->connection_gone();
        return;
      }
      start_http_connection(st, *slot, std::move(s));
    });
    do_accept(st);
  });
}

}  // namespace
}  // namespace detail

HttpServer::HttpServer(std::vector<asio::io_context*> contexts, HttpServerOptions options, Router router)
    : state_(std::make_shared<detail::HttpServerState>()) {
  CHIRON_CHECK(!contexts.empty(), "HttpServer needs at least one io_context");
  state_->options = std::move(options);
  state_->router = std::move(router);
  for (asio::io_context* ctx : contexts) {
    CHIRON_CHECK(ctx != nullptr, "null io_context");
    state_->slots.push_back(std::make_unique<detail::HttpContextSlot>(*ctx));
  }
  const auto& o = state_->options;
  uint32_t shortest = std::min({o.idle_timeout_ms, o.read_timeout_ms, o.write_timeout_ms,
                                 o.handler_timeout_ms ? o.handler_timeout_ms : UINT32_MAX});
  state_->sweep_interval = std::chrono::milliseconds(std::clamp<uint32_t>(shortest / 4, 5, 1000));
}

HttpServer::~HttpServer() {
  if (!state_->started.load()) return;
  stop();
  // Destroy each context's I/O objects on that context (see HttpContextSlot).
  for (size_t i = 0; i < state_->slots.size(); ++i) {
    asio::io_context& ctx = state_->slots[i]->ctx;
    if (ctx.get_executor().running_in_this_thread() || ctx.stopped()) {
      state_->teardown_slot(i);
      continue;
    }
    auto done = std::make_shared<std::promise<void>>();
    auto fut = done->get_future();
    asio::post(ctx, [st = state_, i, done] {
      st->teardown_slot(i);
      done->set_value();
    });
    while (fut.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
      if (ctx.stopped()) {  // nobody will run the posted teardown
        state_->teardown_slot(i);
        break;
      }
    }
  }
}

Status HttpServer::start() {
  auto& st = *state_;
  if (st.started.load()) return Status::failed_precondition("http server already started");
  const auto& o = st.options;
  const std::string where = o.address + ":" + std::to_string(o.port);
  if (o.tls_cert_file.empty() != o.tls_key_file.empty())
    return Status::invalid_argument("TLS needs both a certificate and a key file");
  if (!o.tls_cert_file.empty()) {
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    error_code ec;
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                         asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                     ec);
    if (!ec) ctx->use_certificate_chain_file(o.tls_cert_file, ec);
    if (ec) return Status::invalid_argument("TLS certificate " + o.tls_cert_file + ": " + ec.message());
    ctx->use_private_key_file(o.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) return Status::invalid_argument("TLS key " + o.tls_key_file + ": " + ec.message());
    st.tls = std::move(ctx);
  }

  error_code ec;
  auto address = asio::ip::make_address(o.address == "localhost" ? "127.0.0.1" : o.address, ec);
  if (ec) return Status::invalid_argument("bad listen address " + o.address);
  tcp::endpoint endpoint(address, o.port);
  auto acceptor = std::make_unique<tcp::acceptor>(st.slots[0]->ctx);
  if (acceptor->open(endpoint.protocol(), ec); ec) return Status::io_error("socket " + where + ": " + ec.message());
  if (acceptor->set_option(tcp::acceptor::reuse_address(true), ec); ec)
    return Status::io_error("SO_REUSEADDR " + where + ": " + ec.message());
  if (acceptor->bind(endpoint, ec); ec) return Status::unavailable("bind " + where + ": " + ec.message());
  if (acceptor->listen(o.backlog, ec); ec) return Status::unavailable("listen " + where + ": " + ec.message());
  st.port = acceptor->local_endpoint(ec).port();
  if (ec) return Status::io_error("getsockname: " + ec.message());
  st.acceptor = std::move(acceptor);
  st.accept_backoff = std::make_unique<asio::steady_timer>(st.slots[0]->ctx);
  for (auto& slot : st.slots) slot->sweeper = std::make_unique<asio::steady_timer>(slot->ctx);
  st.started.store(true);

  for (auto& slot : st.slots) {
    asio::post(slot->ctx, [s = state_, slot = slot.get()] {
      if (!slot->sweeping && !s->stopping.load()) detail::arm_sweep(s, slot);
    });
  }
  asio::post(st.slots[0]->ctx, [s = state_] { detail::do_accept(s); });
  log::info("http", "listening",
            {{"addr", o.address + ":" + std::to_string(st.port)}, {"tls", st.tls ? "on" : "off"},
             {"threads", st.slots.size()}});
  return ok_status();
}

void HttpServer::stop(std::function<void()> on_drained) {
  auto& st = *state_;
  if (!st.started.load()) {
    if (on_drained) on_drained();
    return;
  }
  bool call_now = false;
  {
    std::lock_guard lock(st.mu_);
    if (st.drained_notified.load()) {
      call_now = true;
    } else if (on_drained) {
      if (st.on_drained) {
        st.on_drained = [a = std::move(st.on_drained), b = std::move(on_drained)] {
          a();
          b();
        };
      } else {
        st.on_drained = std::move(on_drained);
      }
    }
  }
  if (call_now) {
    if (on_drained) on_drained();
    return;
  }
  if (st.stopping.exchange(true)) return;
  asio::post(st.slots[0]->ctx, [s = state_] {
    error_code ec;
    if (s->acceptor) s->acceptor->close(ec);
    if (s->accept_backoff) s->accept_backoff->cancel();
    s->acceptor_closed.store(true);
    s->maybe_notify_drained();
  });
  for (auto& slot : st.slots) {
    asio::post(slot->ctx, [slot = slot.get(), s = state_] {
      std::vector<detail::HttpConnectionBase*> snapshot(slot->connections.begin(), slot->connections.end());
      for (detail::HttpConnectionBase* c : snapshot)
        if (slot->connections.count(c)) c->on_server_stop();
      if (slot->connections.empty() && slot->sweeper) slot->sweeper->cancel();
    });
  }
}

uint16_t HttpServer::port() const { return state_->port; }
size_t HttpServer::connection_count() const { return state_->connections.load(); }
bool HttpServer::tls() const { return state_->tls != nullptr; }
const HttpServerOptions& HttpServer::options() const { return state_->options; }

}  // namespace chiron::net
