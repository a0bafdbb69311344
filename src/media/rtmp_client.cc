// RtmpClientSession: the client half of rtmp_session.h (tests, the benchmark's load generator,
// pulling from an RTMP origin).
//
// DESIGN: a simple handshake (C1 with zero version bytes; S1/S2 are not checked, C2 echoes S1),
// then a fixed script driven by the server's answers: Set Chunk Size + connect(1) →
// [_result 1] → releaseStream(2) + FCPublish(3) + createStream(4) for publishing, or
// createStream(2) for playing → [_result with the stream id] → publish(5) / play(3) +
// SetBufferLength. onStatus goes to the owner; Publish.Start / Play.Start make it ready().

#include <algorithm>

#include "media/rtmp_connection.h"
#include "media/rtmp_handshake.h"
#include "media/rtmp_session.h"

namespace chiron::media {

using rtmp::Command;
using rtmp::Message;

namespace {
constexpr double kConnectTxn = 1;
constexpr double kCreateStreamPublishTxn = 4;
constexpr double kCreateStreamPlayTxn = 2;
}  // namespace

struct RtmpClientSession::Impl {
  enum class Phase : uint8_t { kIdle, kS0S1S2, kChunks, kFailed };
  Impl(RtmpClientOptions o, RtmpClientEvents& e) : options(std::move(o)), events(e), conn(options.session) {}

  RtmpClientOptions options;
  RtmpClientEvents& events;
  rtmp::Connection conn;
  Phase phase = Phase::kIdle;
  std::string handshake;
  Status error;
  uint32_t stream_id = 0;
  bool ready = false;

