// Node: the HTTP API and the monitoring page (docs/operations.md "Cluster"). The server
// runs on the node's single net thread — the control thread — so handlers read the control
// state directly.
#include <boost/json.hpp>
#include <openssl/crypto.h>

#include <cstdio>
#include <filesystem>

#include "cluster/node_impl.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/strings.h"
#include "kernel/trace_reader.h"
#include "kernel/trace_svg.h"

namespace chiron::cluster {

namespace json = boost::json;

namespace {

json::value time_or_null(int64_t unix_ms) {
  if (unix_ms <= 0) return nullptr;
  return json::value(format_utc_ms(unix_ms));
}

json::object record_json(const NodeRecord& r) {
  json::object o;
  o["position"] = r.position;
  o["uid"] = std::to_string(r.uid);
  o["endpoint"] = r.endpoint;
  o["http"] = r.http;
  o["hostname"] = r.hostname;
  o["superior"] = r.superior;
  o["threads"] = r.threads;
  o["memory_bytes"] = r.memory_bytes;
  o["load"] = r.load;
  o["jobs"] = r.jobs;
  o["version"] = r.version;
  return o;
}

json::object job_object(const JobInfo& j) {
  json::object o;
  o["id"] = std::to_string(j.id);
  o["app"] = j.app;
  json::array args;
  for (const auto& a : j.args) args.push_back(json::value(a));
  o["args"] = std::move(args);
  o["state"] = j.state;
  o["submitted_at"] = time_or_null(j.submitted_ms);
  o["started_at"] = time_or_null(j.started_ms);
  o["ended_at"] = time_or_null(j.ended_ms);
  o["exit_code"] = j.exit_code ? json::value(*j.exit_code) : json::value(nullptr);
  o["summary"] = j.summary;
  o["progress"] = json::object{{"done", j.done}, {"total", j.total}};
  o["home"] = j.home;
  o["resumed"] = j.resumed;
  o["error"] = j.error.empty() ? json::value(nullptr) : json::value(j.error);
  return o;
}

net::Response json_response(int status, const json::value& v) { return net::Response::json(status, json::serialize(v)); }

}  // namespace

std::string Node::Impl::cluster_json() const {
  json::object o;
  o["self"] = record_json(table->self());
  auto sup = discoverer->superior();
  o["superior"] = sup ? json::value(*sup) : json::value(nullptr);
  o["ideal_superior"] = discoverer->ideal() == 0 ? json::value(nullptr) : json::value(discoverer->ideal());
  json::array subs;
  for (uint64_t s : discoverer->subordinates()) subs.push_back(s);
  o["subordinates"] = std::move(subs);
  o["fanout"] = options.fanout;
  o["subnet"] = subnet.to_string();
  json::array nodes;
  for (const NodeRecord& rec : table->all()) nodes.push_back(record_json(rec));
  o["nodes"] = std::move(nodes);
  SchedulerStats stats = scheduler->stats();
  std::map<uint64_t, uint64_t> in_flight_by_link;
  for (const auto& [id, f] : in_flight) ++in_flight_by_link[f.link];
  json::array links_json;
  for (const PlaceLoad& pl : stats.places) {
    if (pl.place == kLocalPlace) {
      o["local"] = json::object{{"threads", pl.threads}, {"in_flight", pl.in_flight}, {"capacity", pl.capacity}};
      continue;
    }
    auto lp = links.find(pl.place);
    if (lp == links.end()) continue;
    json::object l;
    l["peer"] = pl.place;
    l["role"] = sup && *sup == pl.place ? "superior" : "subordinate";
    l["weight"] = table->weight(pl.place);
    l["in_flight"] = pl.in_flight;
    l["capacity"] = pl.capacity;
    l["sent"] = pl.sent_total;
    links_json.push_back(std::move(l));
  }
  o["links"] = std::move(links_json);
  json::object pend;
  for (const auto& [job, n] : stats.pending_by_job) pend[std::to_string(job)] = n;
  o["pending"] = std::move(pend);
  o["counters"] = json::object{
      {"kernels_sent", counters.kernels_sent.load()},
      {"kernels_received", counters.kernels_received.load()},
      {"kernels_recovered", counters.kernels_recovered.load()},
      {"parents_resumed", counters.kernels_resumed_parents.load()},
      {"local_acts", counters.local_acts.load()},
      {"frames_refused", counters.frames_refused.load()},
      {"superior_changes", counters.superior_changes.load()},
  };
  return json::serialize(o);
}

std::string Node::Impl::job_json(const JobInfo& j) const { return json::serialize(job_object(j)); }

Status Node::Impl::start_http() {
  auto hp = parse_host_port(options.http);
  if (!hp.ok()) return std::move(hp).status();
  net::Router r;
  const std::string token = job_api_token(options.key);
  auto authorized = [token](const net::Request& req) {
    auto h = req.headers.get("Authorization");
    if (!h || !h->starts_with("Bearer ")) return false;
    std::string_view given = h->substr(7);
    return given.size() == token.size() && CRYPTO_memcmp(given.data(), token.data(), token.size()) == 0;
  };

  r.get("/api/v1/cluster", [this](const net::Request&) { return net::Response::json(200, cluster_json()); });

  r.get("/api/v1/apps", [](const net::Request&) {
    json::array a;
    for (const App* app : apps()) a.push_back(json::object{{"name", app->name}, {"usage", app->usage}, {"about", app->about}});
    return json_response(200, json::object{{"apps", std::move(a)}});
  });

  r.get("/api/v1/jobs", [this](const net::Request&) {
    json::array a;
    for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) a.push_back(job_object(it->second));
    return json_response(200, json::object{{"jobs", std::move(a)}});
  });

