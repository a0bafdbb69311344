// chiron ns: the name server on its own — the data plane (REG/REM/HB/REQ/ALG/STATE/LIST over
// RESP and inline text), the admin plane (JSON API, /metrics, events, dashboard), the store.
// `chiron ns sign` prints a registration token for scripts (redis-cli REG ... TOKEN).

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "chiron/commands.h"
#include "chiron/ns_flags.h"
#include "chiron/signals.h"
#include "common/common.h"
#include "kernel/kernel.h"
#include "nameserver/name_server.h"
#include "ns/auth.h"

#ifndef CHIRON_SOURCE_DIR
#define CHIRON_SOURCE_DIR "."
#endif

namespace chiron::app {

std::string find_web_root(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (std::filesystem::exists("web/index.html")) return "web";
  return std::string(CHIRON_SOURCE_DIR) + "/web";
}

void add_ns_flags(CLI::App& cmd, NsFlags& f, const std::string& p) {
  cmd.add_option("--" + p + "listen", f.listen, "Name server data plane HOST:PORT (RESP and inline text; port 0 picks one)")
      ->capture_default_str();
  cmd.add_option("--" + p + "admin", f.admin, "Name server admin HTTP HOST:PORT (API, metrics, dashboard); 'off' disables")
      ->capture_default_str();
  cmd.add_option("--" + p + "admin-token", f.admin_token,
                 "Admin token for ALG/STATE/REM and the admin API (required off loopback)")
      ->envname("CHIRON_ADMIN_TOKEN");
  cmd.add_option("--" + p + "admin-token-file", f.admin_token_file, "Read the admin token from this file");
  cmd.add_option("--" + p + "lease-ttl", f.lease_ttl_s, "Seconds a registration lives without HB")->capture_default_str();
  cmd.add_option("--" + p + "deregister-after", f.deregister_after_s,
                 "Seconds down (or pending) before a server is removed; 0 = never")
      ->capture_default_str();
  cmd.add_option("--" + p + "slow-start", f.slow_start_s, "Seconds of weight ramp after down→up; 0 = off")
      ->capture_default_str();
  cmd.add_flag("--" + p + "memory", f.memory, "Keep the registry in memory only (nothing survives a restart)");
  cmd.add_option("--" + p + "request-log", f.request_log, "Append a JSON-lines request log to this file");
  cmd.add_option("--" + p + "request-log-sample", f.request_log_sample, "Fraction of REQs logged (mutations: all)")
      ->capture_default_str();
}

Result<nameserver::NameServerOptions> ns_options(const NsFlags& f, const std::string& data_dir) {
  nameserver::NameServerOptions o;
  auto data = parse_host_port(f.listen);
  if (!data.ok()) return std::move(data).status().context("--listen");
  o.data = *data;
  if (f.admin == "off") {
    o.admin_enabled = false;
  } else {
    auto admin = parse_host_port(f.admin);
    if (!admin.ok()) return std::move(admin).status().context("--admin");
    o.admin = *admin;
  }
  o.admin_token = f.admin_token;
  if (!f.admin_token_file.empty()) {
    std::ifstream in(f.admin_token_file);
    if (!in) return Status::not_found("cannot read admin token file " + f.admin_token_file);
    std::getline(in, o.admin_token);
    o.admin_token = std::string(trim(o.admin_token));
    if (o.admin_token.empty()) return Status::invalid_argument("admin token file " + f.admin_token_file + " is empty");
  }
  if (!(f.lease_ttl_s > 0)) return Status::invalid_argument("--lease-ttl must be > 0");
  if (f.deregister_after_s < 0) return Status::invalid_argument("--deregister-after must be >= 0");
  if (f.slow_start_s < 0) return Status::invalid_argument("--slow-start must be >= 0");
  o.registry.lease_ttl_us = static_cast<int64_t>(f.lease_ttl_s * 1e6);
  o.registry.deregister_after_us = static_cast<int64_t>(f.deregister_after_s * 1e6);
  o.registry.pool.slow_start_us = static_cast<int64_t>(f.slow_start_s * 1e6);
  o.registry.pool.balancer.seed = std::random_device{}();  // replicas must not pick in lock-step
  if (!f.memory) o.store_file = std::filesystem::path(data_dir) / "ns.db";
  const std::filesystem::path web = find_web_root(f.web);
  if (std::filesystem::exists(web / "ns" / "index.html")) o.web_dir = web;
  for (const std::filesystem::path& nm : {std::filesystem::path("node_modules"),
                                          std::filesystem::path(CHIRON_SOURCE_DIR) / "node_modules"}) {
    if (std::filesystem::exists(nm / "uplot" / "dist")) {
      o.vendor_dir = nm;
      break;
    }
  }
  o.request_log = f.request_log;
  o.request_log_sample = f.request_log_sample;
  return o;
}

namespace {

struct NsArgs {
  CommonOptions common;
  NsFlags ns;
  unsigned net_threads = 1;
};

struct SignArgs {
  std::string secret;
  std::string verb;
  std::string service;
  std::string id;
};

int run_ns(const NsArgs& args) {
  if (Status st = apply_log_options(args.common); !st.ok()) {
    std::fprintf(stderr, "chiron ns: %s\n", st.to_string().c_str());
    return 2;
  }
  auto options = ns_options(args.ns, args.common.data);
  if (!options.ok()) {
    std::fprintf(stderr, "chiron ns: %s\n", options.status().to_string().c_str());
    return 2;
  }
  sigset_t signals = block_shutdown_signals();

  kernel::RuntimeOptions rt_opts;
  rt_opts.net_threads = std::max(1u, args.net_threads);
  rt_opts.cpu_threads = 1;   // the data plane runs on the net threads only
  rt_opts.disk_threads = 2;  // store commits and request-log writes
  kernel::Runtime runtime(rt_opts);
  if (Status st = runtime.start(); !st.ok()) {
    std::fprintf(stderr, "chiron ns: runtime: %s\n", st.to_string().c_str());
    return 1;
  }
  auto server = nameserver::NameServer::start(runtime, *options);
  if (!server.ok()) {
    std::fprintf(stderr, "chiron ns: %s\n", server.status().to_string().c_str());
    runtime.stop();
    return 1;
  }
  const HostPort data = (*server)->data_endpoint();
  const HostPort admin = (*server)->admin_endpoint();
  // Tests and operators wait for these lines before connecting.
  std::printf("listening ns=%s\n", data.to_string().c_str());
  if (options->admin_enabled) std::printf("listening admin=%s\ndashboard http://%s/\n", admin.to_string().c_str(), admin.to_string().c_str());
  std::fflush(stdout);
  if (options->admin_token.empty())
    log::warn("ns", "no admin token: ALG/STATE/REM and the admin API are open to local users");
  log::info("ns", "ready",
            {{"ns", data.to_string()},
             {"admin", options->admin_enabled ? admin.to_string() : std::string("off")},
             {"store", options->store_file.empty() ? std::string("memory") : options->store_file.string()},
             {"version", std::string(kVersion)}});

  int sig = wait_for_shutdown_signal(signals);
  log::info("ns", "shutting down", {{"signal", shutdown_signal_name(sig)}});
  (*server)->stop();
  server->reset();
  runtime.stop();
  log::info("ns", "stopped");
  return 0;
}

int run_sign(const SignArgs& a) {
  const std::string verb = a.verb;
  if (!iequals(verb, "REG") && !iequals(verb, "HB") && !iequals(verb, "REM")) {
    std::fprintf(stderr, "chiron ns sign: VERB must be REG, HB or REM\n");
    return 2;
  }
  const int64_t now_s = Clock::system().unix_ms() / 1000;
  std::printf("%s\n", ns::sign_registration(a.secret, verb, a.service, a.id, now_s).c_str());
  return 0;
}

}  // namespace

void add_ns_command(CLI::App& app) {
  auto args = std::make_shared<NsArgs>();
  auto* cmd = app.add_subcommand(
      "ns", "Run the name server: REG/REM/HB/REQ/ALG/STATE/LIST over RESP, admin API and dashboard");
  add_logging_flags(*cmd, args->common);
  add_config_flag(*cmd);
  add_ns_flags(*cmd, args->ns, "");
  cmd->add_option("--web", args->ns.web, "Web UI directory (the dashboard is its ns/ folder)")->envname("CHIRON_WEB");
  cmd->add_option("--net-threads", args->net_threads, "Threads serving connections")->capture_default_str();

  auto sign = std::make_shared<SignArgs>();
  auto* sign_cmd = cmd->add_subcommand("sign", "Print a registration token: chiron ns sign --secret S REG web 10.0.0.1:80");
  sign_cmd->add_option("--secret", sign->secret, "The service's registration secret")
      ->required()
      ->envname("CHIRON_NS_SECRET");
  sign_cmd->add_option("verb", sign->verb, "REG, HB or REM")->required();
  sign_cmd->add_option("service", sign->service, "Service name")->required();
  sign_cmd->add_option("id", sign->id, "Server ip:port")->required();
  sign_cmd->callback([sign] { set_exit_code(run_sign(*sign)); });
  cmd->callback([args, sign_cmd] {
    if (sign_cmd->parsed()) return;
    set_exit_code(run_ns(*args));
  });
}

}  // namespace chiron::app
