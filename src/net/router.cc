#include "net/router.h"

#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <atomic>
#include <exception>

#include "common/check.h"
#include "common/log.h"
#include "common/strings.h"

namespace chiron::net {

// ---------------------------------------------------------------- Responder

namespace {

class CallbackSink final : public detail::ResponseSink {
 public:
  explicit CallbackSink(std::function<void(Response)> fn) : fn_(std::move(fn)) {}
  void deliver(uint64_t, Response&& response) override {
    if (!done_.exchange(true)) fn_(std::move(response));
  }

 private:
  std::function<void(Response)> fn_;
  std::atomic<bool> done_{false};
};

Response dropped_response() { return Response::error(500, "internal", "the handler did not respond"); }

}  // namespace

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    if (sink_) sink_->deliver(token_, dropped_response());
    sink_ = std::move(other.sink_);
    token_ = other.token_;
  }
  return *this;
}

Responder::~Responder() {
  if (sink_) sink_->deliver(token_, dropped_response());
}

Responder Responder::from_callback(std::function<void(Response)> fn) {
  return Responder(std::make_shared<CallbackSink>(std::move(fn)), 0);
}

bool Responder::send(Response response) {
  if (!sink_) return false;
  auto sink = std::move(sink_);
  sink->deliver(token_, std::move(response));
  return true;
}

// ------------------------------------------------------------------- Router

struct Router::Endpoint {
  std::string method;  // "GET", ... or "*" for any
  Handler handler;
  AsyncHandler async_handler;
  std::unique_ptr<WebSocketRoute> websocket;
  std::vector<std::string> param_names;  // in path order
  std::string rest_name;                 // for a trailing "*name"
};

struct Router::Node {
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> literals;
  std::unique_ptr<Node> param;  // ":name"
  std::unique_ptr<Node> rest;   // "*name": only endpoints, always a leaf
  std::vector<std::unique_ptr<Endpoint>> endpoints;
};

namespace {

constexpr std::string_view kStandardMethods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};

using Segments = boost::container::small_vector<std::string_view, 16>;

// The raw (still percent-encoded) path of a request-target; sets *escaped if it holds a '%'.
std::string_view raw_path_of(const Request& request, bool* escaped) {
  std::string_view t = request.target;
  if (t.empty() || t.front() != '/') {  // absolute-form: the parser has split the path out
    *escaped = false;
    return request.path;
  }
  size_t end = 0;
  bool pct = false;
  for (; end < t.size() && t[end] != '?' && t[end] != '#'; ++end) pct |= t[end] == '%';
  *escaped = pct;
  return t.substr(0, end);
}

std::string decode_or_raw(std::string_view s) {
  if (s.find('%') == std::string_view::npos) return std::string(s);
  auto d = percent_decode(s);
  return d ? std::move(*d) : std::string(s);
}

struct Search {
  std::string_view method;
  const Segments* segments = nullptr;
  bool escaped = false;  // some segment holds a percent-escape
  boost::container::small_vector<size_t, 8> captures;  // indices of ":name" segments
  // Result.
  const void* endpoint = nullptr;
  boost::container::small_vector<size_t, 8> result_captures;
  size_t rest_start = SIZE_MAX;
  bool path_matched = false;
  std::vector<std::string> allow;
};

}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

Router::Endpoint& Router::add_endpoint(std::string_view method, std::string_view pattern) {
  CHIRON_CHECK(!pattern.empty() && pattern.front() == '/', "route patterns start with '/'");
  Node* node = root_.get();
  auto ep = std::make_unique<Endpoint>();
  ep->method = std::string(method);
  auto segs = split(pattern.substr(1), '/');
  for (size_t i = 0; i < segs.size(); ++i) {
    std::string_view seg = segs[i];
    if (seg.starts_with(':')) {
      CHIRON_CHECK(seg.size() > 1, "a ':' segment needs a name");
      if (!node->param) node->param = std::make_unique<Node>();
      ep->param_names.emplace_back(seg.substr(1));
      node = node->param.get();
    } else if (seg.starts_with('*')) {
      CHIRON_CHECK(i + 1 == segs.size(), "a '*' segment must be the last one");
      CHIRON_CHECK(seg.size() > 1, "a '*' segment needs a name");
      if (!node->rest) node->rest = std::make_unique<Node>();
      ep->rest_name = std::string(seg.substr(1));
      node = node->rest.get();
    } else {
      auto it = std::find_if(node->literals.begin(), node->literals.end(),
                             [&](const auto& kv) { return kv.first == seg; });
      if (it == node->literals.end()) {
        node->literals.emplace_back(std::string(seg), std::make_unique<Node>());
        it = std::prev(node->literals.end());
      }
      node = it->second.get();
    }
  }
  for (const auto& existing : node->endpoints)
    CHIRON_CHECK(existing->method != method, "route registered twice");
  if (method != "*" && std::find(methods_.begin(), methods_.end(), method) == methods_.end())
    methods_.emplace_back(method);
  node->endpoints.push_back(std::move(ep));
  return *node->endpoints.back();
}

