// The callee table: which calls are rupture points (research §6.3) and the --callees file.
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "fluxc/compile_internal.h"

namespace chiron::fluxc {
namespace {

using flux::StreamType;

constexpr size_t kMaxCalleeEntries = 10'000;
constexpr size_t kMaxCalleeSpec = 256;

// Global functions named alone in a spec ("setTimeout"): provenance "", method = the name.
bool is_global_function(std::string_view s) {
  return s == "setTimeout" || s == "setInterval" || s == "setImmediate" || s == "queueMicrotask";
}

bool valid_spec_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
         c == '-' || c == '.' || c == '@' || c == '/' || c == '(' || c == ')';
}

}  // namespace

CalleeTable default_callees() {
  CalleeTable t;
  auto add = [&t](std::string prov, std::string method, std::string event, StreamType type) {
    t.callees.push_back(Callee{std::move(prov), std::move(method), std::move(event), type});
  };
  for (const char* m : {"get", "post", "put", "delete", "del", "patch", "all", "use"}) {
    add("express()", m, "", StreamType::kStart);
  }
  add("http", "createServer", "", StreamType::kStart);
  add("https", "createServer", "", StreamType::kStart);
  add("net", "createServer", "", StreamType::kStart);
  add("http.createServer()", "on", "request", StreamType::kStart);
  add("https.createServer()", "on", "request", StreamType::kStart);
  add("net.createServer()", "on", "connection", StreamType::kStart);
  add("http.createServer()", "on", "connection", StreamType::kStart);
  add("", "setInterval", "", StreamType::kStart);
  for (const char* m : {"readFile", "writeFile", "appendFile", "read", "write", "open", "close", "stat", "lstat",
                        "readdir", "mkdir", "unlink", "rename", "exists"}) {
    add("fs", m, "", StreamType::kPost);
  }
  add("raw-body", "", "", StreamType::kPost);
  add("", "setTimeout", "", StreamType::kPost);
  add("", "setImmediate", "", StreamType::kPost);
  add("process", "nextTick", "", StreamType::kPost);
  add("dns", "lookup", "", StreamType::kPost);
  add("crypto", "randomBytes", "", StreamType::kPost);
  add("crypto", "pbkdf2", "", StreamType::kPost);
  return t;
}

namespace detail {

std::string callee_path(const Callee& c) {
  if (c.provenance.empty()) return c.method;
  if (c.method.empty()) return c.provenance;
  return c.provenance + "." + c.method;
}

std::string callee_spec(const Callee& c) {
  std::string s = callee_path(c);
  if (!c.event.empty()) s += ":" + c.event;
  return s;
}

Result<Callee> parse_callee(std::string_view spec, StreamType type) {
  auto bad = [&](std::string_view why) {
    return Status::invalid_argument("callee \"" + std::string(spec.substr(0, 80)) + "\": " + std::string(why));
  };
  if (spec.empty()) return bad("empty");
  if (spec.size() > kMaxCalleeSpec) return bad("longer than 256 bytes");
  Callee c;
  c.type = type;
  std::string_view path = spec;
  if (size_t colon = spec.rfind(':'); colon != std::string_view::npos) {
    c.event = std::string(spec.substr(colon + 1));
    path = spec.substr(0, colon);
    if (c.event.empty()) return bad("empty event after ':'");
    for (char ch : c.event) {
      if (ch == ':' || ch == ' ' || static_cast<unsigned char>(ch) < 0x20) return bad("bad character in the event");
    }
  }
  if (path.empty()) return bad("no callee before ':'");
  for (char ch : path) {
    if (!valid_spec_char(ch)) return bad("bad character '" + std::string(1, ch) + "' (expected <module>[.<method>])");
  }
  if (path.front() == '.' || path.back() == '.' || path.find("..") != std::string_view::npos) {
    return bad("empty name between dots");
  }
  size_t dot = path.rfind('.');
  // "express().get": split at the last dot that is not inside the module name; a path without
  // a dot is a module called directly ("raw-body") or a global function ("setTimeout").
  if (dot == std::string_view::npos) {
    if (is_global_function(path)) {
      c.method = std::string(path);
    } else {
      c.provenance = std::string(path);
    }
  } else {
    c.provenance = std::string(path.substr(0, dot));
    c.method = std::string(path.substr(dot + 1));
  }
  return c;
}

CalleeIndex::CalleeIndex(const CalleeTable& table) {
  for (const Callee& c : table.callees) by_path_[callee_path(c)].push_back(c);
}

const Callee* CalleeIndex::match(const std::string& path, const std::optional<std::string>& first_arg) const {
  auto it = by_path_.find(path);
  if (it == by_path_.end()) return nullptr;
  const Callee* any = nullptr;
  for (const Callee& c : it->second) {
    if (c.event.empty()) {
      if (any == nullptr) any = &c;
    } else if (first_arg && *first_arg == c.event) {
      return &c;
    }
  }
  return any;
}

}  // namespace detail

Result<CalleeTable> read_callees(std::string_view json_text, CalleeTable base) {
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(json_text, ec);
  if (ec) return Status::invalid_argument("callees: not JSON (" + ec.message() + ")");
  if (!doc.is_object()) return Status::invalid_argument("callees: expected an object {\"start\": [...], \"post\": [...]}");
  const boost::json::object& o = doc.as_object();
  for (const auto& kv : o) {
    if (kv.key() != "replace" && kv.key() != "start" && kv.key() != "post") {
      return Status::invalid_argument("callees: unknown key \"" + std::string(kv.key()) +
                                      "\" (expected replace, start, post)");
    }
  }
  CalleeTable out = std::move(base);
  if (const auto* r = o.if_contains("replace")) {
    if (!r->is_bool()) return Status::invalid_argument("callees: \"replace\" must be true or false");
    if (r->as_bool()) out.callees.clear();
  }
  size_t total = 0;
  for (auto [key, type] : {std::pair{"start", StreamType::kStart}, std::pair{"post", StreamType::kPost}}) {
    const auto* list = o.if_contains(key);
    if (list == nullptr) continue;
    if (!list->is_array()) return Status::invalid_argument(std::string("callees: \"") + key + "\" must be an array of strings");
    const auto& arr = list->as_array();
    for (size_t i = 0; i < arr.size(); ++i) {
      if (++total > kMaxCalleeEntries) return Status::invalid_argument("callees: more than 10000 entries");
      if (!arr[i].is_string()) {
        return Status::invalid_argument(std::string("callees: ") + key + "[" + std::to_string(i) + "] is not a string");
      }
      auto c = detail::parse_callee(std::string_view(arr[i].as_string()), type);
      if (!c.ok()) return std::move(c).status().context(std::string("callees: ") + key + "[" + std::to_string(i) + "]");
      bool overridden = false;
      for (Callee& e : out.callees) {
        if (detail::callee_path(e) == detail::callee_path(*c) && e.event == c->event) {
          e.type = type;
          overridden = true;
        }
      }
      if (!overridden) out.callees.push_back(std::move(*c));
    }
  }
  return out;
}

}  // namespace chiron::fluxc
