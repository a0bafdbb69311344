#include <CLI/CLI.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <algorithm>
#include <filesystem>
#include <future>
#include <optional>
#include <thread>

#include "chiron/commands.h"
#include "chiron/ns_flags.h"
#include "chiron/signals.h"
#include "common/common.h"
#include "chat/chat_server.h"
#include "chat/redis_bus.h"
#include "kernel/kernel.h"
#include "nameserver/name_server.h"
#include "nameserver/registrar.h"
#include "net/net.h"
#ifdef CHIRON_HAVE_PLATFORM
#include "platform/platform.h"
#endif

#ifndef CHIRON_SOURCE_DIR
#define CHIRON_SOURCE_DIR "."
#endif

namespace chiron::app {
namespace {

int g_exit_code = 0;

struct ServeArgs {
  CommonOptions common;
  NsFlags ns;
  std::string ns_service = "edge";
  std::string ns_secret;
  std::string ns_advertise;
  bool chat_anonymous = false;
  std::string chat_secret;
  size_t chat_history = 0;
  size_t chat_send_queue_kb = 1024;
  uint64_t quota_mb = 100;
  uint64_t max_file_mb = 256;
  bool secure_cookies = false;
  std::string web_root;
  std::string trace_out;
  unsigned net_threads = 0;
  unsigned disk_threads = 8;
  std::string origin;
  bool replace_publisher = false;
  bool no_gop_cache = false;
  bool no_hls = false;
  double hls_segment_s = 2.0;
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

// GET /api/v1/chat/stats: the chat's counters (and the Redis bus's, with --redis) for operators.
std::string chat_stats_json(const chat::ChatServer& chat, const chat::RedisBus* redis_bus) {
  const chat::ChatStats st = chat.stats();
  boost::json::object o{{"bus", redis_bus ? redis_bus->describe() : std::string("local")},
                        {"connections", st.connections},
                        {"rooms", st.rooms},
                        {"messages_in", st.messages_in},
                        {"deliveries", st.deliveries},
                        {"rejected", st.rejected},
                        {"protocol_errors", st.protocol_errors}};
  if (redis_bus) {
    const chat::RedisBusStats r = redis_bus->stats();
    o["redis"] = boost::json::object{{"published", r.published},         {"publish_failures", r.publish_failures},
                                     {"signal_failures", r.signal_failures}, {"delivered", r.delivered},
                                     {"malformed", r.malformed},         {"gaps", r.gaps}};
  }
  return boost::json::serialize(o);
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
  // --redis (a common flag): rooms shared with other edges; without it, one process.
  std::optional<chat::RedisOptions> redis;
  if (!args.common.redis.empty()) {
    auto parsed = chat::parse_redis_url(args.common.redis);
    if (!parsed.ok()) {
      std::fprintf(stderr, "chiron serve: --redis: %s\n", parsed.status().to_string().c_str());
      return 2;
    }
    redis = std::move(*parsed);
  }
  sigset_t signals = block_shutdown_signals();
  const Clock& clock = Clock::system();
  const int64_t started_us = clock.steady_us();

  kernel::RuntimeOptions rt_opts;
  rt_opts.net_threads = args.net_threads ? args.net_threads : std::max(1u, std::thread::hardware_concurrency());
  // Disk work blocks in fsync more than it computes: more threads than cores let the file
  // system merge concurrent fsyncs into one journal commit.
  rt_opts.disk_threads = args.disk_threads;
  rt_opts.trace = !args.trace_out.empty();
  kernel::Runtime runtime(rt_opts);
  if (Status st = runtime.start(); !st.ok()) {
    std::fprintf(stderr, "chiron serve: runtime: %s\n", st.to_string().c_str());
    return 1;
  }

  net::Router router;
  router.get("/api/v1/health", [&clock, started_us](const net::Request&) { return health(clock, started_us); });
  // Live chat: Socket.IO v4 over WebSocket (socket.io-client with transports: ["websocket"]).
  chat::ChatOptions chat_opts;
  chat_opts.anonymous_post = args.chat_anonymous;
  chat_opts.secret = args.chat_secret;
#ifdef CHIRON_HAVE_PLATFORM
  // The platform mints chat tokens for logged-in users: without --chat-secret the key kept in
  // the data dir is used (created on first start).
  auto chat_secret = platform::resolve_chat_secret(args.chat_secret, args.common.data);
  if (!chat_secret.ok()) {
    std::fprintf(stderr, "chiron serve: chat key: %s\n", chat_secret.status().to_string().c_str());
    runtime.stop();
    return 1;
  }
  chat_opts.secret = *chat_secret;
#endif
  chat_opts.history_size = args.chat_history;
  chat_opts.max_send_queue_bytes = args.chat_send_queue_kb << 10;
  // Rooms shared with other edges through Redis pub/sub, or kept in this process.
  std::shared_ptr<chat::RedisBus> redis_bus;
  if (redis) redis_bus = chat::make_redis_bus(*runtime.net_contexts()[0], *redis);
  log::info("serve", "chat bus", {{"bus", redis_bus ? redis_bus->describe() : std::string("local")}});
  auto chat_server = chat::ChatServer::create(runtime.net_contexts(), chat_opts, redis_bus);
  router.websocket("/socket.io/", chat_server->handlers(), chat_server->ws_options());
  // Weak references: the router can outlive both (pending handlers keep it until the runtime is
  // destroyed), and the Redis bus must be destroyed while its io_context still exists.
  router.get("/api/v1/chat/stats", [chat = std::weak_ptr(chat_server), bus = std::weak_ptr(redis_bus),
                                    with_redis = redis_bus != nullptr](const net::Request&) {
    auto c = chat.lock();
    auto b = bus.lock();
    if (!c || (with_redis && !b)) return net::Response::json(503, R"({"error":"shutting down"})");
    return net::Response::json(200, chat_stats_json(*c, b.get()));
  });
  std::string web_root = find_web_root(args.web_root);
  // Browser libraries installed by npm (package.json): served as they are, no bundler.
  const std::filesystem::path node_modules = std::filesystem::path(web_root).parent_path() / "node_modules";
#ifdef CHIRON_HAVE_PLATFORM
  // The product: accounts, channels, sessions, live code storage, ratings, live events, pages.
  platform::PlatformOptions plat_opts;
  plat_opts.data_dir = args.common.data;
  plat_opts.postgres_url = args.common.postgres;
  plat_opts.web_root = web_root;
  plat_opts.node_modules = node_modules;
  plat_opts.quota_bytes = args.quota_mb << 20;
  plat_opts.max_file_bytes = args.max_file_mb << 20;
  plat_opts.secure_cookies = args.secure_cookies;
  plat_opts.chat_secret = chat_opts.secret;
  // Live video: --rtmp HOST:PORT (or "off": no ingest here, e.g. an edge), --origin HOST:PORT to
  // relay as an edge.
  {
    media::MediaOptions mo;
    if (args.common.rtmp == "off") {
      mo.rtmp_enabled = false;
    } else {
      auto rtmp_addr = parse_host_port(args.common.rtmp);
      if (!rtmp_addr.ok()) {
        std::fprintf(stderr, "chiron serve: --rtmp: %s\n", rtmp_addr.status().to_string().c_str());
        chat_server->stop();
        runtime.stop();
        return 2;
      }
      mo.rtmp_address = rtmp_addr->host;
      mo.rtmp_port = rtmp_addr->port;
    }
    mo.origin = args.origin;
    mo.replace_publisher = args.replace_publisher;
    mo.gop_cache = !args.no_gop_cache;
    mo.hls_enabled = !args.no_hls;
    mo.hls.target_segment_s = args.hls_segment_s;
    plat_opts.media = mo;
  }
  auto opened = platform::Platform::open(runtime, std::move(plat_opts), chat_server);
  if (!opened.ok()) {
    std::fprintf(stderr, "chiron serve: %s\n", opened.status().to_string().c_str());
    chat_server->stop();
    runtime.stop();
    return 1;
  }
  std::unique_ptr<platform::Platform> plat = std::move(*opened);
  log::info("serve", "platform", {{"database", plat->database()}});
  plat->register_routes(router);
#endif
  if (std::filesystem::exists(node_modules / "socket.io-client" / "dist"))
    router.static_dir("/vendor/socket.io/", (node_modules / "socket.io-client" / "dist").string());
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
#ifdef CHIRON_HAVE_PLATFORM
  if (plat->rtmp_port() != 0) {
    auto rtmp_addr = parse_host_port(args.common.rtmp);
    std::printf("listening rtmp=%s\n", HostPort{rtmp_addr->host, plat->rtmp_port()}.to_string().c_str());
  }
#endif

  // The name server: embedded unless --ns names another one (or is "off"); either way this
  // process registers itself as an edge and heartbeats.
  std::unique_ptr<nameserver::NameServer> embedded_ns;
  std::unique_ptr<nameserver::Registrar> registrar;
  std::optional<HostPort> ns_target;
  if (args.common.ns.empty()) {
    auto ns_opts = ns_options(args.ns, args.common.data);
    auto started = ns_opts.ok() ? nameserver::NameServer::start(runtime, std::move(*ns_opts))
                                : Result<std::unique_ptr<nameserver::NameServer>>(ns_opts.status());
    if (!started.ok()) {
      std::fprintf(stderr, "chiron serve: name server: %s\n", started.status().to_string().c_str());
      http.stop();
      runtime.stop();
      return 1;
    }
    embedded_ns = std::move(*started);
    ns_target = embedded_ns->data_endpoint();
    std::printf("listening ns=%s\n", ns_target->to_string().c_str());
    if (embedded_ns->admin_endpoint().port != 0)
      std::printf("listening ns_admin=%s\n", embedded_ns->admin_endpoint().to_string().c_str());
  } else if (args.common.ns != "off") {
    auto target = parse_host_port(args.common.ns);
    if (!target.ok()) {
      std::fprintf(stderr, "chiron serve: --ns: %s\n", target.status().to_string().c_str());
      http.stop();
      runtime.stop();
      return 2;
    }
    ns_target = *target;
  }
  if (ns_target) {
    nameserver::RegistrarOptions reg_opts;
    reg_opts.name_server = *ns_target;
    reg_opts.service = args.ns_service;
    reg_opts.id = args.ns_advertise.empty() ? bound.to_string() : args.ns_advertise;
    reg_opts.secret = args.ns_secret;
    reg_opts.heartbeat_ms = static_cast<uint32_t>(std::max(200.0, args.ns.lease_ttl_s * 1000 / 3));
    registrar = std::make_unique<nameserver::Registrar>(*runtime.net_contexts()[0], reg_opts);
    registrar->start();
  }
  std::fflush(stdout);
  log::info("serve", "ready", {{"http", bound.to_string()}, {"web", web_root}, {"version", std::string(kVersion)}});

  int sig = wait_for_shutdown_signal(signals);
  log::info("serve", "shutting down", {{"signal", shutdown_signal_name(sig)}});
  if (registrar) {
    auto gone = std::make_shared<std::promise<void>>();
    registrar->stop([gone] { gone->set_value(); });
    gone->get_future().wait_for(std::chrono::seconds(2));
  }
  if (embedded_ns) embedded_ns->stop();
#ifdef CHIRON_HAVE_PLATFORM
  plat->stop();  // live-event sockets, like the chat's, are closed by their owner
#endif
  chat_server->stop();  // upgraded sockets are the chat's to close, not the HTTP server's
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
  add_ns_flags(*cmd, args->ns, "ns-");
  cmd->add_flag("--chat-anonymous", args->chat_anonymous,
                "Let unauthenticated chat sockets post (the paper's harness and the load benchmarks)");
  cmd->add_option("--chat-secret", args->chat_secret, "Key that signs chat tokens (JWT HS256; `chiron chat token`)")
      ->envname("CHIRON_CHAT_SECRET");
  cmd->add_option("--chat-history", args->chat_history,
                  "Recent events kept per room so reconnecting clients recover what they missed (0 = off)")
      ->capture_default_str();
  cmd->add_option("--chat-send-queue-kb", args->chat_send_queue_kb,
                  "Per-socket send queue cap; a client that stops reading is cut off beyond it")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20))
      ->capture_default_str();
  cmd->add_option("--ns-service", args->ns_service, "Service this edge registers as")->capture_default_str();
  cmd->add_option("--ns-secret", args->ns_secret, "Registration secret of that service (signs REG/HB/REM)")
      ->envname("CHIRON_NS_SECRET");
  cmd->add_option("--ns-advertise", args->ns_advertise, "HOST:PORT viewers should use (default: the --http address)");
  cmd->add_option("--quota-mb", args->quota_mb, "Storage quota per user for pushed code (MB, history included)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 30))
      ->capture_default_str();
  cmd->add_option("--max-file-mb", args->max_file_mb, "Largest file the code storage accepts (MB)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 20))
      ->capture_default_str();
  cmd->add_flag("--secure-cookies", args->secure_cookies,
                "Mark session cookies Secure (when users reach Chiron over HTTPS through a proxy)");
  cmd->add_option("--origin", args->origin,
                  "Edge: HOST:PORT of an origin's HTTP listener to pull live channels from while they have viewers")
      ->envname("CHIRON_ORIGIN");
  cmd->add_flag("--rtmp-replace", args->replace_publisher,
                "A second publisher on a live channel replaces the first (default: it is refused)");
  cmd->add_flag("--no-gop-cache", args->no_gop_cache,
                "Don't cache the last GOP: late joiners wait for the next keyframe (lower latency, slower start)");
  cmd->add_flag("--no-hls", args->no_hls, "Don't segment live streams for HLS (HTTP-FLV and RTMP only)");
  cmd->add_option("--hls-segment", args->hls_segment_s, "HLS target segment length in seconds (cut at keyframes)")
      ->check(CLI::Range(0.5, 30.0))
      ->capture_default_str();
  cmd->add_option("--net-threads", args->net_threads, "Threads of the net pipeline (0 = one per core)");
  cmd->add_option("--disk-threads", args->disk_threads, "Threads of the disk pipeline (database, file storage)")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  cmd->add_option("--trace", args->trace_out, "Record kernel events and write them as JSON lines on exit");
  cmd->callback([args] { set_exit_code(serve(*args)); });
}

}  // namespace chiron::app