Router& Router::add(std::string_view method, std::string_view pattern, Handler handler, AsyncHandler async_handler) {
  Endpoint& ep = add_endpoint(method, pattern);
  ep.handler = std::move(handler);
  ep.async_handler = std::move(async_handler);
  return *this;
}

Router& Router::websocket(std::string_view pattern, WsHandlers handlers, WsOptions options) {
  Endpoint& ep = add_endpoint("GET", pattern);
  ep.websocket = std::make_unique<WebSocketRoute>(WebSocketRoute{std::move(handlers), options});
  return *this;
}

Router& Router::static_dir(std::string_view prefix, std::string root_dir, StaticFilesOptions options) {
  return static_dir(prefix, std::make_shared<const StaticFiles>(std::move(root_dir), std::move(options)));
}

Router& Router::static_dir(std::string_view prefix, std::shared_ptr<const StaticFiles> files) {
  std::string pattern(prefix);
  if (!pattern.ends_with('/')) pattern += '/';
  pattern += "*path";
  return get(pattern, [files = std::move(files)](const Request& r) { return files->serve(r, r.param("path")); });
}

namespace {

// Picks the endpoint of `node` for the method: exact, then GET for HEAD, then any.
template <class Node, class Endpoint>
const Endpoint* pick(const Node& node, std::string_view method) {
  const Endpoint* get = nullptr;
  const Endpoint* any = nullptr;
  for (const auto& ep : node.endpoints) {
    if (ep->method == method) return ep.get();
    if (ep->method == "GET") get = ep.get();
    if (ep->method == "*") any = ep.get();
  }
  if (method == "HEAD" && get) return get;
  return any;
}

template <class Node, class Endpoint>
bool try_node(const Node& node, Search& s, size_t rest_start) {
  if (node.endpoints.empty()) return false;
  if (const Endpoint* ep = pick<Node, Endpoint>(node, s.method)) {
    s.endpoint = ep;
    s.result_captures = s.captures;
    s.rest_start = rest_start;
    return true;
  }
  s.path_matched = true;
  for (const auto& ep : node.endpoints) {
    auto add = [&](std::string_view m) {
      if (std::find(s.allow.begin(), s.allow.end(), m) == s.allow.end()) s.allow.emplace_back(m);
    };
    add(ep->method);
    if (ep->method == "GET") add("HEAD");
  }
  return false;
}

template <class Node, class Endpoint>
bool walk(const Node& node, size_t i, Search& s) {
  const Segments& segs = *s.segments;
  if (i == segs.size()) {
    if (try_node<Node, Endpoint>(node, s, SIZE_MAX)) return true;
    return node.rest && try_node<Node, Endpoint>(*node.rest, s, i);
  }
  std::string_view seg = segs[i];
  for (const auto& [literal, child] : node.literals) {
    const bool equal = s.escaped ? decode_or_raw(seg) == literal : seg == literal;
    if (equal && walk<Node, Endpoint>(*child, i + 1, s)) return true;
  }
  if (node.param && !seg.empty()) {
    s.captures.push_back(i);
    if (walk<Node, Endpoint>(*node.param, i + 1, s)) return true;
    s.captures.pop_back();
  }
  return node.rest && try_node<Node, Endpoint>(*node.rest, s, i);
}

}  // namespace

