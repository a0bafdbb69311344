// The net layer on its own for bench/http_vs_nginx.sh: an HttpServer on N
// io_context threads serving GET /api/v1/health with a 2-byte JSON body (the
// same payload nginx serves in the comparison), without the kernel runtime.
//
//   http_bench_server [--threads N] [--http HOST:PORT]
// Prints "listening http=HOST:PORT" once bound; stops on SIGINT/SIGTERM.

#include <signal.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/strings.h"
#include "net/http_server.h"

int main(int argc, char** argv) {
  using namespace chiron;
  int threads = 1;
  std::string http = "127.0.0.1:0";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      threads = std::max(1, std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--http") == 0 && i + 1 < argc) {
      http = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--threads N] [--http HOST:PORT]\n", argv[0]);
      return 2;
    }
  }
  auto addr = parse_host_port(http);
  if (!addr.ok()) {
    std::fprintf(stderr, "--http: %s\n", addr.status().to_string().c_str());
    return 2;
  }
  log::set_level(log::Level::kWarn);

  // Signals are taken synchronously by main(); every thread started below inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::vector<std::unique_ptr<boost::asio::io_context>> contexts;
  std::vector<boost::asio::io_context*> raw;
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<Guard> guards;
  for (int i = 0; i < threads; ++i) {
    contexts.push_back(std::make_unique<boost::asio::io_context>(1));  // one thread per context
    raw.push_back(contexts.back().get());
    guards.emplace_back(contexts.back()->get_executor());
  }

  net::Router router;
  router.get("/api/v1/health", [](const net::Request&) { return net::Response::json(200, "{}"); });
  net::HttpServerOptions options;
  options.address = addr->host;
  options.port = addr->port;
  auto server = std::make_unique<net::HttpServer>(raw, options, std::move(router));
  if (Status st = server->start(); !st.ok()) {
    std::fprintf(stderr, "http_bench_server: %s\n", st.to_string().c_str());
    return 1;
  }
  std::vector<std::thread> pool;
  for (auto* ctx : raw) pool.emplace_back([ctx] { ctx->run(); });
  std::printf("listening http=%s\n", HostPort{addr->host, server->port()}.to_string().c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  auto drained = std::make_shared<std::promise<void>>();
  server->stop([drained] { drained->set_value(); });
  drained->get_future().wait_for(std::chrono::seconds(5));
  server.reset();
  guards.clear();
  for (auto& c : contexts) c->stop();
  for (auto& t : pool) t.join();
  return 0;
}
