#include "ns/protocol.h"

#include <string_view>

#include "common/strings.h"

namespace chiron::ns {
namespace {

// Long verbs and names are cut in error texts so a hostile argument cannot inflate replies.
std::string quoted(std::string_view s) {
  constexpr size_t kMaxEcho = 64;
  std::string out = "'";
  out += s.substr(0, kMaxEcho);
  if (s.size() > kMaxEcho) out += "...";
  out += "'";
  return out;
}

Reply wrong_args(std::string_view verb) {
  return Reply::error("wrong number of arguments for '" + to_lower(verb) + "' command");
}

Reply from_status(const Status& st) { return Reply::error(st.message()); }

Status check_service(std::string_view service) {
  if (service.empty()) return Status::invalid_argument("empty service name");
  return {};
}

// "ip:port" as a server id: a host and a non-zero port, kept as the client wrote it.
Status check_server_id(std::string_view id) {
  auto hp = parse_host_port(id);
  if (!hp.ok() || hp->host.empty() || id.front() == ':' || hp->port == 0)
    return Status::invalid_argument("invalid server address " + quoted(id) + " (want ip:port)");
  return {};
}

Result<uint32_t> parse_weight(std::string_view s) {
  auto n = parse_u64(s);
  if (!n.ok() || *n < 1 || *n > kMaxWeight)
    return Status::invalid_argument("invalid weight " + quoted(s) + " (want an integer 1..10000)");
  return static_cast<uint32_t>(*n);
}

Result<Heartbeat> parse_heartbeat(const std::vector<std::string>& args, size_t first) {
  Heartbeat hb;
  for (size_t i = first; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (iequals(a, "drain")) {
      hb.drain = true;
    } else if (a.size() > 5 && iequals(a.substr(0, 5), "load=")) {
      auto n = parse_u64(a.substr(5));
      if (!n.ok()) return Status::invalid_argument("invalid load " + quoted(a));
      hb.load = *n;
    } else if (a.size() > 7 && iequals(a.substr(0, 7), "weight=")) {
      std::string_view v = a.substr(7);
      if (v.back() == '%') v.remove_suffix(1);
      auto n = parse_u64(v);
      if (!n.ok() || *n > kMaxWeightPercent)
        return Status::invalid_argument("invalid weight " + quoted(a) + " (want weight=0..100%)");
      hb.weight_percent = static_cast<uint32_t>(*n);
    } else {
      return Status::invalid_argument("unknown heartbeat field " + quoted(a));
    }
  }
  return hb;
}

std::string algorithm_list() {
  std::string out;
  for (std::string_view name : algorithm_names()) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

Reply reg(Registry& r, const std::vector<std::string>& a) {
  if (a.size() != 3 && a.size() != 4) return wrong_args(a[0]);
  if (Status st = check_service(a[1]); !st.ok()) return from_status(st);
  if (Status st = check_server_id(a[2]); !st.ok()) return from_status(st);
  uint32_t weight = 1;
  if (a.size() == 4) {
    auto w = parse_weight(a[3]);
    if (!w.ok()) return from_status(w.status());
    weight = *w;
  }
  if (Status st = r.register_server(a[1], a[2], weight); !st.ok()) return from_status(st);
  return Reply::simple("OK");
}

Reply rem(Registry& r, const std::vector<std::string>& a) {
  if (a.size() != 3) return wrong_args(a[0]);
  auto removed = r.remove_server(a[1], a[2]);
  if (!removed.ok()) return from_status(removed.status());
  return Reply::number(*removed ? 1 : 0);
}

Reply hb(Registry& r, const std::vector<std::string>& a) {
  if (a.size() < 3) return wrong_args(a[0]);
  auto beat = parse_heartbeat(a, 3);
  if (!beat.ok()) return from_status(beat.status());
  if (Status st = r.heartbeat(a[1], a[2], *beat); !st.ok()) return from_status(st);
  return Reply::simple("OK");
}

Reply req(Registry& r, const std::vector<std::string>& a) {
  if (a.size() != 2 && a.size() != 3) return wrong_args(a[0]);
  auto id = r.pick(a[1], a.size() == 3 ? std::string_view(a[2]) : std::string_view());
  if (!id.ok()) {
    if (id.status().code() == StatusCode::kUnavailable)
      return Reply::error("no server available for service " + quoted(a[1]));
    return from_status(id.status());
  }
  return Reply::bulk(std::move(id).value());
}

Reply alg(Registry& r, const std::vector<std::string>& a) {
  if (a.size() != 3) return wrong_args(a[0]);
  if (Status st = r.set_algorithm(a[1], a[2]); !st.ok()) {
    if (st.code() == StatusCode::kNotFound) return from_status(st);
    return Reply::error("unknown algorithm " + quoted(a[2]) + " (known: " + algorithm_list() + ")");
  }
  return Reply::simple("OK");
}

Reply state(Registry& r, const std::vector<std::string>& a) {
  if (a.size() != 4) return wrong_args(a[0]);
  auto admin = parse_admin_state(to_lower(a[3]));
  if (!admin.ok()) return Reply::error("invalid state " + quoted(a[3]) + " (want ready, drain or maint)");
  if (Status st = r.set_admin(a[1], a[2], *admin); !st.ok()) return from_status(st);
  return Reply::simple("OK");
}

Reply list(Registry& r, const std::vector<std::string>& a) {
  if (a.size() != 2) return wrong_args(a[0]);
  auto servers = r.list(a[1]);
  if (!servers.ok()) return from_status(servers.status());
  std::vector<std::string> lines;
  lines.reserve(servers->size());
  for (const Server& s : *servers) {
    std::string line = s.id;
    line += " weight=" + std::to_string(s.weight);
    line += " state=" + std::string(to_string(s.admin));
    line += " health=" + std::string(to_string(s.health));
    line += " picks=" + std::to_string(s.counters.picks);
    lines.push_back(std::move(line));
  }
  return Reply::array(std::move(lines));
}

Reply ping(const std::vector<std::string>& a) {
  if (a.size() == 1) return Reply::simple("PONG");
  if (a.size() == 2) return Reply::bulk(a[1]);
  return wrong_args(a[0]);
}

}  // namespace

Reply execute(Registry& registry, const std::vector<std::string>& args) {
  if (args.empty()) return Reply::error("empty command");
  const std::string verb = to_lower(args[0]);
  if (verb == "req") return req(registry, args);
  if (verb == "reg") return reg(registry, args);
  if (verb == "rem") return rem(registry, args);
  if (verb == "hb") return hb(registry, args);
  if (verb == "alg") return alg(registry, args);
  if (verb == "state") return state(registry, args);
  if (verb == "list") return list(registry, args);
  if (verb == "ping") return ping(args);
  if (verb == "command") return Reply::array({});
  return Reply::error("unknown command " + quoted(args[0]));
}

}  // namespace chiron::ns