RouteMatch Router::resolve(Request& request) const {
  RouteMatch m;
  bool escaped = false;
  std::string_view raw = raw_path_of(request, &escaped);
  if (raw.empty() || raw.front() != '/') {
    m.error = Response::error(404, "not_found", "no route for " + request.path);
    return m;
  }
  Segments segs;
  size_t start = 1;
  for (size_t i = 1; i <= raw.size(); ++i) {
    if (i == raw.size() || raw[i] == '/') {
      segs.push_back(raw.substr(start, i - start));
      start = i + 1;
    }
  }
  Search s;
  s.method = request.method;
  s.segments = &segs;
  s.escaped = escaped;
  if (!walk<Node, Endpoint>(*root_, 0, s)) {
    bool standard = std::find(std::begin(kStandardMethods), std::end(kStandardMethods), request.method) !=
                    std::end(kStandardMethods);
    bool known = standard || std::find(methods_.begin(), methods_.end(), request.method) != methods_.end();
    if (!known) {
      m.error = Response::error(501, "not_implemented", "method not implemented");
    } else if (s.path_matched) {
      m.error = Response::error(405, "method_not_allowed", request.method + " not allowed for " + request.path);
      std::string allow;
      for (const auto& a : s.allow) {
        if (!allow.empty()) allow += ", ";
        allow += a;
      }
      m.error->headers.add("Allow", std::move(allow));
    } else {
      m.error = Response::error(404, "not_found", "no route for " + request.path);
    }
    return m;
  }
  const auto* ep = static_cast<const Endpoint*>(s.endpoint);
  request.params.clear();
  for (size_t k = 0; k < s.result_captures.size() && k < ep->param_names.size(); ++k)
    request.params[ep->param_names[k]] = decode_or_raw(segs[s.result_captures[k]]);
  if (s.rest_start != SIZE_MAX && !ep->rest_name.empty()) {
    std::string_view rest;
    if (s.rest_start < segs.size()) rest = raw.substr(static_cast<size_t>(segs[s.rest_start].data() - raw.data()));
    request.params[ep->rest_name] = decode_or_raw(rest);
  }
  if (ep->websocket) {
    m.websocket = ep->websocket.get();
  } else if (ep->handler) {
    m.handler = &ep->handler;
  } else {
    m.async_handler = &ep->async_handler;
  }
  return m;
}

void Router::handle(Request request, Responder responder) const {
  RouteMatch m = resolve(request);
  run(m, std::move(request), std::move(responder));
}

namespace {

// Runs a synchronous handler; exceptions become 500 (details go to the log only).
Response call_sync(const Handler& handler, const Request& request) {
  try {
    return handler(request);
  } catch (const std::exception& e) {
    log::warn("http", "handler threw", {{"path", request.path}, {"what", e.what()}});
  } catch (...) {
    log::warn("http", "handler threw", {{"path", request.path}});
  }
  return Response::error(500, "internal", "internal error");
}

}  // namespace

void Router::run(const RouteMatch& m, Request&& request, Responder responder) const {
  if (m.error) {
    responder.send(*m.error);
    return;
  }
  if (m.websocket) {
    Response r = Response::error(426, "upgrade_required", "this endpoint speaks WebSocket only");
    r.headers.add("Upgrade", "websocket");
    r.headers.add("Connection", "Upgrade");
    r.headers.add("Sec-WebSocket-Version", "13");
    responder.send(std::move(r));
    return;
  }
  if (m.handler) {
    responder.send(call_sync(*m.handler, request));
    return;
  }
  // Keep a way to answer if the handler throws after taking the Responder;
  // the sink drops whichever answer comes second.
  std::shared_ptr<detail::ResponseSink> sink = responder.sink_;
  const uint64_t token = responder.token_;
  std::string path = request.path;
  try {
    (*m.async_handler)(std::move(request), std::move(responder));
  } catch (const std::exception& e) {
    log::warn("http", "handler threw", {{"path", path}, {"what", e.what()}});
    if (sink) sink->deliver(token, Response::error(500, "internal", "internal error"));
  } catch (...) {
    log::warn("http", "handler threw", {{"path", path}});
    if (sink) sink->deliver(token, Response::error(500, "internal", "internal error"));
  }
}

}  // namespace chiron::net