  Status fail(Status s) {
    phase = Phase::kFailed;
    error = s;
    return s;
  }
  Status on_message(Message&& m, std::string& out);
  Status on_command(const Command& c, std::string& out);
  void send_connect(std::string& out);
};

RtmpClientSession::RtmpClientSession(RtmpClientOptions options, RtmpClientEvents& events)
    : impl_(std::make_unique<Impl>(std::move(options), events)) {}
RtmpClientSession::~RtmpClientSession() = default;

void RtmpClientSession::start(std::string& out) {
  if (impl_->phase != Impl::Phase::kIdle) return;
  out += rtmp::client_hello();
  impl_->phase = Impl::Phase::kS0S1S2;
}

bool RtmpClientSession::ready() const { return impl_->ready; }

void RtmpClientSession::Impl::send_connect(std::string& out) {
  conn.set_out_chunk_size(options.session.out_chunk_size, out);
  Amf0Value obj = Amf0Value::object();
  obj.add("app", Amf0Value::string(options.app));
  obj.add("type", Amf0Value::string("nonprivate"));
  obj.add("flashVer", Amf0Value::string(options.publish ? "FMLE/3.0 (compatible; Chiron)" : "LNX 9,0,124,2"));
  obj.add("tcUrl", Amf0Value::string(options.tc_url));
  if (!options.publish) {
    obj.add("fpad", Amf0Value::boolean(false));
    obj.add("capabilities", Amf0Value::number(15));
    obj.add("audioCodecs", Amf0Value::number(4071));
    obj.add("videoCodecs", Amf0Value::number(252));
    obj.add("videoFunction", Amf0Value::number(1));
  }
  conn.send_command(out, rtmp::kCommandCsid, 0, "connect", kConnectTxn, {std::move(obj)});
}

Status RtmpClientSession::feed(std::string_view bytes, std::string& out) {
  Impl& s = *impl_;
  using Phase = Impl::Phase;
  if (s.phase == Phase::kFailed) return s.error;
  if (s.phase == Phase::kIdle) return s.fail(Status::failed_precondition("rtmp client: feed before start"));
  s.conn.count_received(bytes.size(), out);
  if (s.phase == Phase::kS0S1S2) {
    const size_t want = 1 + 2 * rtmp::kHandshakeBlockBytes;
    const size_t n = std::min(want - s.handshake.size(), bytes.size());
    s.handshake.append(bytes.substr(0, n));
    bytes.remove_prefix(n);
    if (s.handshake.empty()) return {};
    if (static_cast<uint8_t>(s.handshake[0]) != rtmp::kRtmpVersion)
      return s.fail(Status::invalid_argument("rtmp handshake: server version " +
                                             std::to_string(static_cast<uint8_t>(s.handshake[0]))));
    if (s.handshake.size() < want) return {};
    out.append(s.handshake, 1, rtmp::kHandshakeBlockBytes);  // C2 = S1
    s.handshake = std::string();
    s.phase = Phase::kChunks;
    s.send_connect(out);
  }
  if (bytes.empty()) return {};
  Status st = s.conn.reader().feed(bytes, [&](Message&& m) { return s.on_message(std::move(m), out); });
  if (!st.ok()) return s.fail(std::move(st));
  return {};
}

Status RtmpClientSession::Impl::on_message(Message&& m, std::string& out) {
  bool handled = false;
  CHIRON_RETURN_IF_ERROR(conn.on_control(m, out, handled));
  if (handled) return {};
  switch (m.type) {
    case rtmp::kCommandAmf0:
    case rtmp::kCommandAmf3: {
      Command c;
      if (Status st = rtmp::parse_command(m.payload, m.type == rtmp::kCommandAmf3, c); !st.ok())
        return st.context("rtmp client");
      return on_command(c, out);
    }
    case rtmp::kAudio:
    case rtmp::kVideo:
    case rtmp::kDataAmf0:
    case rtmp::kDataAmf3: {
      if (options.publish || !ready) return {};
      if (auto p = rtmp::media_packet(std::move(m))) events.on_media(std::move(*p));
      return {};
    }
    default: return {};
  }
}

Status RtmpClientSession::Impl::on_command(const Command& c, std::string& out) {
  if (c.name == "_error" || (c.name == "_result" && c.transaction == kConnectTxn && !c.arg(1).has_properties())) {
    const Amf0Value& info = c.arg(1);
    const Amf0Value* code = info.find("code");
    const Amf0Value* desc = info.find("description");
    events.on_status("error", code ? code->as_string() : std::string_view("NetConnection.Call.Failed"),
                     desc ? desc->as_string() : std::string_view());
    return Status::permission_denied("rtmp client: " + (code ? code->as_string() : std::string("call failed")));
  }
  if (c.name == "_result" && c.transaction == kConnectTxn) {
    if (options.publish) {
      const Amf0Value name = Amf0Value::string(options.stream_name);
      conn.send_command(out, rtmp::kCommandCsid, 0, "releaseStream", 2, {Amf0Value::null(), name});
      conn.send_command(out, rtmp::kCommandCsid, 0, "FCPublish", 3, {Amf0Value::null(), name});
      conn.send_command(out, rtmp::kCommandCsid, 0, "createStream", kCreateStreamPublishTxn, {Amf0Value::null()});
    } else {
      conn.send_command(out, rtmp::kCommandCsid, 0, "createStream", kCreateStreamPlayTxn, {Amf0Value::null()});
    }
    return {};
  }
  const double create_txn = options.publish ? kCreateStreamPublishTxn : kCreateStreamPlayTxn;
  if (c.name == "_result" && c.transaction == create_txn) {
    const double id = c.arg(1).as_number();
    if (!(id >= 1 && id <= 0xFFFFFF)) return Status::invalid_argument("rtmp client: createStream returned no stream id");
    stream_id = static_cast<uint32_t>(id);
    const Amf0Value name = Amf0Value::string(options.stream_name);
    if (options.publish) {
      conn.send_command(out, rtmp::kDataCsid, stream_id, "publish", 5, {Amf0Value::null(), name, Amf0Value::string("live")});
    } else {
      conn.send_command(out, rtmp::kDataCsid, stream_id, "play", 3, {Amf0Value::null(), name, Amf0Value::number(-2000)});
      rtmp::append_user_control(out, rtmp::kSetBufferLength, stream_id, 3000, conn.out_chunk_size());
    }
    return {};
  }
  if (c.name == "onStatus") {
    const Amf0Value& info = c.arg(1);
    const Amf0Value* level = info.find("level");
    const Amf0Value* code = info.find("code");
    const Amf0Value* desc = info.find("description");
    const std::string_view code_s = code ? std::string_view(code->as_string()) : std::string_view();
    if (code_s == "NetStream.Publish.Start" || code_s == "NetStream.Play.Start") ready = true;
    events.on_status(level ? level->as_string() : std::string_view(), code_s, desc ? desc->as_string() : std::string_view());
    return {};
  }
  return {};  // onBWDone, onFCPublish, _result of releaseStream/FCPublish
}

void RtmpClientSession::stop(std::string& out) {
  Impl& s = *impl_;
  if (s.stream_id == 0 || s.phase != Impl::Phase::kChunks) return;
  if (s.options.publish)
    s.conn.send_command(out, rtmp::kCommandCsid, 0, "FCUnpublish", 6,
                        {Amf0Value::null(), Amf0Value::string(s.options.stream_name)});
  s.conn.send_command(out, rtmp::kCommandCsid, 0, "deleteStream", 0, {Amf0Value::null(), Amf0Value::number(s.stream_id)});
  s.ready = false;
  s.stream_id = 0;
}

void RtmpClientSession::send_media(const MediaPacket& packet, std::string& out) {
  Impl& s = *impl_;
  if (!s.ready || !s.options.publish) return;
  if (packet.type == PacketType::kScript) {
    // As encoders send it: "@setDataFrame" + the onMetaData body.
    std::string body;
    body.reserve(16 + packet.payload.size());
    amf0_append_string(body, "@setDataFrame");
    body += packet.payload;
    rtmp::append_message(out, rtmp::kDataCsid, rtmp::kDataAmf0, s.stream_id, static_cast<uint32_t>(packet.dts_ms), body,
                         s.conn.out_chunk_size());
    return;
  }
  append_rtmp_media(out, packet, s.conn.out_chunk_size(), s.stream_id);
}

}  // namespace chiron::media
