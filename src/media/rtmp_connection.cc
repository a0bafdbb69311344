#include "media/rtmp_connection.h"

namespace chiron::media::rtmp {

const Amf0Value& Command::arg(size_t i) const {
  static const Amf0Value kNull;
  return i < args.size() ? args[i] : kNull;
}

Status parse_command(std::string_view payload, bool amf3, Command& out) {
  if (amf3) {  // type 17: one format byte, then AMF0 values (as SRS, nginx-rtmp and librtmp read it)
    if (payload.empty()) return Status::invalid_argument("rtmp: empty AMF3 command");
    payload.remove_prefix(1);
  }
  Amf0Reader r(payload);
  if (Status s = r.read_string(out.name); !s.ok()) return s.context("rtmp command name");
  Amf0Value txn;
  if (!r.done()) {
    if (Status s = r.read(txn); !s.ok()) return s.context("rtmp command " + out.name);
  }
  out.transaction = txn.as_number();
  if (Status s = r.read_all(out.args); !s.ok()) return s.context("rtmp command " + out.name);
  return {};
}

Connection::Connection(const RtmpSessionOptions& options)
    : options_(options),
      reader_(ChunkReaderLimits{options.max_message_bytes, options.max_chunk_streams, 2 * options.max_message_bytes}) {}

Status Connection::on_control(const Message& m, std::string& out, bool& handled) {
  handled = m.type >= kSetChunkSize && m.type <= kSetPeerBandwidth;
  if (!handled) return {};
  const std::string_view p = m.payload;
  switch (m.type) {
    case kSetChunkSize: {
      if (p.size() < 4) return Status::invalid_argument("rtmp: short Set Chunk Size");
      const uint32_t size = read_be32(p, 0);
      // §5.4.1: the top bit must be zero; 1 is the smallest meaningful size.
      if (size == 0 || size > 0x7FFFFFFF) return Status::invalid_argument("rtmp: bad chunk size " + std::to_string(size));
      if (size > options_.max_chunk_size)
        return Status::resource_exhausted("rtmp: chunk size " + std::to_string(size) + " over the limit");
      reader_.set_chunk_size(size);
      return {};
    }
    case kAbort:
      if (p.size() < 4) return Status::invalid_argument("rtmp: short Abort");
      reader_.abort(read_be32(p, 0));
      return {};
    case kAcknowledgement: return {};
    case kWindowAckSize:
      if (p.size() < 4) return Status::invalid_argument("rtmp: short Window Ack Size");
      // A tiny window would make every read send an Acknowledgement; 4 KiB is the floor.
      peer_window_ = std::max<uint32_t>(read_be32(p, 0), 4096);
      return {};
    case kSetPeerBandwidth: return {};  // we do not throttle our output by the peer's wish
    case kUserControl: {
      if (p.size() < 6) return Status::invalid_argument("rtmp: short User Control message");
      const uint16_t event = static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1]));
      if (event == kPingRequest) append_user_control(out, kPingResponse, read_be32(p, 2), out_chunk_size_);
      return {};  // SetBufferLength, StreamBegin, ...: nothing to do for us
    }
    default: return {};
  }
}

void Connection::count_received(size_t n, std::string& out) {
  bytes_received_ += n;
  if (peer_window_ == 0) return;
  if (bytes_received_ - last_ack_ >= peer_window_ / 2) {
    last_ack_ = bytes_received_;
    append_acknowledgement(out, static_cast<uint32_t>(bytes_received_), out_chunk_size_);
  }
}

void Connection::set_out_chunk_size(uint32_t size, std::string& out) {
  append_set_chunk_size(out, size, out_chunk_size_);
  out_chunk_size_ = size;
}

void Connection::send_command(std::string& out, uint32_t csid, uint32_t stream_id, std::string_view name,
                              double transaction, const std::vector<Amf0Value>& args) const {
  std::string body;
  amf0_append_string(body, name);
  amf0_append_number(body, transaction);
  for (const auto& a : args) amf0_append(body, a);
  append_message(out, csid, kCommandAmf0, stream_id, 0, body, out_chunk_size_);
}

void Connection::send_status(std::string& out, uint32_t stream_id, std::string_view level, std::string_view code,
                             std::string_view description) const {
  Amf0Value info = Amf0Value::object();
  info.add("level", Amf0Value::string(std::string(level)));
  info.add("code", Amf0Value::string(std::string(code)));
  info.add("description", Amf0Value::string(std::string(description)));
  send_command(out, kDataCsid, stream_id, "onStatus", 0, {Amf0Value::null(), std::move(info)});
}

std::string_view metadata_body(std::string_view payload) {
  Amf0Reader r(payload);
  std::string name;
  if (!r.read_string(name).ok()) return {};
  if (name == "onMetaData") return payload;
  if (name != "@setDataFrame") return {};
  const std::string_view rest = r.rest();
  Amf0Reader r2(rest);
  if (!r2.read_string(name).ok() || name != "onMetaData") return {};
  return rest;
}

std::optional<MediaPacket> media_packet(Message&& m) {
  MediaPacket p;
  p.dts_ms = m.dts_ms;
  if (m.type == kAudio || m.type == kVideo) {
    p.type = m.type == kAudio ? PacketType::kAudio : PacketType::kVideo;
    p.payload = std::move(m.payload);
    classify(p);
    return p;
  }
  if (m.type != kDataAmf0 && m.type != kDataAmf3) return std::nullopt;
  std::string_view body = m.payload;
  if (m.type == kDataAmf3) {
    if (body.empty() || body[0] != 0) return std::nullopt;
    body.remove_prefix(1);
  }
  const std::string_view meta = metadata_body(body);
  if (meta.empty()) return std::nullopt;  // |RtmpSampleAccess and friends
  p.type = PacketType::kScript;
  if (meta.size() == m.payload.size()) {
    p.payload = std::move(m.payload);
  } else {
    p.payload.assign(meta);
  }
  return p;
}

}  // namespace chiron::media::rtmp
