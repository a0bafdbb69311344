#include "chat/socketio.h"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <cmath>
#include <string>
#include <utility>

#include "common/check.h"

namespace chiron::chat {
namespace json = boost::json;

namespace {

Status invalid(const char* why) { return Status::invalid_argument(why); }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// socket.io-parser refuses these as event names; socket.io-client never emits them.
constexpr std::array<std::string_view, 6> kReservedEvents = {
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"};

bool reserved_event(std::string_view name) {
  for (std::string_view r : kReservedEvents)
    if (r == name) return true;
  return false;
}

// A namespace is echoed back verbatim in `44/<nsp>,{...}`, so only visible ASCII is accepted
// (never ',' which ends it). The default namespace is never written out by clients.
bool valid_namespace(std::string_view nsp, size_t max_bytes) {
  if (nsp.size() < 2 || nsp.size() > max_bytes || nsp[0] != '/') return false;
  for (char c : nsp)
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  return true;
}

// boost::json turns 1E400 into an infinity, which it would serialize as the non-JSON "Infinity";
// JSON.stringify never produces such a number, so refuse it. Recursion is bounded by max_depth.
bool all_numbers_finite(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_:
      return std::isfinite(v.get_double());
    case json::kind::array:
      for (const json::value& e : v.get_array())
        if (!all_numbers_finite(e)) return false;
      return true;
    case json::kind::object:
      for (const auto& kv : v.get_object())
        if (!all_numbers_finite(kv.value())) return false;
      return true;
    default:
      return true;
  }
}

Status check_event_payload(const json::value& data, const ParseLimits& limits) {
  if (!data.is_array()) return invalid("event payload is not an array");
  const json::array& arr = data.get_array();
  if (arr.empty()) return invalid("event payload is empty");
  if (!arr[0].is_string()) return invalid("event name is not a string");
  const json::string& name = arr[0].get_string();
  if (name.empty()) return invalid("empty event name");
  if (name.size() > limits.max_event_name_bytes) return invalid("event name too long");
  if (reserved_event(name)) return invalid("reserved event name");
  return ok_status();
}

// Socket.IO protocol v5 "Packet encoding": <type>[<attachments>-][<nsp>,][<ack id>][<JSON>].
Status parse_sio(std::string_view s, const ParseLimits& limits, SioPacket& out) {
  if (s.empty()) return invalid("empty Engine.IO message");
  const char t = s[0];
  if (t < '0' || t > '6') return invalid("unknown Socket.IO packet type");
  out.type = static_cast<SioType>(t - '0');
  if (out.type == SioType::kBinaryEvent || out.type == SioType::kBinaryAck)
    return Status::unimplemented("binary attachments are not supported");
  if (out.type == SioType::kConnectError) return invalid("CONNECT_ERROR is server-only");

  size_t pos = 1;
  if (pos < s.size() && s[pos] == '/') {
    const size_t comma = s.find(',', pos);
    if (comma == std::string_view::npos) return invalid("namespace without ','");
    const std::string_view nsp = s.substr(pos, comma - pos);
    if (!valid_namespace(nsp, limits.max_namespace_bytes)) return invalid("bad namespace");
    out.nsp.assign(nsp);
    pos = comma + 1;
  }

  if (pos < s.size() && is_digit(s[pos])) {
    const size_t start = pos;
    uint64_t id = 0;
    for (; pos < s.size() && is_digit(s[pos]); ++pos) {
      id = id * 10 + static_cast<uint64_t>(s[pos] - '0');
      if (id > kMaxAckId) return invalid("ack id out of range");
    }
    if (s[start] == '0' && pos - start > 1) return invalid("ack id with leading zero");
    out.ack_id = id;
  }

  const std::string_view body = s.substr(pos);
  if (!body.empty()) {
    json::parse_options opts;
    opts.max_depth = limits.max_json_depth;
    boost::system::error_code ec;
    json::value v = json::parse(json::string_view(body.data(), body.size()), ec, {}, opts);
    if (ec) return invalid("invalid JSON payload");
    if (!all_numbers_finite(v)) return invalid("number out of range");
    out.data = std::move(v);
  }

  switch (out.type) {
    case SioType::kConnect:
      if (out.ack_id) return invalid("CONNECT with an ack id");
      if (out.data && !out.data->is_object()) return invalid("CONNECT payload is not an object");
      return ok_status();
    case SioType::kDisconnect:
      if (out.ack_id || out.data) return invalid("DISCONNECT with a payload");
      return ok_status();
    case SioType::kEvent:
      if (!out.data) return invalid("EVENT without payload");
      return check_event_payload(*out.data, limits);
    case SioType::kAck:
      if (!out.ack_id) return invalid("ACK without an id");
      if (!out.data || !out.data->is_array()) return invalid("ACK payload is not an array");
      return ok_status();
    default:
      return invalid("unexpected Socket.IO packet type");
  }
}

}  // namespace

Result<ClientPacket> parse_client_frame(std::string_view text, const ParseLimits& limits) {
  if (text.size() > limits.max_frame_bytes) return Status::resource_exhausted("frame too large");
  if (text.empty()) return invalid("empty frame");
  ClientPacket out;
  const std::string_view rest = text.substr(1);
  // Engine.IO v4 "Packet encoding": one type character, then the data.
  switch (text[0]) {
    case '1':
    case '6':
      if (!rest.empty()) return invalid("unexpected Engine.IO data");
      out.eio = static_cast<EioType>(text[0]);
      return out;
    case '2':
    case '3':
      if (!rest.empty() && rest != "probe") return invalid("unexpected heartbeat data");
      out.eio = static_cast<EioType>(text[0]);
      out.eio_data.assign(rest);
      return out;
    case '4': {
      out.eio = EioType::kMessage;
      Status st = parse_sio(rest, limits, out.sio);
      if (!st.ok()) return st;
      return out;
    }
    case '0':
      return invalid("open is server-only");
    case '5':
      return invalid("upgrade without a probe");  // only WebSocket is offered: "upgrades":[]
    case 'b':
      return Status::unimplemented("binary attachments are not supported");
    default:
      return invalid("unknown Engine.IO packet type");
  }
}

std::optional<EventView> event_view(const ClientPacket& packet) {
  if (packet.eio != EioType::kMessage || packet.sio.type != SioType::kEvent || !packet.sio.data)
    return std::nullopt;
  const json::array* arr = packet.sio.data->if_array();
  if (arr == nullptr || arr->empty() || !(*arr)[0].is_string()) return std::nullopt;
  const json::string& name = (*arr)[0].get_string();
  return EventView{std::string_view(name.data(), name.size()),
                   std::span<const json::value>(arr->data() + 1, arr->size() - 1)};
}

std::string eio_open(std::string_view sid, uint32_t ping_interval_ms, uint32_t ping_timeout_ms,
                     uint64_t max_payload_bytes) {
  json::object o;
  o["sid"] = json::string_view(sid.data(), sid.size());
  o["upgrades"] = json::array();
  o["pingInterval"] = ping_interval_ms;
  o["pingTimeout"] = ping_timeout_ms;
  o["maxPayload"] = max_payload_bytes;
  return "0" + json::serialize(o);
}

std::string eio_ping() { return "2"; }

std::string eio_pong(std::string_view data) { return "3" + std::string(data); }

std::string eio_noop() { return "6"; }

std::string sio_connect_ok(std::string_view sid) {
  json::object o;
  o["sid"] = json::string_view(sid.data(), sid.size());
  return "40" + json::serialize(o);
}

std::string sio_connect_error(std::string_view nsp, std::string_view message) {
  CHIRON_CHECK(nsp == kDefaultNamespace || valid_namespace(nsp, SIZE_MAX), "namespace unsafe to echo");
  json::object o;
  o["message"] = json::string_view(message.data(), message.size());
  std::string out = "44";
  if (nsp != kDefaultNamespace) out.append(nsp).push_back(',');
  out += json::serialize(o);
  return out;
}

std::string sio_disconnect() { return "41"; }

std::string sio_event(std::string_view event, const json::array& args) {
  std::string out = "42[";
  out += json::serialize(json::string_view(event.data(), event.size()));
  if (!args.empty()) {
    const std::string rest = json::serialize(args);  // "[a,b]": splice "a,b" after the name
    out.push_back(',');
    out.append(rest, 1, rest.size() - 2);
  }
  out.push_back(']');
  return out;
}

std::string sio_event_serialized(std::string_view event, std::span<const std::string_view> serialized_args) {
  std::string out = "42[";
  out += json::serialize(json::string_view(event.data(), event.size()));
  for (std::string_view a : serialized_args) {
    out.push_back(',');
    out.append(a);
  }
  out.push_back(']');
  return out;
}

std::string sio_ack(uint64_t id, const json::array& args) {
  return "43" + std::to_string(id) + json::serialize(args);
}

std::string encode_client_packet(const ClientPacket& packet) {
  std::string out(1, static_cast<char>(packet.eio));
  if (packet.eio != EioType::kMessage) return out + packet.eio_data;
  const SioPacket& p = packet.sio;
  out.push_back(static_cast<char>('0' + static_cast<int>(p.type)));
  if (!p.default_namespace()) out.append(p.nsp).push_back(',');
  if (p.ack_id) out += std::to_string(*p.ack_id);
  if (p.data) out += json::serialize(*p.data);
  return out;
}

}  // namespace chiron::chat
