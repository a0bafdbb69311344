// libFuzzer target for the Engine.IO/Socket.IO codec (src/chat/socketio.h): the input is one
// WebSocket text frame as a client would send it. Checks the grammar promises of an accepted
// packet, that the client encoding of an accepted packet parses back to the same packet, and that
// the server encoders fed with the parsed parts produce frames that parse again.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/serialize.hpp>

#include "chat/socketio.h"
#include "common/check.h"

namespace {

using chiron::StatusCode;
using namespace chiron::chat;

// Boost 1.81 has no precise number parsing: a double can come back a few ulp off after
// serialize → parse, so doubles compare with a relative tolerance; everything else exactly.
bool json_close(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double(), y = b.get_double();
    return x == y || std::fabs(x - y) <= 1e-14 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto &x = a.get_array(), &y = b.get_array();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i)
      if (!json_close(x[i], y[i])) return false;
    return true;
  }
  if (a.is_object()) {
    const auto &x = a.get_object(), &y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& kv : x) {
      const boost::json::value* other = y.if_contains(kv.key());
      if (other == nullptr || !json_close(kv.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

bool same(const ClientPacket& a, const ClientPacket& b) {
  if (a.eio != b.eio || a.eio_data != b.eio_data) return false;
  if (a.eio != EioType::kMessage) return true;
  return a.sio.type == b.sio.type && a.sio.nsp == b.sio.nsp && a.sio.ack_id == b.sio.ack_id &&
         a.sio.data.has_value() == b.sio.data.has_value() && (!a.sio.data || json_close(*a.sio.data, *b.sio.data));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ParseLimits limits;
  limits.max_frame_bytes = 4096;
  limits.max_json_depth = 16;
  limits.max_event_name_bytes = 64;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto parsed = parse_client_frame(text, limits);
  if (!parsed.ok()) {
    const StatusCode code = parsed.status().code();
    CHIRON_CHECK(code == StatusCode::kInvalidArgument || code == StatusCode::kUnimplemented ||
                     code == StatusCode::kResourceExhausted,
                 "unexpected parse error code");
    CHIRON_CHECK(!parsed.status().message().empty(), "error without a reason");
    CHIRON_CHECK((code == StatusCode::kResourceExhausted) == (size > limits.max_frame_bytes), "size limit");
    return 0;
  }
  const ClientPacket& p = *parsed;
  CHIRON_CHECK(!text.empty() && text[0] == static_cast<char>(p.eio), "Engine.IO type is the first byte");
  CHIRON_CHECK(p.eio_data.empty() || p.eio_data == "probe", "heartbeat data");

  if (p.eio == EioType::kMessage) {
    const SioPacket& s = p.sio;
    CHIRON_CHECK(s.type <= SioType::kAck && s.type != SioType::kConnectError, "client-legal type");
    CHIRON_CHECK(!s.ack_id || *s.ack_id <= kMaxAckId, "ack id bound");
    CHIRON_CHECK(!s.nsp.empty() && s.nsp[0] == '/' && s.nsp.size() <= limits.max_namespace_bytes, "namespace");
    auto ev = event_view(p);
    CHIRON_CHECK(ev.has_value() == (s.type == SioType::kEvent), "every EVENT has a name");
    if (ev) {
      CHIRON_CHECK(!ev->name.empty() && ev->name.size() <= limits.max_event_name_bytes, "event name bounds");
      // The server would broadcast the event with the same arguments: that frame must parse too.
      boost::json::array args(ev->args.begin(), ev->args.end());
      auto again = parse_client_frame(sio_event(ev->name, args));
      CHIRON_CHECK(again.ok(), "sio_event output does not parse");
      auto again_ev = event_view(*again);
      CHIRON_CHECK(again_ev && again_ev->name == ev->name && again_ev->args.size() == ev->args.size(),
                   "sio_event changed the event");
      std::string serialized = boost::json::serialize(args);
      std::string_view inner(serialized);
      inner = inner.substr(1, inner.size() - 2);
      std::string_view one[] = {inner};
      if (!args.empty())
        CHIRON_CHECK(sio_event_serialized(ev->name, one) == sio_event(ev->name, args), "serialized event");
    }
    if (s.type == SioType::kAck) {
      auto ack = parse_client_frame(sio_ack(*s.ack_id, s.data->as_array()));
      CHIRON_CHECK(ack.ok() && ack->sio.ack_id == s.ack_id && json_close(*ack->sio.data, *s.data), "sio_ack round trip");
    }
    if (s.type == SioType::kConnect) {
      const std::string err = sio_connect_error(s.nsp, "Invalid namespace");
      CHIRON_CHECK(err.rfind("44", 0) == 0, "connect error prefix");
    }
  }

  const std::string encoded = encode_client_packet(p);
  ParseLimits unbounded_size = limits;  // re-serialized JSON may be longer than the input
  unbounded_size.max_frame_bytes = SIZE_MAX;
  auto reparsed = parse_client_frame(encoded, unbounded_size);
  CHIRON_CHECK(reparsed.ok(), "client encoding of an accepted packet does not parse");
  CHIRON_CHECK(same(p, *reparsed), "client encoding changed the packet");
  return 0;
}
