// chiron job: submit, watch and cancel batch jobs on a `chiron node` (its HTTP job API).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <thread>

#include "chiron/commands.h"
#include "cluster/node.h"
#include "common/common.h"
#include "push/transport.h"

namespace chiron::app {
namespace {

namespace json = boost::json;

struct JobArgs {
  std::string node = "127.0.0.1:7080";
  std::string key_file;
  bool wait = false;
  bool as_json = false;
  std::string app;
  std::string id;
};

class JobClient {
 public:
  static Result<JobClient> connect(const JobArgs& a) {
    auto hp = parse_host_port(a.node);
    if (!hp.ok()) return std::move(hp).status().context("--node");
    push::HttpOptions o;
    o.server.host = hp->host;
    o.server.port = std::to_string(hp->port);
    if (!a.key_file.empty()) {
      auto key = cluster::read_key_file(a.key_file);
      if (!key.ok()) return key.status();
      o.token = cluster::job_api_token(*key);
    }
    o.request_timeout_ms = 30'000;
    return JobClient(push::make_http_transport(std::move(o)));
  }

  Result<json::value> call(const std::string& method, const std::string& target, const std::string& body = "") {
    push::HttpRequest req;
    req.method = method;
    req.target = target;
    req.body = body;
    if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
    auto res = transport_->send(req);
    if (!res.ok()) return std::move(res).status().context("node");
    std::error_code ec;
    json::value v = json::parse(res->body, ec);
    if (res->status >= 400) {
      std::string msg = res->body;
      if (!ec && v.is_object() && v.as_object().contains("error")) {
        const json::value& e = v.as_object().at("error");
        if (e.is_object() && e.as_object().contains("message") && e.as_object().at("message").is_string()) {
          msg = std::string(e.as_object().at("message").as_string());
        }
      }
      return Status(res->status == 401 ? StatusCode::kUnauthenticated : res->status == 404 ? StatusCode::kNotFound
                                                                                          : StatusCode::kInvalidArgument,
                    "HTTP " + std::to_string(res->status) + ": " + msg);
    }
    if (ec) return Status::internal("the node answered something that is not JSON");
    return v;
  }

