#include "ns/protocol.h"

#include <algorithm>
#include <string_view>

#include "common/strings.h"

namespace chiron::ns {

Reply req_failure(std::string_view service, const Status& st);

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


Result<uint32_t> parse_weight(std::string_view s) {
  auto n = parse_u64(s);
  if (!n.ok() || *n < 1 || *n > kMaxWeight)
    return Status::invalid_argument("invalid weight " + quoted(s) + " (want an integer 1..10000)");
  return static_cast<uint32_t>(*n);
}

// A registration token "<ts>.<nonce>.<mac>" is the only argument with two dots and no '='
// (weights are digits, heartbeat fields are key=value or "drain").
bool looks_like_token(std::string_view a) {
  return a.find('=') == std::string_view::npos && std::count(a.begin(), a.end(), '.') == 2;
}

Reply noauth(std::string why) {
  Reply r = Reply::error(std::move(why));
  r.error_code = "NOAUTH";
  return r;
}

// Checks the signed token of REG/HB/REM when the service has a secret. *signed_ok tells
// whether a valid token was presented (REM accepts it in place of an admin session).
Status check_token(Registry& r, const Security& sec, std::string_view verb, std::string_view service,
                   std::string_view id, std::string_view token, bool* signed_ok) {
  *signed_ok = false;
  auto secret = r.secret(service);
  if (!secret.ok() || secret->empty()) return ok_status();  // new or open service
  if (token.empty()) return Status::unauthenticated("service " + quoted(service) + " needs a signed token");
  if (sec.verifier == nullptr) return Status::unauthenticated("registration auth is not configured");
  CHIRON_RETURN_IF_ERROR(sec.verifier->verify(*secret, verb, service, id, token));
  *signed_ok = true;
  return ok_status();
}

bool admin_ok(const Session& session, const Security& sec) { return session.admin || sec.admin_token.empty(); }

Result<Heartbeat> parse_heartbeat(const std::vector<std::string>& args, size_t first, size_t last) {
  Heartbeat hb;
  for (size_t i = first; i < last; ++i) {
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

Reply reg(Registry& r, const std::vector<std::string>& a, const Session& session, const Security& sec) {
  if (a.size() < 3 || a.size() > 5) return wrong_args(a[0]);
  if (Status st = check_service(a[1]); !st.ok()) return from_status(st);
  if (Status st = validate_server_id(a[2]); !st.ok()) return from_status(st);
  size_t end = a.size();
  std::string_view token;
  if (end > 3 && looks_like_token(a[end - 1])) token = a[--end];
  if (end > 4) return wrong_args(a[0]);
  uint32_t weight = 1;
  if (end == 4) {
    auto w = parse_weight(a[3]);
    if (!w.ok()) return from_status(w.status());
    weight = *w;
  }
  bool signed_ok = false;
  if (Status st = check_token(r, sec, "REG", a[1], a[2], token, &signed_ok); !st.ok() && !session.admin)
    return noauth(st.message());
  if (Status st = r.register_server(a[1], a[2], weight); !st.ok()) return from_status(st);
  return Reply::simple("OK");
}

Reply rem(Registry& r, const std::vector<std::string>& a, const Session& session, const Security& sec) {
  if (a.size() != 3 && a.size() != 4) return wrong_args(a[0]);
  std::string_view token = a.size() == 4 ? std::string_view(a[3]) : std::string_view();
  if (!token.empty() && !looks_like_token(token)) return Reply::error("invalid token " + quoted(token));
  if (!admin_ok(session, sec) || !token.empty()) {
    bool signed_ok = false;
    Status st = check_token(r, sec, "REM", a[1], a[2], token, &signed_ok);
    if (!signed_ok && !session.admin) {
      return noauth(st.ok() ? "REM needs the admin token (AUTH) or a signed token" : st.message());
    }
  }
  auto removed = r.remove_server(a[1], a[2]);
  if (!removed.ok()) return from_status(removed.status());
  return Reply::number(*removed ? 1 : 0);
}

Reply hb(Registry& r, const std::vector<std::string>& a, const Session& session, const Security& sec) {
  if (a.size() < 3) return wrong_args(a[0]);
  size_t end = a.size();
  std::string_view token;
  if (end > 3 && looks_like_token(a[end - 1])) token = a[--end];
  auto beat = parse_heartbeat(a, 3, end);
  if (!beat.ok()) return from_status(beat.status());
  bool signed_ok = false;
  if (Status st = check_token(r, sec, "HB", a[1], a[2], token, &signed_ok); !st.ok() && !session.admin)
    return noauth(st.message());
  if (Status st = r.heartbeat(a[1], a[2], *beat); !st.ok()) return from_status(st);
  return Reply::simple("OK");
}

Reply auth(const std::vector<std::string>& a, Session& session, const Security& sec) {
  // redis-cli -a sends "AUTH password"; Redis 6 clients may send "AUTH default password".
  if (a.size() != 2 && a.size() != 3) return wrong_args(a[0]);
  if (sec.admin_token.empty())
    return Reply::error("AUTH <token> called without any admin token configured (admin verbs are open)");
  if (!admin_token_equal(sec.admin_token, a.back())) {
    session.admin = false;
    Reply r = Reply::error("invalid admin token");
    r.error_code = "WRONGPASS";
    return r;
  }
  session.admin = true;
  return Reply::simple("OK");
}

Reply req(Registry& r, const std::vector<std::string>& a) {
  if (a.size() != 2 && a.size() != 3) return wrong_args(a[0]);
  auto id = r.pick(a[1], a.size() == 3 ? std::string_view(a[2]) : std::string_view());
  if (!id.ok()) return req_failure(a[1], id.status());
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

Status validate_server_id(std::string_view id) {
  auto hp = parse_host_port(id);
  if (!hp.ok() || hp->host.empty() || id.front() == ':' || hp->port == 0)
    return Status::invalid_argument("invalid server address " + quoted(id) + " (want ip:port)");
  return {};
}

Reply req_failure(std::string_view service, const Status& st) {
  if (st.code() == StatusCode::kUnavailable) return Reply::error("no server available for service " + quoted(service));
  return from_status(st);
}

Reply execute(Registry& registry, const std::vector<std::string>& args, Session& session, const Security& sec) {
  if (args.empty()) return Reply::error("empty command");
  const std::string verb = to_lower(args[0]);
  if (verb == "req") return req(registry, args);
  if (verb == "reg") return reg(registry, args, session, sec);
  if (verb == "rem") return rem(registry, args, session, sec);
  if (verb == "hb") return hb(registry, args, session, sec);
  if (verb == "alg" || verb == "state") {
    if (!admin_ok(session, sec)) return noauth(std::string(verb == "alg" ? "ALG" : "STATE") + " needs the admin token (AUTH <token>)");
    return verb == "alg" ? alg(registry, args) : state(registry, args);
  }
  if (verb == "auth") return auth(args, session, sec);
  if (verb == "list") return list(registry, args);
  if (verb == "ping") return ping(args);
  if (verb == "command") return Reply::array({});
  return Reply::error("unknown command " + quoted(args[0]));
}

Reply execute(Registry& registry, const std::vector<std::string>& args) {
  Session session;
  return execute(registry, args, session, Security{});
}

}  // namespace chiron::ns
