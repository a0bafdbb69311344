// The admin plane: /api/v1 JSON (docs/protocols.md), /metrics, the events WebSocket and the
// dashboard's static files. Mutations answer once their change is durable, like the verbs.

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>

#include "common/version.h"
#include "nameserver/json_views.h"
#include "nameserver/name_server_impl.h"
#include "ns/balancer.h"

namespace chiron::nameserver {
namespace {

namespace json = boost::json;

net::Response json_response(int status, const json::value& v) { return net::Response::json(status, json::serialize(v)); }

net::Response error_response(int status, std::string_view code, std::string_view message) {
  return net::Response::error(status, code, message);
}

net::Response status_response(const Status& st) { return net::Response::from_status(st); }

// Parses a JSON object body; an empty body is {}.
Result<json::object> parse_body(const net::Request& req) {
  if (req.body.empty()) return json::object{};
  json::error_code ec;
  json::value v = json::parse(req.body, ec);
  if (ec) return Status::invalid_argument("request body is not JSON: " + ec.message());
  if (!v.is_object()) return Status::invalid_argument("request body must be a JSON object");
  return std::move(v.as_object());
}

Result<uint32_t> get_weight(const json::object& o, const char* field) {
  const json::value* v = o.if_contains(field);
  if (v == nullptr) return Status::not_found("absent");
  if (!v->is_int64() && !v->is_uint64()) return Status::invalid_argument(std::string(field) + " must be an integer");
  const int64_t n = v->is_int64() ? v->as_int64() : static_cast<int64_t>(std::min<uint64_t>(v->as_uint64(), INT64_MAX));
  if (n < 0 || n > ns::kMaxWeight) return Status::invalid_argument(std::string(field) + " must be within 0..10000");
  return static_cast<uint32_t>(n);
}

Result<std::optional<std::string>> get_string(const json::object& o, const char* field) {
  const json::value* v = o.if_contains(field);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return Status::invalid_argument(std::string(field) + " must be a string");
  return std::optional<std::string>(std::string(v->as_string()));
}

// "check": absent → nullopt (keep), null → "" (lease only), object → validated spec JSON.
Result<std::optional<std::string>> get_check(const json::object& o) {
  const json::value* v = o.if_contains("check");
  if (v == nullptr) return std::optional<std::string>();
  if (v->is_null()) return std::optional<std::string>(std::string());
  if (!v->is_object()) return Status::invalid_argument("check must be an object or null");
  CHIRON_ASSIGN_OR_RETURN(CheckSpec spec, parse_check_spec(json::serialize(*v)));
  return std::optional<std::string>(to_json(spec));
}


}  // namespace

bool NameServer::Impl::admin_authorized(const net::Request& req) const {
  if (options.admin_token.empty()) return true;
  if (auto h = req.headers.get("authorization")) {
    std::string_view v = *h;
    if (v.size() > 7 && iequals(v.substr(0, 7), "Bearer ") && ns::admin_token_equal(options.admin_token, v.substr(7)))
      return true;
  }
  if (auto t = req.query_param("token")) return ns::admin_token_equal(options.admin_token, *t);
  return false;
}

net::Router NameServer::Impl::admin_router() {
  net::Router r;
  Impl* s = this;
  auto now_us = [] { return Clock::system().steady_us(); };

  // Wraps a handler: 401 without the admin token; mutations reply once durable.
  auto guarded = [s](auto fn) {
    return [s, fn](net::Request req, net::Responder respond) {
      if (!s->admin_authorized(req)) {
        net::Response res = error_response(401, "unauthenticated", "admin token required (Authorization: Bearer <token>)");
        res.headers.set("WWW-Authenticate", "Bearer");
        respond(std::move(res));
        return;
      }
      (void)take_journal_seq();
      net::Response res = fn(req);
      const uint64_t seq = take_journal_seq();
      if (seq == 0 || !s->store || res.status >= 400) {
        respond(std::move(res));
        return;
      }
      auto shared = std::make_shared<net::Responder>(std::move(respond));
      s->store->when_durable(seq, [shared, res = std::move(res)](Status st) mutable {
        if (!st.ok()) {
          (*shared)(error_response(500, "not_persisted", "change not persisted: " + st.message()));
          return;
        }
        (*shared)(std::move(res));
      });
    };
  };

  r.get("/api/v1/health", [s](const net::Request&) {
    json::object o;
    o["status"] = "ok";
    o["version"] = std::string(kVersion);
    o["uptime_s"] = (Clock::system().steady_us() - s->started_us) / 1'000'000;
    o["services"] = s->registry.service_count();
    return json_response(200, o);
  });

  r.get("/api/v1/algorithms", guarded([](const net::Request&) {
    json::array list;
    for (std::string_view name : ns::algorithm_names()) {
      json::object a;
      a["name"] = std::string(name);
      a["description"] = std::string(ns::algorithm_description(name));
      list.push_back(std::move(a));
    }
    json::object o;
    o["algorithms"] = std::move(list);
    return json_response(200, o);
  }));

  r.get("/api/v1/services", guarded([s, now_us](const net::Request&) {
    uint64_t version = 0;
    auto services = s->registry.snapshot(&version);
    json::array list;
    const int64_t now = now_us();
    for (const auto& v : services) list.push_back(service_json(v, now));
    json::object o;
    o["version"] = version;
    o["services"] = std::move(list);
    return json_response(200, o);
  }));

  r.get("/api/v1/services/:svc", guarded([s, now_us](const net::Request& req) {
    auto v = s->registry.service(req.param("svc"));
    if (!v.ok()) return status_response(v.status());
    return json_response(200, service_json(*v, now_us()));
  }));

  r.put("/api/v1/services/:svc", guarded([s, now_us](const net::Request& req) {
    auto body = parse_body(req);
    if (!body.ok()) return status_response(body.status());
    auto alg = get_string(*body, "algorithm");
    if (!alg.ok()) return status_response(alg.status());
    auto secret = get_string(*body, "secret");
    if (!secret.ok()) return status_response(secret.status());
    std::optional<std::string_view> alg_v, secret_v;
    if (*alg) alg_v = **alg;
    if (*secret) secret_v = **secret;
    if (Status st = s->registry.set_service(req.param("svc"), alg_v, secret_v); !st.ok()) return status_response(st);
    return json_response(200, service_json(*s->registry.service(req.param("svc")), now_us()));
  }));

  r.del("/api/v1/services/:svc", guarded([s](const net::Request& req) {
    const bool removed = s->registry.remove_service(req.param("svc"));
    if (!removed) return error_response(404, "not_found", "unknown service '" + std::string(req.param("svc")) + "'");
    json::object o;
    o["removed"] = true;
    return json_response(200, o);
  }));

  auto server_reply = [s, now_us](std::string_view svc, std::string_view id, int status) {
    auto srv = s->registry.server(svc, id);
    if (!srv.ok()) return status_response(srv.status());
    return json_response(status, server_json(*srv, now_us()));
  };

  r.post("/api/v1/services/:svc/servers", guarded([s, server_reply](const net::Request& req) {
    auto body = parse_body(req);
    if (!body.ok()) return status_response(body.status());
    auto id = get_string(*body, "id");
    if (!id.ok()) return status_response(id.status());
    if (!*id) return error_response(400, "invalid_argument", "id is required (\"ip:port\")");
    if (Status st = ns::validate_server_id(**id); !st.ok()) return status_response(st);
    ns::Registration reg;
    if (auto w = get_weight(*body, "weight"); w.ok()) {
      if (*w == 0) return error_response(400, "invalid_argument", "weight must be within 1..10000");
      reg.weight = *w;
    } else if (w.status().code() != StatusCode::kNotFound) {
      return status_response(w.status());
    }
    auto check = get_check(*body);
    if (!check.ok()) return status_response(check.status());
    reg.check = std::move(*check);
    const std::string_view svc = req.param("svc");
    if (svc.empty()) return error_response(400, "invalid_argument", "empty service name");
    const bool existed = s->registry.server(svc, **id).ok();
    if (Status st = s->registry.register_server(svc, **id, reg); !st.ok()) return status_response(st);
    return server_reply(svc, **id, existed ? 200 : 201);
  }));

  r.del("/api/v1/services/:svc/servers/:id", guarded([s](const net::Request& req) {
    auto removed = s->registry.remove_server(req.param("svc"), req.param("id"));
    if (!removed.ok()) return status_response(removed.status());
    json::object o;
    o["removed"] = *removed;
    return json_response(200, o);
  }));

  r.get("/api/v1/services/:svc/servers/:id", guarded([server_reply](const net::Request& req) {
    return server_reply(req.param("svc"), req.param("id"), 200);
  }));

  r.put("/api/v1/services/:svc/servers/:id", guarded([s, server_reply](const net::Request& req) {
    auto body = parse_body(req);
    if (!body.ok()) return status_response(body.status());
    const std::string_view svc = req.param("svc"), id = req.param("id");
    // Validate everything before changing anything.
    std::optional<uint32_t> weight;
    if (auto w = get_weight(*body, "weight"); w.ok()) {
      weight = *w;
    } else if (w.status().code() != StatusCode::kNotFound) {
      return status_response(w.status());
    }
    std::optional<ns::AdminState> state;
    auto state_s = get_string(*body, "state");
    if (!state_s.ok()) return status_response(state_s.status());
    if (*state_s) {
      auto st = ns::parse_admin_state(**state_s);
      if (!st.ok()) return error_response(400, "invalid_argument", "state must be ready, drain or maint");
      state = *st;
    }
    auto check = get_check(*body);
    if (!check.ok()) return status_response(check.status());
    auto found = s->registry.server(svc, id);
    if (!found.ok()) return status_response(found.status());
    if (weight) {
      if (Status st = s->registry.set_weight(svc, id, *weight); !st.ok()) return status_response(st);
    }
    if (*check) {
      ns::Registration reg{.weight = weight.value_or(found->weight), .check = std::move(*check)};
      if (Status st = s->registry.register_server(svc, id, reg); !st.ok()) return status_response(st);
    }
    if (state) {
      if (Status st = s->registry.set_admin(svc, id, *state); !st.ok()) return status_response(st);
    }
    return server_reply(svc, id, 200);
  }));

  r.post("/api/v1/services/:svc/servers/:id/heartbeat", guarded([s, server_reply](const net::Request& req) {
    auto body = parse_body(req);
    if (!body.ok()) return status_response(body.status());
    ns::Heartbeat hb;
    if (const json::value* v = body->if_contains("load")) {
      if (!v->is_int64() && !v->is_uint64()) return error_response(400, "invalid_argument", "load must be an integer");
      if (v->is_int64() && v->as_int64() < 0) return error_response(400, "invalid_argument", "load must be >= 0");
      hb.load = v->is_uint64() ? v->as_uint64() : static_cast<uint64_t>(v->as_int64());
    }
    if (const json::value* v = body->if_contains("weight_percent")) {
      if (!v->is_int64() || v->as_int64() < 0 || v->as_int64() > 100)
        return error_response(400, "invalid_argument", "weight_percent must be within 0..100");
      hb.weight_percent = static_cast<uint32_t>(v->as_int64());
    }
    if (const json::value* v = body->if_contains("drain")) {
      if (!v->is_bool()) return error_response(400, "invalid_argument", "drain must be true or false");
      hb.drain = v->as_bool();
    }
    if (Status st = s->registry.heartbeat(req.param("svc"), req.param("id"), hb); !st.ok()) return status_response(st);
    return server_reply(req.param("svc"), req.param("id"), 200);
  }));

  // REQ over HTTP: open like the data plane's REQ.
  r.get("/api/v1/req", [s](const net::Request& req) {
    auto service = req.query_param("service");
    if (!service || service->empty()) return error_response(400, "invalid_argument", "query parameter service is required");
    const std::string key = req.query_param("key").value_or("");
    const auto t0 = std::chrono::steady_clock::now();
    auto picked = s->registry.pick(*service, key);
    s->req_latency.record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count()));
    if (!picked.ok()) return status_response(picked.status());
    json::object o;
    o["server"] = *picked;
    return json_response(200, o);
  });

  r.get("/metrics", guarded([s](const net::Request&) {
    std::string out;
    out.reserve(4096);
    auto services = s->registry.snapshot();
    out += "# HELP chiron_ns_req_total REQ answers per service (picks and errors).\n# TYPE chiron_ns_req_total counter\n";
    for (const auto& v : services)
      out += "chiron_ns_req_total{service=\"" + prometheus_escape(v.name) + "\"} " + std::to_string(v.picks + v.errors) + "\n";
    out += "# HELP chiron_ns_req_errors_total REQs answered with no eligible server.\n# TYPE chiron_ns_req_errors_total counter\n";
    for (const auto& v : services)
      out += "chiron_ns_req_errors_total{service=\"" + prometheus_escape(v.name) + "\"} " + std::to_string(v.errors) + "\n";
    out += "# HELP chiron_ns_picks_total REQ answers per server.\n# TYPE chiron_ns_picks_total counter\n";
    for (const auto& v : services)
      for (const auto& srv : v.servers)
        out += "chiron_ns_picks_total{service=\"" + prometheus_escape(v.name) + "\",server=\"" + prometheus_escape(srv.id) +
               "\"} " + std::to_string(srv.counters.picks) + "\n";
    out += "# HELP chiron_ns_servers Registered servers by health.\n# TYPE chiron_ns_servers gauge\n";
    for (const auto& v : services) {
      size_t counts[3] = {0, 0, 0};
      for (const auto& srv : v.servers) ++counts[static_cast<int>(srv.health)];
      for (ns::Health h : {ns::Health::kPending, ns::Health::kUp, ns::Health::kDown})
        out += "chiron_ns_servers{service=\"" + prometheus_escape(v.name) + "\",health=\"" + std::string(ns::to_string(h)) +
               "\"} " + std::to_string(counts[static_cast<int>(h)]) + "\n";
    }
    out += "# HELP chiron_ns_panic 1 while the panic guard holds back deregistrations.\n# TYPE chiron_ns_panic gauge\n";
    for (const auto& v : services)
      out += "chiron_ns_panic{service=\"" + prometheus_escape(v.name) + "\"} " + (v.panic ? "1" : "0") + std::string("\n");
    out += "# HELP chiron_ns_commands_total Data-plane commands.\n# TYPE chiron_ns_commands_total counter\nchiron_ns_commands_total " +
           std::to_string(s->commands.load()) + "\n";
    out += "# HELP chiron_ns_auth_failures_total Refused AUTH and unsigned/forged/replayed registrations.\n"
           "# TYPE chiron_ns_auth_failures_total counter\nchiron_ns_auth_failures_total " +
           std::to_string(s->auth_failures.load()) + "\n";
    append_prometheus_histogram(out, "chiron_ns_req_latency_seconds", "REQ handling time inside the server.", s->req_latency);
    append_prometheus_histogram(out, "chiron_ns_write_latency_seconds",
                                "REG/REM/ALG/STATE from receipt until durable.", s->write_latency);
    if (s->store) {
      const StoreStats st = s->store->stats();
      out += "# HELP chiron_ns_store_commits_total SQLite transactions committed.\n# TYPE chiron_ns_store_commits_total counter\n"
             "chiron_ns_store_commits_total " + std::to_string(st.commits) + "\n";
      out += "# HELP chiron_ns_store_mutations_total Mutations made durable.\n# TYPE chiron_ns_store_mutations_total counter\n"
             "chiron_ns_store_mutations_total " + std::to_string(st.durable) + "\n";
      out += "# HELP chiron_ns_store_failures_total Failed commits (retried).\n# TYPE chiron_ns_store_failures_total counter\n"
             "chiron_ns_store_failures_total " + std::to_string(st.failures) + "\n";
      out += "# HELP chiron_ns_store_last_commit_seconds Duration of the last commit, fsync included.\n"
             "# TYPE chiron_ns_store_last_commit_seconds gauge\nchiron_ns_store_last_commit_seconds " +
             std::to_string(static_cast<double>(st.last_commit_us) / 1e6) + "\n";
    }
    if (s->events) {
      out += "# HELP chiron_ns_event_clients Open dashboard event streams.\n# TYPE chiron_ns_event_clients gauge\n"
             "chiron_ns_event_clients " + std::to_string(s->events->client_count()) + "\n";
    }
    return net::Response::text(200, std::move(out), "text/plain; version=0.0.4; charset=utf-8");
  }));

  if (events) {
    net::WsOptions ws_opts;
    ws_opts.ping_interval_ms = 20000;
    ws_opts.idle_timeout_ms = 0;  // listeners never send
    ws_opts.max_send_queue_bytes = 64 << 20;  // the hub stops sending at 1 MiB; this is the hard cap
    r.websocket("/api/v1/events", events->handlers([s](const net::Request& req) { return s->admin_authorized(req); }),
                ws_opts);
  }
  if (!options.vendor_dir.empty()) r.static_dir("/vendor/uplot/", (options.vendor_dir / "uplot" / "dist").string());
  if (!options.web_dir.empty()) {
    // The dashboard lives in web/ns/ and shares the base stylesheet and helpers of web/.
    r.get("/", [](const net::Request&) {
      net::Response res = net::Response::text(302, "the dashboard is at /ns/\n");
      res.headers.set("Location", "/ns/");
      return res;
    });
    r.static_dir("/", options.web_dir.string());
  }
  return r;
}

}  // namespace chiron::nameserver
