// chiron ns: the name server's data plane — REG/REM/HB/REQ/ALG/STATE/LIST over RESP and inline
// text (redis-cli, redis-benchmark, nc), on a LineServer. In memory only for now.

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "chiron/commands.h"
#include "chiron/signals.h"
#include "common/common.h"
#include "kernel/kernel.h"
#include "net/net.h"
#include "ns/ns.h"

namespace chiron::app {
namespace {

struct NsArgs {
  CommonOptions common;
  std::string listen = "127.0.0.1:5300";
  std::string admin = "127.0.0.1:5301";
  unsigned net_threads = 1;
};

// RESP2 for every client: redis-cli and nc users both read it, and inline clients
// (printf 'REQ web\r\n' | nc) get "$9\r\n10.0.0.1:80\r\n" exactly as Redis would answer them.
std::string encode(const ns::Reply& r) {
  switch (r.kind) {
    case ns::Reply::Kind::kSimple: return net::resp_simple(r.text);
    case ns::Reply::Kind::kError: return net::resp_error(r.text);
    case ns::Reply::Kind::kInteger: return net::resp_integer(r.integer);
    case ns::Reply::Kind::kBulk: return net::resp_bulk(r.text);
    case ns::Reply::Kind::kArray: return net::resp_bulk_array(r.items);
  }
  return net::resp_error("internal: unknown reply kind");
}

int run_ns(const NsArgs& args) {
  if (Status st = apply_log_options(args.common); !st.ok()) {
    std::fprintf(stderr, "chiron ns: %s\n", st.to_string().c_str());
    return 2;
  }
  auto listen = parse_host_port(args.listen);
  if (!listen.ok()) {
    std::fprintf(stderr, "chiron ns: --listen: %s\n", listen.status().to_string().c_str());
    return 2;
  }
  if (auto admin = parse_host_port(args.admin); !admin.ok()) {
    std::fprintf(stderr, "chiron ns: --admin: %s\n", admin.status().to_string().c_str());
    return 2;
  }
  sigset_t signals = block_shutdown_signals();

  kernel::RuntimeOptions rt_opts;
  rt_opts.net_threads = std::max(1u, args.net_threads);
  rt_opts.cpu_threads = 1;  // the data plane runs on the net threads only
  rt_opts.disk_threads = 1;
  kernel::Runtime runtime(rt_opts);
  if (Status st = runtime.start(); !st.ok()) {
    std::fprintf(stderr, "chiron ns: runtime: %s\n", st.to_string().c_str());
    return 1;
  }

  ns::RegistryOptions reg_opts;
  reg_opts.pool.balancer.seed = std::random_device{}();  // replicas must not pick in lock-step
  ns::Registry registry(Clock::system(), reg_opts);

  net::LineServerOptions line_opts;
  line_opts.address = listen->host;
  line_opts.port = listen->port;
  net::LineServer server(runtime.net_contexts(), line_opts,
                         [&registry](const net::LineConnectionInfo&, net::RespCommand& cmd) {
                           return encode(ns::execute(registry, cmd.args));
                         });
  if (Status st = server.start(); !st.ok()) {
    std::fprintf(stderr, "chiron ns: listen %s: %s\n", args.listen.c_str(), st.to_string().c_str());
    runtime.stop();
    return 1;
  }
  HostPort bound{listen->host, server.port()};
  // Tests and operators wait for this line before connecting.
  std::printf("listening ns=%s\n", bound.to_string().c_str());
  std::fflush(stdout);
  log::info("ns", "ready", {{"ns", bound.to_string()}, {"version", std::string(kVersion)}});

  int sig = wait_for_shutdown_signal(signals);
  log::info("ns", "shutting down", {{"signal", shutdown_signal_name(sig)}});
  // Connections write the replies they owe, then close; the contexts must run until then.
  server.stop();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (server.connection_count() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (server.connection_count() > 0) log::warn("ns", "connections still open after 5 s; closing anyway");
  runtime.stop();
  log::info("ns", "stopped");
  return 0;
}

}  // namespace

void add_ns_command(CLI::App& app) {
  auto args = std::make_shared<NsArgs>();
  auto* cmd = app.add_subcommand(
      "ns", "Run the name server's data plane (REG/REM/HB/REQ/ALG/STATE/LIST over RESP; in memory)");
  add_logging_flags(*cmd, args->common);
  add_config_flag(*cmd);
  cmd->add_option("--listen", args->listen, "Data plane HOST:PORT (RESP and inline text; port 0 picks one)")
      ->capture_default_str();
  cmd->add_option("--admin", args->admin, "Admin HTTP HOST:PORT (accepted but not served yet)")
      ->capture_default_str();
  cmd->add_option("--net-threads", args->net_threads, "Threads serving connections")->capture_default_str();
  cmd->callback([args] { set_exit_code(run_ns(*args)); });
}

}  // namespace chiron::app
