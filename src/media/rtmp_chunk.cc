#include "media/rtmp_chunk.h"

#include <algorithm>
#include <cstring>

namespace chiron::media::rtmp {
namespace {

constexpr uint32_t kExtendedMarker = 0xFFFFFF;

uint32_t be24(const char* p) {
  return (uint32_t{static_cast<uint8_t>(p[0])} << 16) | (uint32_t{static_cast<uint8_t>(p[1])} << 8) |
         static_cast<uint8_t>(p[2]);
}
uint32_t be32(const char* p) { return (uint32_t{static_cast<uint8_t>(p[0])} << 24) | be24(p + 1); }
uint32_t le32(const char* p) {
  return static_cast<uint8_t>(p[0]) | (uint32_t{static_cast<uint8_t>(p[1])} << 8) |
         (uint32_t{static_cast<uint8_t>(p[2])} << 16) | (uint32_t{static_cast<uint8_t>(p[3])} << 24);
}

char* put_be24(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 16);
  p[1] = static_cast<char>(v >> 8);
  p[2] = static_cast<char>(v);
  return p + 3;
}
char* put_be32(char* p, uint32_t v) {
  *p++ = static_cast<char>(v >> 24);
  return put_be24(p, v);
}

size_t basic_header_bytes(uint32_t csid) { return csid < 64 ? 1 : csid < 320 ? 2 : 3; }

// §5.3.1.1: 1 byte for csid 2-63, 2 bytes for 64-319, 3 bytes for 64-65599.
char* put_basic_header(char* p, uint8_t fmt, uint32_t csid) {
  if (csid < 64) {
    *p++ = static_cast<char>((fmt << 6) | csid);
  } else if (csid < 320) {
    *p++ = static_cast<char>(fmt << 6);
    *p++ = static_cast<char>(csid - 64);
  } else {
    *p++ = static_cast<char>((fmt << 6) | 1);
    *p++ = static_cast<char>((csid - 64) & 0xFF);
    *p++ = static_cast<char>((csid - 64) >> 8);
  }
  return p;
}

}  // namespace

uint32_t read_be32(std::string_view s, size_t at) { return be32(s.data() + at); }

struct ChunkReader::Stream {
  uint32_t csid = 0;
  bool has_header = false;
  uint8_t type = 0;
  uint32_t stream_id = 0;
  uint32_t length = 0;
  uint32_t ts_field = 0;     // the last timestamp field's value (absolute for fmt 0, else a delta)
  bool extended = false;     // ... was carried in the extended field
  uint32_t timestamp = 0;    // the current message's 32-bit timestamp
  int64_t dts = 0;
  bool in_message = false;   // a message is partly received
  size_t reserved = 0;       // bytes this message reserved against the reader's budget
  std::string payload;
};

ChunkReader::ChunkReader(ChunkReaderLimits limits) : limits_(limits) {}
ChunkReader::~ChunkReader() = default;

Status ChunkReader::fail(Status s) {
  error_ = s;
  return s;
}

void ChunkReader::abort(uint32_t csid) {
  auto it = streams_.find(csid);
  if (it == streams_.end()) return;
  Stream& s = *it->second;
  reserved_ -= s.reserved;
  s.reserved = 0;
  held_ -= s.payload.size();
  s.payload = std::string();
  s.in_message = false;
  if (current_ == &s) current_ = nullptr, chunk_left_ = 0;
}

