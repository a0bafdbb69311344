// RtmpServerSession and append_rtmp_media (see rtmp_session.h for the conversation).
//
// DESIGN: three phases — C0+C1 gathered (1537 bytes) and answered with S0+S1+S2 at once, C2
// gathered and ignored, then the chunk stream. The chunk reader calls back per message and the
// session dispatches protocol control (Connection), commands and media. Media payloads move
// from the reader's reassembly buffer into the MediaPacket without another copy; metadata keeps
// its bytes from "onMetaData" on (a view, then one copy), so "@setDataFrame" costs nothing.

#include "media/rtmp_session.h"

#include <algorithm>

#include "media/rtmp_connection.h"
#include "media/rtmp_handshake.h"

namespace chiron::media {

using rtmp::Command;
using rtmp::Message;

namespace {
constexpr uint32_t kStreamId = 1;  // the one message stream createStream hands out
}

struct RtmpServerSession::Impl {
  enum class Phase : uint8_t { kC0C1, kC2, kChunks, kFailed };
  Impl(RtmpSessionOptions o, RtmpSessionEvents& e) : options(o), events(e), conn(options) {}

  RtmpSessionOptions options;
  RtmpSessionEvents& events;
  rtmp::Connection conn;
  Phase phase = Phase::kC0C1;
  std::string handshake;  // bytes of C0+C1 or C2 gathered so far
  Status error;
  std::string app;
  std::string tc_url;
  std::string stream_name;
  bool handshake_complete = false;
  bool connected = false;
  bool publish_requested = false;
  bool publishing = false;
  bool play_requested = false;
  bool playing = false;

