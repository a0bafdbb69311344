// libFuzzer target for the cluster frame decoder and the peer handshake (src/cluster/wire.h).
// Byte 0 picks the mode: its low 4 bits the chunk size the stream is fed in (0 = whole), bit
// 0x80 "structured": the rest is a list of records {type u8, seq u8, length u16, payload}
// that the harness encodes as frames with a valid CRC and the cluster key's MAC, so the
// handshake state machine is reached past the CRC and MAC checks. Otherwise the rest is the
// raw byte stream.
//
// Checks the promises, not just "no crash": every frame handed out is within the cap, of a
// known type, and re-encodes to exactly the bytes it was decoded from; a responder fed these
// bytes never authenticates (the fuzzer cannot know its fresh nonce) and never hands a frame
// out.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/wire.h"
#include "common/check.h"

using chiron::cluster::encode_frame;
using chiron::cluster::Frame;
using chiron::cluster::FrameDecoder;
using chiron::cluster::FrameType;
using chiron::cluster::HelloInfo;
using chiron::cluster::PeerSession;

namespace {

const std::string kKey = "fuzz-cluster-key-0123456789abcdef";
constexpr size_t kMaxPayload = 4096;

std::string structured_stream(std::string_view in) {
  std::string out;
  while (in.size() >= 4) {
    Frame f;
    f.type = static_cast<FrameType>(static_cast<uint8_t>(in[0]));
    f.seq = static_cast<uint8_t>(in[1]);
    size_t len = static_cast<uint8_t>(in[2]) | (static_cast<size_t>(static_cast<uint8_t>(in[3])) << 8);
    in.remove_prefix(4);
    len = std::min(len, in.size());
    f.payload.assign(in.substr(0, len));
    in.remove_prefix(len);
    out += encode_frame(f, kKey);
  }
  return out;
}

void check_decoder(std::string_view stream, size_t step, const std::string& key) {
  FrameDecoder d(kMaxPayload);
  d.set_mac_key(key);
  size_t fed = 0;
  while (fed < stream.size()) {
    std::string_view chunk = stream.substr(fed, std::min(step, stream.size() - fed));
    d.feed(chunk);
    fed += chunk.size();
    for (;;) {
      const size_t start = fed - d.buffered();
      auto r = d.next();
      if (!r.ok()) {
        CHIRON_CHECK(!r.status().message().empty(), "error without a message");
        CHIRON_CHECK(!d.next().ok(), "decoder revived after an error");
        return;
      }
      if (!r->has_value()) break;
      const Frame& f = **r;
      CHIRON_CHECK(f.payload.size() <= kMaxPayload, "frame over the cap");
      CHIRON_CHECK(chiron::cluster::known_frame_type(static_cast<uint8_t>(f.type)), "unknown type handed out");
      const std::string again = encode_frame(f, key);
      CHIRON_CHECK(again.size() == fed - d.buffered() - start, "consumed bytes differ from the frame size");
      CHIRON_CHECK(stream.substr(start, again.size()) == again, "frame does not re-encode to its bytes");
    }
  }
}

void check_session(std::string_view stream, size_t step) {
  HelloInfo self;
  self.cluster = "fuzz";
  self.position = 1;
  self.endpoint = "127.0.1.1:7070";
  PeerSession s(PeerSession::Role::kResponder, kKey, self, kMaxPayload);
  (void)s.take_output();
  std::vector<Frame> out;
  for (size_t pos = 0; pos < stream.size(); pos += step) {
    chiron::Status st = s.feed(stream.substr(pos, std::min(step, stream.size() - pos)), out);
    CHIRON_CHECK(out.empty(), "a frame was handed out by an unauthenticated session");
    CHIRON_CHECK(!s.authenticated(), "authenticated without knowing the nonce");
    if (!st.ok()) {
      CHIRON_CHECK(!st.message().empty(), "error without a message");
      std::vector<Frame> more;
      CHIRON_CHECK(!s.feed("x", more).ok() && more.empty(), "session revived after an error");
      return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const size_t step = (mode & 0x0F) == 0 ? SIZE_MAX : (mode & 0x0F);
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string stream = (mode & 0x80) ? structured_stream(rest) : std::string(rest);
  check_decoder(stream, step, kKey);
  if ((mode & 0x80) == 0) check_decoder(stream, step, "");
  check_session(stream, step);
  return 0;
}