Result<size_t> ChunkReader::parse_header(std::string_view buf) {
  if (buf.empty()) return size_t{0};
  const auto b0 = static_cast<uint8_t>(buf[0]);
  const uint8_t fmt = b0 >> 6;
  uint32_t csid = b0 & 0x3F;
  size_t pos = 1;
  if (csid == 0) {
    if (buf.size() < 2) return size_t{0};
    csid = 64 + static_cast<uint8_t>(buf[1]);
    pos = 2;
  } else if (csid == 1) {
    if (buf.size() < 3) return size_t{0};
    csid = 64 + static_cast<uint8_t>(buf[1]) + 256u * static_cast<uint8_t>(buf[2]);
    pos = 3;
  }
  static constexpr size_t kMessageHeaderBytes[4] = {11, 7, 3, 0};
  const size_t mh = kMessageHeaderBytes[fmt];
  if (buf.size() < pos + mh) return size_t{0};
  const char* h = buf.data() + pos;
  pos += mh;

  auto it = streams_.find(csid);
  Stream* s = it == streams_.end() ? nullptr : it->second.get();
  if ((s == nullptr || !s->has_header) && fmt >= 2)
    return Status::invalid_argument("rtmp chunk: fmt " + std::to_string(fmt) + " on csid " + std::to_string(csid) +
                                    " without a previous header");

  uint32_t ts_field = s ? s->ts_field : 0;
  bool extended = s && s->extended;
  if (fmt <= 2) {
    ts_field = be24(h);
    extended = ts_field == kExtendedMarker;
    if (extended) {
      if (buf.size() < pos + 4) return size_t{0};
      ts_field = be32(buf.data() + pos);
      pos += 4;
    }
  } else if (extended) {
    // fmt 3 after an extended header: the 4 bytes may repeat the field (Adobe) or be payload.
    if (buf.size() < pos + 4) return size_t{0};
    if (be32(buf.data() + pos) == ts_field) pos += 4;
  }

  // The whole header is here: commit it.
  if (s == nullptr) {
    if (streams_.size() >= limits_.max_chunk_streams)
      return Status::resource_exhausted("rtmp chunk: more than " + std::to_string(limits_.max_chunk_streams) + " chunk streams");
    s = (streams_[csid] = std::make_unique<Stream>()).get();
    s->csid = csid;
  }
  s->ts_field = ts_field;
  s->extended = extended;
  if (fmt == 3 && s->in_message) {
    chunk_left_ = std::min<size_t>(chunk_size_, s->length - s->payload.size());
    current_ = s;
    return pos;
  }
  if (s->in_message) abort(csid);  // a new header mid-message: the partial one is lost
  const uint32_t previous = s->timestamp;
  if (fmt <= 1) {
    s->length = be24(h + 3);
    s->type = static_cast<uint8_t>(h[6]);
  }
  if (fmt == 0) {
    s->stream_id = le32(h + 7);  // the only little-endian field (§5.3.1.2.1)
    s->timestamp = ts_field;
  } else {
    s->timestamp += ts_field;
  }
  if (!s->has_header) {
    // A fresh csid: unwrap against the latest message of any csid (none yet: take it as is).
    s->dts = !started_ ? int64_t{s->timestamp}
                       : last_dts_ + static_cast<int32_t>(s->timestamp - static_cast<uint32_t>(last_dts_));
  } else {
    s->dts += static_cast<int32_t>(s->timestamp - previous);
  }
  // Timestamps never go below zero: a "backwards" step under 0 was a forward jump of more than
  // 2^31 (media near 2^32 on a csid that carried commands at 0).
  if (s->dts < 0) s->dts += int64_t{1} << 32;
  s->has_header = true;
  if (s->length > limits_.max_message_bytes)
    return Status::resource_exhausted("rtmp chunk: message of " + std::to_string(s->length) + " bytes over the limit");
  s->in_message = true;
  held_ -= s->payload.size();
  s->payload.clear();
  if (reserved_ + s->length <= limits_.max_message_bytes) {
    s->payload.reserve(s->length);
    s->reserved = s->length;
    reserved_ += s->length;
  }
  chunk_left_ = std::min<size_t>(chunk_size_, s->length);
  current_ = s;
  return pos;
}

Status ChunkReader::complete(Stream& s, const std::function<Status(Message&&)>& on_message) {
  Message m;
  m.type = s.type;
  m.stream_id = s.stream_id;
  m.csid = s.csid;
  m.timestamp = s.timestamp;
  m.dts_ms = s.dts;
  held_ -= s.payload.size();
  m.payload = std::move(s.payload);
  s.payload = std::string();
  reserved_ -= s.reserved;
  s.reserved = 0;
  s.in_message = false;
  current_ = nullptr;
  last_dts_ = s.dts;
  started_ = true;
  return on_message(std::move(m));
}

Status ChunkReader::feed(std::string_view in, const std::function<Status(Message&&)>& on_message) {
  if (!error_.ok()) return error_;
  if (Status st = consume(in, on_message); !st.ok()) return fail(std::move(st));
  return {};
}