 private:
  explicit JobClient(std::unique_ptr<push::Transport> t) : transport_(std::move(t)) {}
  std::unique_ptr<push::Transport> transport_;
};

std::string str_of(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return "";
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_null()) return "";
  return json::serialize(*v);
}

void print_job_line(const json::object& j) {
  const json::object* p = j.if_contains("progress") ? j.if_contains("progress")->if_object() : nullptr;
  std::string progress = p ? str_of(*p, "done") + "/" + str_of(*p, "total") : "";
  std::printf("%-22s %-14s %-10s %-9s %s\n", str_of(j, "id").c_str(), str_of(j, "app").c_str(), str_of(j, "state").c_str(),
              progress.c_str(), str_of(j, "summary").c_str());
}

int fail(const char* what, const Status& st) {
  std::fprintf(stderr, "chiron job %s: %s\n", what, st.to_string().c_str());
  return st.code() == StatusCode::kUnavailable || st.code() == StatusCode::kIoError ? 3 : 2;
}

int wait_for(JobClient& c, const std::string& id) {
  const bool tty = isatty(STDERR_FILENO) != 0;
  std::string last;
  for (;;) {
    auto v = c.call("GET", "/api/v1/jobs/" + id);
    if (!v.ok()) return fail("status", v.status());
    const json::object& j = v->as_object();
    const std::string state = str_of(j, "state");
    const json::object* p = j.if_contains("progress") ? j.if_contains("progress")->if_object() : nullptr;
    std::string line = "job " + id + " " + state;
    if (p != nullptr && str_of(*p, "total") != "0") line += " " + str_of(*p, "done") + "/" + str_of(*p, "total");
    if (line != last) {
      std::fprintf(stderr, tty ? "\r\033[K%s" : "%s\n", line.c_str());
      last = line;
    }
    if (state != "running") {
      if (tty) std::fprintf(stderr, "\n");
      std::printf("%s\n", str_of(j, "summary").c_str());
      if (!str_of(j, "error").empty()) std::fprintf(stderr, "error: %s\n", str_of(j, "error").c_str());
      const json::value* ec = j.if_contains("exit_code");
      if (state == "succeeded") return 0;
      return ec != nullptr && ec->is_int64() && ec->as_int64() != 0 ? static_cast<int>(ec->as_int64()) : 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace

void add_job_command(CLI::App& app) {
  auto a = std::make_shared<JobArgs>();
  auto* cmd = app.add_subcommand("job", "Submit, watch and cancel batch jobs on a cluster node");
  cmd->require_subcommand(1);
  auto common = [a](CLI::App* sub) {
    sub->add_option("--node", a->node, "The node's HTTP address (its --http)")->capture_default_str()->envname("CHIRON_NODE");
    sub->add_option("--key-file", a->key_file, "Cluster key file (needed to submit and cancel)")->envname("CHIRON_CLUSTER_KEY_FILE");
  };
  auto* submit = cmd->add_subcommand("submit", "Submit a job: chiron job submit [--wait] APP ARGS... (everything after APP goes to the app)");
  common(submit);
  submit->add_flag("--wait", a->wait, "Show progress and wait for the end; exit with the job's exit code");
  submit->add_option("APP", a->app, "App name (chiron job apps)")->required();
  submit->prefix_command();  // everything after APP belongs to the app
  submit->callback([a, submit] {
    auto c = JobClient::connect(*a);
    if (!c.ok()) return set_exit_code(fail("submit", c.status()));
    // prefix_command leaves the app's arguments as remaining()
    std::vector<std::string> args = submit->remaining();
    json::array ja;
    for (const auto& s : args) ja.push_back(json::value(s));
    auto v = c->call("POST", "/api/v1/jobs", json::serialize(json::object{{"app", a->app}, {"args", std::move(ja)}}));
    if (!v.ok()) return set_exit_code(fail("submit", v.status()));
    const std::string id = str_of(v->as_object(), "id");
    std::printf("%s\n", id.c_str());
    std::fflush(stdout);
    if (a->wait) set_exit_code(wait_for(*c, id));
  });
  auto* status = cmd->add_subcommand("status", "Show jobs (all, or one ID)");
  common(status);
  status->add_option("ID", a->id, "Job id");
  status->add_flag("--json", a->as_json, "Print the API's JSON");
  status->callback([a] {
    auto c = JobClient::connect(*a);
    if (!c.ok()) return set_exit_code(fail("status", c.status()));
    auto v = c->call("GET", a->id.empty() ? "/api/v1/jobs" : "/api/v1/jobs/" + a->id);
    if (!v.ok()) return set_exit_code(fail("status", v.status()));
    if (a->as_json) {
      std::printf("%s\n", json::serialize(*v).c_str());
      return;
    }
    std::printf("%-22s %-14s %-10s %-9s %s\n", "ID", "APP", "STATE", "PROGRESS", "SUMMARY");
    if (!a->id.empty()) return print_job_line(v->as_object());
    for (const json::value& j : v->as_object().at("jobs").as_array()) print_job_line(j.as_object());
  });
  auto* cancel = cmd->add_subcommand("cancel", "Cancel a running job");
  common(cancel);
  cancel->add_option("ID", a->id, "Job id")->required();
  cancel->callback([a] {
    auto c = JobClient::connect(*a);
    if (!c.ok()) return set_exit_code(fail("cancel", c.status()));
    auto v = c->call("DELETE", "/api/v1/jobs/" + a->id);
    if (!v.ok()) return set_exit_code(fail("cancel", v.status()));
    print_job_line(v->as_object());
  });
  auto* list = cmd->add_subcommand("apps", "List the apps a node can run");
  common(list);
  list->callback([a] {
    auto c = JobClient::connect(*a);
    if (!c.ok()) return set_exit_code(fail("apps", c.status()));
    auto v = c->call("GET", "/api/v1/apps");
    if (!v.ok()) return set_exit_code(fail("apps", v.status()));
    for (const json::value& x : v->as_object().at("apps").as_array()) {
      const json::object& o = x.as_object();
      std::printf("%-14s %s\n  usage: %s\n", str_of(o, "name").c_str(), str_of(o, "about").c_str(), str_of(o, "usage").c_str());
    }
  });
}

}  // namespace chiron::app