  Status fail(Status s) {
    phase = Phase::kFailed;
    error = s;
    return s;
  }
  Status on_message(Message&& m, std::string& out);
  Status on_command(const Command& c, std::string& out);
  void on_connect(const Command& c, std::string& out);
  void unpublish() {
    if (!publish_requested) return;
    publish_requested = false;
    publishing = false;
    events.on_unpublish();
  }
};

RtmpServerSession::RtmpServerSession(RtmpSessionOptions options, RtmpSessionEvents& events)
    : impl_(std::make_unique<Impl>(options, events)) {
  const size_t before = std::min(options.max_message_bytes, options.max_message_bytes_before_publish);
  impl_->conn.reader().set_limits(rtmp::ChunkReaderLimits{before, options.max_chunk_streams, 2 * before});
}
RtmpServerSession::~RtmpServerSession() = default;

Status RtmpServerSession::feed(std::string_view bytes, std::string& out) {
  Impl& s = *impl_;
  using Phase = Impl::Phase;
  if (s.phase == Phase::kFailed) return s.error;
  s.conn.count_received(bytes.size(), out);
  if (s.phase == Phase::kC0C1) {
    const size_t want = 1 + rtmp::kHandshakeBlockBytes;
    const size_t n = std::min(want - s.handshake.size(), bytes.size());
    s.handshake.append(bytes.substr(0, n));
    bytes.remove_prefix(n);
    if (s.handshake.empty()) return {};
    if (static_cast<uint8_t>(s.handshake[0]) != rtmp::kRtmpVersion)
      return s.fail(Status::invalid_argument("rtmp handshake: version " +
                                             std::to_string(static_cast<uint8_t>(s.handshake[0])) + " (want 3)"));
    if (s.handshake.size() < want) return {};
    out += rtmp::server_response(std::string_view(s.handshake).substr(1));
    s.handshake.clear();
    s.phase = Phase::kC2;
  }
  if (s.phase == Phase::kC2) {
    // C2 should echo S1; ffmpeg's does not always, so it is not checked (as SRS).
    const size_t n = std::min(rtmp::kHandshakeBlockBytes - s.handshake.size(), bytes.size());
    s.handshake.append(n, '\0');
    bytes.remove_prefix(n);
    if (s.handshake.size() < rtmp::kHandshakeBlockBytes) return {};
    s.handshake = std::string();
    s.phase = Phase::kChunks;
    s.handshake_complete = true;
  }
  if (bytes.empty()) return {};
  Status st = s.conn.reader().feed(bytes, [&](Message&& m) { return s.on_message(std::move(m), out); });
  if (!st.ok()) return s.fail(std::move(st));
  return {};
}

Status RtmpServerSession::Impl::on_message(Message&& m, std::string& out) {
  bool handled = false;
  CHIRON_RETURN_IF_ERROR(conn.on_control(m, out, handled));
  if (handled) return {};
  switch (m.type) {
    case rtmp::kCommandAmf0:
    case rtmp::kCommandAmf3: {
      Command c;
      if (Status st = rtmp::parse_command(m.payload, m.type == rtmp::kCommandAmf3, c); !st.ok())
        return st.context("rtmp");
      return on_command(c, out);
    }
    case rtmp::kAudio:
    case rtmp::kVideo:
    case rtmp::kDataAmf0:
    case rtmp::kDataAmf3: {
      if (!publishing) return {};  // before accept_publish (or after unpublish): dropped
      if (auto p = rtmp::media_packet(std::move(m))) events.on_media(std::move(*p));
      return {};
    }
    default: return {};  // shared objects, aggregates, ...: not used by live publishers
  }
}

void RtmpServerSession::Impl::on_connect(const Command& c, std::string& out) {
  const Amf0Value& obj = c.arg(0);
  if (const Amf0Value* v = obj.find("app")) app = v->as_string();
  if (const Amf0Value* v = obj.find("tcUrl")) tc_url = v->as_string();
  // Some clients put a query or a trailing slash in app ("live/", "live?token").
  if (const size_t q = app.find('?'); q != std::string::npos) app.resize(q);
  while (!app.empty() && app.back() == '/') app.pop_back();
  // Always AMF0: a client offered AMF3 (objectEncoding 3) falls back to AMF0 when told 0, and
  // this server does not decode AMF3 values.
  const double encoding = 0;
  connected = true;
  events.on_connect(app, tc_url);
  // Before the _result, which is longer than 128 bytes (ossrs/srs#454).
  rtmp::append_window_ack_size(out, options.window_ack_size, conn.out_chunk_size());
  rtmp::append_set_peer_bandwidth(out, options.window_ack_size, 2, conn.out_chunk_size());
  conn.set_out_chunk_size(options.out_chunk_size, out);
  Amf0Value props = Amf0Value::object();
  props.add("fmsVer", Amf0Value::string("FMS/3,0,1,123"));
  props.add("capabilities", Amf0Value::number(31));
  props.add("mode", Amf0Value::number(1));
  Amf0Value info = Amf0Value::object();
  info.add("level", Amf0Value::string("status"));
  info.add("code", Amf0Value::string("NetConnection.Connect.Success"));
  info.add("description", Amf0Value::string("Connection succeeded."));
  info.add("objectEncoding", Amf0Value::number(encoding));
  conn.send_command(out, rtmp::kCommandCsid, 0, "_result", c.transaction, {std::move(props), std::move(info)});
  conn.send_command(out, rtmp::kCommandCsid, 0, "onBWDone", 0, {Amf0Value::null()});
}

Status RtmpServerSession::Impl::on_command(const Command& c, std::string& out) {
  const std::string& name = c.name;
  if (name == "connect") {
    if (connected) return Status::invalid_argument("rtmp: second connect");
    on_connect(c, out);
    return {};
  }
  if (!connected) return Status::invalid_argument("rtmp: command " + name + " before connect");
  if (name == "createStream") {
    conn.send_command(out, rtmp::kCommandCsid, 0, "_result", c.transaction,
                      {Amf0Value::null(), Amf0Value::number(kStreamId)});
    return {};
  }
  if (name == "releaseStream" || name == "FCPublish") {
    if (c.transaction != 0)
      conn.send_command(out, rtmp::kCommandCsid, 0, "_result", c.transaction, {Amf0Value::null(), Amf0Value::undefined()});
    if (name == "FCPublish") {
      Amf0Value info = Amf0Value::object();
      info.add("code", Amf0Value::string("NetStream.Publish.Start"));
      info.add("description", Amf0Value::string(c.arg(1).as_string()));
      conn.send_command(out, rtmp::kCommandCsid, 0, "onFCPublish", 0, {Amf0Value::null(), std::move(info)});
    }
    return {};
  }
  if (name == "publish") {
    if (publish_requested || play_requested) return Status::failed_precondition("rtmp: publish on a busy stream");
    stream_name = c.arg(1).as_string();
    if (const size_t q = stream_name.find('?'); q != std::string::npos) stream_name.resize(q);
    publish_requested = true;
    events.on_publish(app, stream_name);
    return {};
  }
  if (name == "play") {
    if (publish_requested || play_requested) return Status::failed_precondition("rtmp: play on a busy stream");
    stream_name = c.arg(1).as_string();
    if (const size_t q = stream_name.find('?'); q != std::string::npos) stream_name.resize(q);
    play_requested = true;
    events.on_play(app, stream_name);
    return {};
  }
  if (name == "FCUnpublish" || name == "deleteStream" || name == "closeStream") {
    if (name == "FCUnpublish" && publishing) {
      conn.send_status(out, kStreamId, "status", "NetStream.Unpublish.Success", stream_name + " is now unpublished.");
      if (c.transaction != 0)
        conn.send_command(out, rtmp::kCommandCsid, 0, "_result", c.transaction, {Amf0Value::null(), Amf0Value::undefined()});
    }
    unpublish();
    if (name != "FCUnpublish") play_requested = playing = false;
    return {};
  }
  if (name == "_result" || name == "_error" || name == "onStatus" || name == "onBWDone") return {};
  // _checkbw, getStreamLength and anything else awaiting an answer.
  if (c.transaction != 0) conn.send_command(out, rtmp::kCommandCsid, 0, "_result", c.transaction, {Amf0Value::null()});
  return {};
}

void RtmpServerSession::accept_publish(std::string& out) {
  Impl& s = *impl_;
  if (!s.publish_requested || s.phase == Impl::Phase::kFailed) return;
  s.publishing = true;
  s.conn.reader().set_limits(
      rtmp::ChunkReaderLimits{s.options.max_message_bytes, s.options.max_chunk_streams, 2 * s.options.max_message_bytes});
  s.conn.send_status(out, kStreamId, "status", "NetStream.Publish.Start", s.stream_name + " is now published.");
}

void RtmpServerSession::refuse_publish(std::string_view code, std::string_view description, std::string& out) {
  Impl& s = *impl_;
  s.publish_requested = s.publishing = false;
  s.conn.send_status(out, kStreamId, "error", code, description);
}

void RtmpServerSession::accept_play(std::string& out) {
  Impl& s = *impl_;
  if (!s.play_requested || s.phase == Impl::Phase::kFailed) return;
  s.playing = true;
  rtmp::append_user_control(out, rtmp::kStreamBegin, kStreamId, s.conn.out_chunk_size());
  s.conn.send_status(out, kStreamId, "status", "NetStream.Play.Reset", "Playing and resetting " + s.stream_name + ".");
  s.conn.send_status(out, kStreamId, "status", "NetStream.Play.Start", "Started playing " + s.stream_name + ".");
  std::string body;
  amf0_append_string(body, "|RtmpSampleAccess");
  amf0_append_boolean(body, true);
  amf0_append_boolean(body, true);
  rtmp::append_message(out, rtmp::kDataCsid, rtmp::kDataAmf0, kStreamId, 0, body, s.conn.out_chunk_size());
}

void RtmpServerSession::refuse_play(std::string_view code, std::string_view description, std::string& out) {
  Impl& s = *impl_;
  s.play_requested = s.playing = false;
  s.conn.send_status(out, kStreamId, "error", code, description);
}

void RtmpServerSession::end_play(std::string& out) {
  Impl& s = *impl_;
  if (!s.playing) return;
  s.playing = false;
  rtmp::append_user_control(out, rtmp::kStreamEof, kStreamId, s.conn.out_chunk_size());
  s.conn.send_status(out, kStreamId, "status", "NetStream.Play.UnpublishNotify", s.stream_name + " is now unpublished.");
}

bool RtmpServerSession::handshake_done() const { return impl_->handshake_complete; }
bool RtmpServerSession::publishing() const { return impl_->publishing; }
bool RtmpServerSession::playing() const { return impl_->playing; }
uint32_t RtmpServerSession::stream_id() const { return kStreamId; }
uint64_t RtmpServerSession::bytes_received() const { return impl_->conn.bytes_received(); }

void append_rtmp_media(std::string& out, const MediaPacket& packet, uint32_t chunk_size, uint32_t stream_id) {
  uint32_t csid = rtmp::kDataCsid;
  if (packet.type == PacketType::kAudio) csid = rtmp::kAudioCsid;
  if (packet.type == PacketType::kVideo) csid = rtmp::kVideoCsid;
  rtmp::append_message(out, csid, static_cast<uint8_t>(packet.type), stream_id, static_cast<uint32_t>(packet.dts_ms),
                       packet.payload, chunk_size);
}

}  // namespace chiron::media