  auto find_job = [this](const net::Request& req) -> JobInfo* {
    auto id = parse_u64(req.param("id"));
    if (!id.ok()) return nullptr;
    auto it = jobs.find(*id);
    return it == jobs.end() ? nullptr : &it->second;
  };

  r.get("/api/v1/jobs/:id", [find_job](const net::Request& req) {
    JobInfo* j = find_job(req);
    if (j == nullptr) return net::Response::error(404, "not_found", "no such job on this node");
    return json_response(200, job_object(*j));
  });

  r.post("/api/v1/jobs", [this, authorized](const net::Request& req) {
    if (!authorized(req)) return net::Response::error(401, "unauthenticated", "a Bearer token is required (chiron node token)");
    std::error_code ec;
    json::value body = json::parse(req.body, ec);
    if (ec || !body.is_object()) return net::Response::error(400, "invalid_argument", "body must be a JSON object {app, args}");
    const json::object& o = body.as_object();
    const json::value* app = o.if_contains("app");
    if (app == nullptr || !app->is_string()) return net::Response::error(400, "invalid_argument", "\"app\" must be a string");
    std::vector<std::string> args;
    if (const json::value* a = o.if_contains("args"); a != nullptr) {
      if (!a->is_array() || a->as_array().size() > 1000) return net::Response::error(400, "invalid_argument", "\"args\" must be an array of strings");
      for (const json::value& v : a->as_array()) {
        if (!v.is_string() || v.as_string().size() > 4096) return net::Response::error(400, "invalid_argument", "\"args\" must be an array of strings");
        args.emplace_back(v.as_string());
      }
    }
    auto job = submit_job(std::string(app->as_string()), args);
    if (!job.ok()) return net::Response::from_status(job.status());
    log::info("cluster", "job submitted", {{"job", std::to_string(job->id)}, {"app", job->app}, {"from", req.remote_address}});
    return json_response(201, job_object(*job));
  });

  r.del("/api/v1/jobs/:id", [this, authorized, find_job](const net::Request& req) {
    if (!authorized(req)) return net::Response::error(401, "unauthenticated", "a Bearer token is required (chiron node token)");
    JobInfo* j = find_job(req);
    if (j == nullptr) return net::Response::error(404, "not_found", "no such job on this node");
    if (j->state == "running") {
      cancel_job_local(j->id, true);
      log::info("cluster", "job cancelled", {{"job", std::to_string(j->id)}, {"from", req.remote_address}});
    }
    return json_response(200, job_object(*j));
  });

  auto job_trace = [this, find_job](const net::Request& req, std::string& error) -> std::optional<kernel::TraceFile> {
    JobInfo* j = find_job(req);
    if (j == nullptr) {
      error = "no such job on this node";
      return std::nullopt;
    }
    const std::filesystem::path tmp = options.data / ("trace-" + std::to_string(j->id) + ".jsonl");
    if (Status st = runtime->write_trace(tmp.string()); !st.ok()) {
      error = st.to_string();
      return std::nullopt;
    }
    auto file = kernel::read_trace_file(tmp.string());
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    if (!file.ok()) {
      error = file.status().to_string();
      return std::nullopt;
    }
    const int64_t to = j->trace_to_us > 0 ? j->trace_to_us : steady_us() - trace_origin_us;
    kernel::TraceFile out;
    for (auto& rec : file->records) {
      if (rec.ts_us >= j->trace_from_us && rec.ts_us <= to) out.records.push_back(std::move(rec));
    }
    return out;
  };

  r.get("/api/v1/jobs/:id/events.svg", [this, job_trace](const net::Request& req) {
    std::string error;
    auto trace = job_trace(req, error);
    if (!trace) return net::Response::error(404, "not_found", error);
    kernel::TraceSvgOptions so;
    so.title = "job " + std::string(req.param("id")) + " on node " + std::to_string(self_position);
    net::Response res = net::Response::text(200, kernel::render_trace_svg(*trace, so), "image/svg+xml");
    res.headers.set("Cache-Control", "no-store");
    return res;
  });

  r.get("/api/v1/jobs/:id/events.jsonl", [job_trace](const net::Request& req) {
    std::string error;
    auto trace = job_trace(req, error);
    if (!trace) return net::Response::error(404, "not_found", error);
    std::string out;
    for (const auto& rec : trace->records) {
      json::object o{{"ts_us", rec.ts_us}, {"lane", rec.lane}, {"device", rec.device},
                     {"kernel", rec.kernel}, {"type", rec.type}, {"event", rec.event}};
      out += json::serialize(o);
      out += '\n';
    }
    return net::Response::text(200, std::move(out), "application/x-ndjson");
  });

  if (!options.vendor_dir.empty() && std::filesystem::exists(options.vendor_dir / "uplot" / "dist")) {
    r.static_dir("/vendor/uplot/", (options.vendor_dir / "uplot" / "dist").string());
  }
  if (!options.web_dir.empty() && std::filesystem::exists(options.web_dir / "cluster" / "index.html")) {
    r.get("/", [](const net::Request&) {
      net::Response res = net::Response::text(302, "the monitoring page is at /cluster/\n");
      res.headers.set("Location", "/cluster/");
      return res;
    });
    r.static_dir("/", options.web_dir.string());
  } else {
    r.get("/", [](const net::Request&) {
      return net::Response::text(200, "chiron node: the monitoring page is not installed (web/cluster/); the API is at /api/v1/cluster\n");
    });
  }

  net::HttpServerOptions ho;
  ho.address = hp->host;
  ho.port = hp->port;
  http = std::make_unique<net::HttpServer>(runtime->net_contexts(), ho, std::move(r));
  return http->start();
}

}  // namespace chiron::cluster
