// FLV writer and incremental reader (FLV v10.1 annex E). The codec-configuration parsers are in
// flv_codec.cc, the metadata helpers in flv_metadata.cc.
//
// DESIGN: FlvReader is a byte-at-a-time-safe state machine (file header → tag header → body →
// PreviousTagSize). Headers go through a small fixed buffer; a tag body is copied exactly once,
// from the caller's bytes straight into the MediaPacket it becomes, however the input is split.
// The body's storage is reserved from the declared size only after that size passed
// max_tag_bytes, so memory per reader is bounded by the option.

#include "media/flv.h"

#include <algorithm>
#include <cstring>

namespace chiron::media {
namespace {

uint32_t be24(const uint8_t* p) { return (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2]; }
uint32_t be32(const uint8_t* p) { return (uint32_t{p[0]} << 24) | be24(p + 1); }

void put_be24(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 16);
  p[1] = static_cast<char>(v >> 8);
  p[2] = static_cast<char>(v);
}
void put_be32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  put_be24(p + 1, v);
}

constexpr size_t kTagHeaderBytes = 11;

}  // namespace

void append_flv_header(std::string& out, bool has_audio, bool has_video) {
  const char flags = static_cast<char>((has_audio ? 0x04 : 0) | (has_video ? 0x01 : 0));
  const char header[kFlvHeaderBytes] = {'F', 'L', 'V', 1, flags, 0, 0, 0, 9, 0, 0, 0, 0};
  out.append(header, sizeof header);
}

void append_flv_tag(std::string& out, PacketType type, int64_t dts_ms, std::string_view body) {
  const auto ts = static_cast<uint32_t>(dts_ms);
  const auto size = static_cast<uint32_t>(std::min<size_t>(body.size(), 0xFFFFFF));
  const size_t at = out.size();
  out.resize(at + kTagHeaderBytes + size + 4);
  char* p = out.data() + at;
  p[0] = static_cast<char>(type);
  put_be24(p + 1, size);
  put_be24(p + 4, ts & 0xFFFFFF);
  p[7] = static_cast<char>(ts >> 24);  // TimestampExtended: the upper 8 bits
  put_be24(p + 8, 0);                  // StreamID, always 0
  std::memcpy(p + kTagHeaderBytes, body.data(), size);
  put_be32(p + kTagHeaderBytes + size, kTagHeaderBytes + size);
}

struct FlvReader::State {
  enum class Phase : uint8_t { kFileHeader, kTagHeader, kBody, kPreviousTagSize, kFailed };
  FlvReaderOptions options;
  Phase phase = Phase::kFileHeader;
  Status error;
  uint8_t head[kFlvHeaderBytes] = {};  // the header being gathered (file, tag or trailer)
  size_t head_have = 0;
  bool header_seen = false;
  bool has_audio = false;
  bool has_video = false;
  uint8_t tag_type = 0;
  uint32_t tag_size = 0;
  uint32_t tag_ts = 0;
  std::string body;
  TimestampUnwrapper unwrap;

  Status fail(Status s) {
    phase = Phase::kFailed;
    error = s;
    return s;
  }
  // Gathers up to `want` header bytes from `in`; true once complete.
  bool gather(std::string_view& in, size_t want) {
    const size_t n = std::min(want - head_have, in.size());
    std::memcpy(head + head_have, in.data(), n);
    head_have += n;
    in.remove_prefix(n);
    if (head_have < want) return false;
    head_have = 0;
    return true;
  }
};

FlvReader::FlvReader(FlvReaderOptions options) : state_(std::make_shared<State>()) {
  state_->options = options;
  if (!options.expect_header) state_->phase = State::Phase::kTagHeader;
}

size_t FlvReader::buffered() const { return state_->head_have + state_->body.size(); }
bool FlvReader::header_seen() const { return state_->header_seen; }
bool FlvReader::has_audio() const { return state_->has_audio; }
bool FlvReader::has_video() const { return state_->has_video; }

Status FlvReader::feed(std::string_view in, const std::function<void(MediaPacket&&)>& on_packet) {
  State& s = *state_;
  using Phase = State::Phase;
  while (!in.empty() || s.phase == Phase::kBody) {
    switch (s.phase) {
      case Phase::kFailed: return s.error;
      case Phase::kFileHeader: {
        if (!s.gather(in, kFlvHeaderBytes)) return {};
        if (std::memcmp(s.head, "FLV", 3) != 0) return s.fail(Status::invalid_argument("flv: bad signature"));
        const uint32_t data_offset = be32(s.head + 5);
        // Version 1 has a 9-byte header; a larger DataOffset would hide bytes we do not skip.
        if (data_offset != 9) return s.fail(Status::invalid_argument("flv: unsupported header size"));
        s.header_seen = true;
        s.has_audio = (s.head[4] & 0x04) != 0;
        s.has_video = (s.head[4] & 0x01) != 0;
        if (be32(s.head + 9) != 0) return s.fail(Status::invalid_argument("flv: PreviousTagSize0 is not 0"));
        s.phase = Phase::kTagHeader;
        break;
      }
      case Phase::kTagHeader: {
        if (!s.gather(in, kTagHeaderBytes)) return {};
        if (s.head[0] & 0xC0) return s.fail(Status::invalid_argument("flv: reserved bits set in a tag header"));
        if (s.head[0] & 0x20) return s.fail(Status::unimplemented("flv: encrypted tags are not supported"));
        s.tag_type = s.head[0] & 0x1F;
        s.tag_size = be24(s.head + 1);
        s.tag_ts = be24(s.head + 4) | (uint32_t{s.head[7]} << 24);
        if (s.tag_size > s.options.max_tag_bytes)
          return s.fail(Status::resource_exhausted("flv: tag of " + std::to_string(s.tag_size) + " bytes over the limit"));
        s.body.clear();
        s.body.reserve(s.tag_size);
        s.phase = Phase::kBody;
        break;
      }
      case Phase::kBody: {
        const size_t n = std::min<size_t>(s.tag_size - s.body.size(), in.size());
        s.body.append(in.data(), n);
        in.remove_prefix(n);
        if (s.body.size() < s.tag_size) return {};
        s.phase = Phase::kPreviousTagSize;
        break;
      }
      case Phase::kPreviousTagSize: {
        if (!s.gather(in, 4)) return {};
        const uint32_t previous = be32(s.head);
        if (previous != kTagHeaderBytes + s.tag_size)
          return s.fail(Status::invalid_argument("flv: PreviousTagSize " + std::to_string(previous) +
                                                 " does not match the tag (" + std::to_string(kTagHeaderBytes + s.tag_size) + ")"));
        s.phase = Phase::kTagHeader;
        // Only the tags passed on move the timeline (a skipped tag type must not shift it).
        if (s.tag_type == 8 || s.tag_type == 9 || s.tag_type == 18) {
          MediaPacket p;
          p.type = static_cast<PacketType>(s.tag_type);
          p.dts_ms = s.unwrap.unwrap(s.tag_ts);
          p.payload = std::move(s.body);
          classify(p);
          s.body = std::string();
          on_packet(std::move(p));
        }
        break;
      }
    }
  }
  return s.phase == Phase::kFailed ? s.error : Status();
}

}  // namespace chiron::media
