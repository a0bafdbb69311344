#include "nameserver/json_views.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace chiron::nameserver {

namespace json = boost::json;

json::object server_json(const ns::Server& s, int64_t now_us) {
  json::object o;
  o["id"] = s.id;
  o["weight"] = s.weight;
  o["weight_percent"] = s.weight_percent;
  o["effective_weight"] = s.effective_weight;
  o["admin"] = std::string(ns::to_string(s.admin));
  o["health"] = std::string(ns::to_string(s.health));
  o["eligible"] = s.eligible;
  o["load"] = s.load();
  o["picks"] = s.counters.picks;
  if (s.check.empty() && s.lease_deadline_us > 0) {
    o["lease_expires_in_ms"] = std::max<int64_t>(0, (s.lease_deadline_us - now_us) / 1000);
  } else {
    o["lease_expires_in_ms"] = nullptr;
  }
  if (s.check.empty()) {
    o["check"] = nullptr;
  } else {
    // Stored by us from a validated spec, so it parses; anything else shows as null.
    json::error_code ec;
    json::value check = json::parse(s.check, ec);
    o["check"] = ec ? json::value(nullptr) : std::move(check);
  }
  o["health_detail"] = s.health_detail;
  o["health_for_ms"] = std::max<int64_t>(0, (now_us - s.health_since_us) / 1000);
  o["ramp_percent"] = s.ramp_percent;
  return o;
}

json::object service_json(const ns::ServiceView& v, int64_t now_us) {
  json::object o;
  o["name"] = v.name;
  o["algorithm"] = v.algorithm;
  o["has_secret"] = v.has_secret;
  json::array servers;
  servers.reserve(v.servers.size());
  size_t eligible = 0;
  for (const ns::Server& s : v.servers) {
    eligible += s.eligible ? 1 : 0;
    servers.push_back(server_json(s, now_us));
  }
  o["servers"] = std::move(servers);
  o["eligible"] = eligible;
  o["picks"] = v.picks;
  o["errors"] = v.errors;
  o["panic"] = v.panic;
  return o;
}

std::string snapshot_message(const std::vector<ns::ServiceView>& services, uint64_t version, int64_t now_us) {
  json::object o;
  o["type"] = "snapshot";
  o["version"] = version;
  json::array list;
  list.reserve(services.size());
  for (const ns::ServiceView& v : services) list.push_back(service_json(v, now_us));
  o["services"] = std::move(list);
  return json::serialize(o);
}

std::string delta_message(const ns::Change& c, int64_t now_us) {
  json::object o;
  o["type"] = "delta";
  o["version"] = c.version;
  o["service"] = c.service;
  switch (c.op) {
    case ns::Change::Op::kUpsert:
      o["op"] = "upsert";
      o["server"] = server_json(c.server, now_us);
      break;
    case ns::Change::Op::kRemove:
      o["op"] = "remove";
      o["id"] = c.id;
      break;
    case ns::Change::Op::kService:
      o["op"] = "service";
      o["algorithm"] = c.algorithm;
      o["has_secret"] = c.has_secret;
      break;
    case ns::Change::Op::kRemoveService:
      o["op"] = "remove_service";
      break;
  }
  return json::serialize(o);
}

}  // namespace chiron::nameserver
