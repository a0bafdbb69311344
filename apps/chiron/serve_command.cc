#include <CLI/CLI.hpp>
#include <cstdio>
#include <algorithm>
#include <filesystem>
#include <future>
#include <thread>

#include "chiron/commands.h"
#include "chiron/ns_flags.h"
#include "chiron/signals.h"
#include "common/common.h"
#include "kernel/kernel.h"
#include "net/net.h"

#ifndef CHIRON_SOURCE_DIR
#define CHIRON_SOURCE_DIR "."
#endif

namespace chiron::app {
namespace {

int g_exit_code = 0;

struct ServeArgs {
  CommonOptions common;
  std::string web_root;
  std::string trace_out;
  unsigned net_threads = 0;
};

// {"status":"ok","version":"0.1.0","uptime_s":12.345} — formatted by hand: it is the hottest
// route (load balancers and the benchmark poll it) and Boost.JSON would print 1.2345E1.
net::Response health(const Clock& clock, int64_t started_us) {
  char body[128];
  const double uptime_s = static_cast<double>(clock.steady_us() - started_us) / 1e6;
  int n = std::snprintf(body, sizeof body, R"({"status":"ok","version":%s,"uptime_s":%.3f})",
                        json_quote(kVersion).c_str(), uptime_s);
  return net::Response::json(200, std::string(body, static_cast<size_t>(n)));
}

int serve(const ServeArgs& args) {
  if (Status st = apply_log_options(args.common); !st.ok()) {
    std::fprintf(stderr, "chiron serve: %s\n", st.to_string().c_str());
    return 2;
  }
  auto http_addr = parse_host_port(args.common.http);
  if (!http_addr.ok()) {
    std::fprintf(stderr, "chiron serve: --http: %s\n", http_addr.status().to_string().c_str());
    return 2;
  }
  sigset_t signals = block_shutdown_signals();
  const Clock& clock = Clock::system();
  const int64_t started_us = clock.steady_us();

  kernel::RuntimeOptions rt_opts;
  rt_opts.net_threads = args.net_threads ? args.net_threads : std::max(1u, std::thread::hardware_concurrency());
  rt_opts.trace = !args.trace_out.empty();
  kernel::Runtime runtime(rt_opts);
  if (Status st = runtime.start(); !st.ok()) {
    std::fprintf(stderr, "chiron serve: runtime: %s\n", st.to_string().c_str());
    return 1;
  }

  net::Router router;
  router.get("/api/v1/health", [&clock, started_us](const net::Request&) { return health(clock, started_us); });
  std::string web_root = find_web_root(args.web_root);
  router.static_dir("/", web_root);

  net::HttpServerOptions http_opts;
  http_opts.address = http_addr->host;
  http_opts.port = http_addr->port;
  net::HttpServer http(runtime.net_contexts(), http_opts, std::move(router));
  if (Status st = http.start(); !st.ok()) {
    std::fprintf(stderr, "chiron serve: http %s: %s\n", args.common.http.c_str(), st.to_string().c_str());
    runtime.stop();
    return 1;
  }
  HostPort bound{http_addr->host, http.port()};
  // Tests and operators wait for this line (one per listener) before connecting.
  std::printf("listening http=%s\n", bound.to_string().c_str());
  std::fflush(stdout);
  log::info("serve", "ready", {{"http", bound.to_string()}, {"web", web_root}, {"version", std::string(kVersion)}});

  int sig = wait_for_shutdown_signal(signals);
  log::info("serve", "shutting down", {{"signal", shutdown_signal_name(sig)}});
  // Let requests in flight finish (bounded), then drain the pipelines.
  auto drained = std::make_shared<std::promise<void>>();
  http.stop([drained] { drained->set_value(); });
  if (drained->get_future().wait_for(std::chrono::seconds(10)) != std::future_status::ready)
    log::warn("serve", "connections still open after 10 s; closing anyway");
  runtime.stop();
  if (!args.trace_out.empty()) {
    if (Status st = runtime.write_trace(args.trace_out); !st.ok())
      log::error("serve", "writing trace failed", {{"error", st.to_string()}});
  }
  log::info("serve", "stopped");
  return 0;
}

}  // namespace

int exit_code() { return g_exit_code; }
void set_exit_code(int code) { g_exit_code = code; }

void add_serve_command(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand("serve", "Run the whole platform in one process (HTTP, WebSocket, RTMP)");
  add_common_flags(*cmd, args->common);
  add_config_flag(*cmd);
  cmd->add_option("--web", args->web_root, "Directory of the web UI (default: ./web)")->envname("CHIRON_WEB");
  cmd->add_option("--net-threads", args->net_threads, "Threads of the net pipeline (0 = one per core)");
  cmd->add_option("--trace", args->trace_out, "Record kernel events and write them as JSON lines on exit");
  cmd->callback([args] { set_exit_code(serve(*args)); });
}

}  // namespace chiron::app