Status ChunkReader::consume(std::string_view in, const std::function<Status(Message&&)>& on_message) {
  while (!in.empty() || (current_ != nullptr && chunk_left_ == 0 && current_->payload.size() == current_->length)) {
    if (current_ == nullptr) {
      if (head_have_ == 0) {
        Result<size_t> used = parse_header(in.substr(0, std::min(sizeof head_, in.size())));
        CHIRON_RETURN_IF_ERROR(used);
        if (*used == 0) {  // an incomplete header (shorter than 18 bytes): keep it
          std::memcpy(head_, in.data(), in.size());
          head_have_ = in.size();
          return {};
        }
        in.remove_prefix(*used);
      } else {
        const size_t n = std::min(sizeof head_ - head_have_, in.size());
        std::memcpy(head_ + head_have_, in.data(), n);
        Result<size_t> used = parse_header(std::string_view(head_, head_have_ + n));
        CHIRON_RETURN_IF_ERROR(used);
        if (*used == 0) {
          head_have_ += n;
          return {};
        }
        if (*used < head_have_) {
          // The kept bytes held more than this header: a fmt-3 header whose 4 peeked bytes
          // turned out to be payload. Those bytes come first, then `in`.
          char carry[sizeof head_];
          const size_t carry_n = head_have_ - *used;
          std::memcpy(carry, head_ + *used, carry_n);
          head_have_ = 0;
          CHIRON_RETURN_IF_ERROR(consume(std::string_view(carry, carry_n), on_message));
          continue;
        }
        in.remove_prefix(*used - head_have_);
        head_have_ = 0;
      }
    }
    Stream& s = *current_;
    const size_t n = std::min(chunk_left_, in.size());
    if (held_ + n > limits_.max_held_bytes)
      return Status::resource_exhausted("rtmp chunk: more than " + std::to_string(limits_.max_held_bytes) +
                                        " bytes of incomplete messages");
    s.payload.append(in.data(), n);
    held_ += n;
    in.remove_prefix(n);
    chunk_left_ -= n;
    if (s.payload.size() == s.length) {
      CHIRON_RETURN_IF_ERROR(complete(s, on_message));
    } else if (chunk_left_ == 0) {
      current_ = nullptr;
    }
  }
  return {};
}

size_t message_bytes(uint32_t csid, uint32_t timestamp, size_t payload_size, uint32_t chunk_size) {
  const size_t basic = basic_header_bytes(csid);
  const size_t ext = timestamp >= kExtendedMarker ? 4 : 0;
  const size_t chunks = payload_size == 0 ? 1 : (payload_size + chunk_size - 1) / chunk_size;
  return basic + 11 + ext + payload_size + (chunks - 1) * (basic + ext);
}

void append_message(std::string& out, uint32_t csid, uint8_t type, uint32_t stream_id, uint32_t timestamp,
                    std::string_view payload, uint32_t chunk_size) {
  const bool ext = timestamp >= kExtendedMarker;
  const size_t at = out.size();
  out.resize(at + message_bytes(csid, timestamp, payload.size(), chunk_size));
  char* p = out.data() + at;
  p = put_basic_header(p, 0, csid);
  p = put_be24(p, ext ? kExtendedMarker : timestamp);
  p = put_be24(p, static_cast<uint32_t>(payload.size()));
  *p++ = static_cast<char>(type);
  for (int i = 0; i < 4; ++i) *p++ = static_cast<char>(stream_id >> (8 * i));
  if (ext) p = put_be32(p, timestamp);
  size_t off = 0;
  for (;;) {
    const size_t n = std::min<size_t>(chunk_size, payload.size() - off);
    std::memcpy(p, payload.data() + off, n);
    p += n;
    off += n;
    if (off >= payload.size()) break;
    p = put_basic_header(p, 3, csid);
    if (ext) p = put_be32(p, timestamp);
  }
}

namespace {
void append_control(std::string& out, uint8_t type, std::string_view body, uint32_t chunk_size) {
  append_message(out, kProtocolCsid, type, 0, 0, body, chunk_size);
}
std::string be32_string(uint32_t v) {
  std::string s(4, '\0');
  put_be32(s.data(), v);
  return s;
}
}  // namespace

void append_set_chunk_size(std::string& out, uint32_t size, uint32_t chunk_size) {
  append_control(out, kSetChunkSize, be32_string(size & 0x7FFFFFFF), chunk_size);
}
void append_acknowledgement(std::string& out, uint32_t sequence, uint32_t chunk_size) {
  append_control(out, kAcknowledgement, be32_string(sequence), chunk_size);
}
void append_window_ack_size(std::string& out, uint32_t size, uint32_t chunk_size) {
  append_control(out, kWindowAckSize, be32_string(size), chunk_size);
}
void append_set_peer_bandwidth(std::string& out, uint32_t size, uint8_t limit_type, uint32_t chunk_size) {
  std::string body = be32_string(size);
  body.push_back(static_cast<char>(limit_type));
  append_control(out, kSetPeerBandwidth, body, chunk_size);
}
void append_user_control(std::string& out, uint16_t event, uint32_t value, uint32_t chunk_size) {
  std::string body{static_cast<char>(event >> 8), static_cast<char>(event)};
  body += be32_string(value);
  append_control(out, kUserControl, body, chunk_size);
}
void append_user_control(std::string& out, uint16_t event, uint32_t value, uint32_t extra, uint32_t chunk_size) {
  std::string body{static_cast<char>(event >> 8), static_cast<char>(event)};
  body += be32_string(value);
  body += be32_string(extra);
  append_control(out, kUserControl, body, chunk_size);
}

}  // namespace chiron::media::rtmp
