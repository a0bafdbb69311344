// The RTMP chunk stream (RTMP 1.0 §5.3) on byte buffers: all header formats, csid forms,
// extended timestamps with and without fmt-3 repeats, interleaving, limits, unwrapping.

#include "media/rtmp_chunk.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace chiron::media::rtmp {
namespace {

std::string be24(uint32_t v) { return {static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)}; }
std::string be32(uint32_t v) { return std::string(1, static_cast<char>(v >> 24)) + be24(v); }
std::string basic(int fmt, uint32_t csid) {
  if (csid < 64) return std::string(1, static_cast<char>((fmt << 6) | csid));
  if (csid < 320) return {static_cast<char>(fmt << 6), static_cast<char>(csid - 64)};
  return {static_cast<char>((fmt << 6) | 1), static_cast<char>((csid - 64) & 0xFF), static_cast<char>((csid - 64) >> 8)};
}
std::string ts_field(uint32_t ts) { return be24(ts >= 0xFFFFFF ? 0xFFFFFF : ts); }
std::string ext(uint32_t ts) { return ts >= 0xFFFFFF ? be32(ts) : ""; }
std::string fmt0(uint32_t csid, uint32_t ts, uint32_t len, uint8_t type, uint32_t sid) {
  std::string s = basic(0, csid) + ts_field(ts) + be24(len) + static_cast<char>(type);
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>(sid >> (8 * i)));
  return s + ext(ts);
}
std::string fmt1(uint32_t csid, uint32_t delta, uint32_t len, uint8_t type) {
  return basic(1, csid) + ts_field(delta) + be24(len) + static_cast<char>(type) + ext(delta);
}
std::string fmt2(uint32_t csid, uint32_t delta) { return basic(2, csid) + ts_field(delta) + ext(delta); }
std::string fmt3(uint32_t csid, std::optional<uint32_t> repeat = std::nullopt) {
  return basic(3, csid) + (repeat ? be32(*repeat) : "");
}

std::string payload(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + i * 7);
  return s;
}

struct Collected {
  std::vector<Message> messages;
  Status status;
};

Collected read(std::string_view in, size_t step = SIZE_MAX, uint32_t chunk_size = 128, ChunkReaderLimits limits = {}) {
  ChunkReader r(limits);
  r.set_chunk_size(chunk_size);
  Collected c;
  for (size_t i = 0; i < in.size() && c.status.ok(); i += std::min(step, in.size() - i)) {
    c.status = r.feed(in.substr(i, std::min(step, in.size() - i)), [&](Message&& m) {
      c.messages.push_back(std::move(m));
      return Status();
    });
  }
  return c;
}

TEST(RtmpChunkTest, WriterOutputReassemblesByteIdenticalAtEveryChunkSize) {
  for (uint32_t chunk : {128u, 4096u, 65536u}) {
    std::string wire;
    const std::vector<std::string> bodies = {payload(1, 1), payload(127, 2), payload(128, 3), payload(129, 4),
                                             payload(70000, 5), payload(0, 6), payload(200000, 7)};
    for (size_t i = 0; i < bodies.size(); ++i)
      append_message(wire, i % 2 ? kVideoCsid : kAudioCsid, i % 2 ? kVideo : kAudio, 1, static_cast<uint32_t>(i * 40), bodies[i], chunk);
    for (size_t step : {size_t{1}, size_t{13}, size_t{4096}, SIZE_MAX}) {
      if (step == 1 && chunk != 128) continue;  // byte-at-a-time once is enough
      Collected c = read(wire, step, chunk);
      ASSERT_TRUE(c.status.ok()) << c.status.to_string();
      ASSERT_EQ(c.messages.size(), bodies.size());
      for (size_t i = 0; i < bodies.size(); ++i) {
        EXPECT_EQ(c.messages[i].payload, bodies[i]) << "chunk " << chunk << " message " << i;
        EXPECT_EQ(c.messages[i].dts_ms, static_cast<int64_t>(i * 40));
        EXPECT_EQ(c.messages[i].stream_id, 1u);
      }
    }
  }
}

TEST(RtmpChunkTest, MessageBytesMatchesWriter) {
  for (uint32_t csid : {3u, 100u, 5000u})
    for (uint32_t ts : {0u, 0xFFFFFFu, 0x12345678u})
      for (size_t n : {size_t{0}, size_t{5}, size_t{128}, size_t{129}, size_t{1000}}) {
        std::string out;
        append_message(out, csid, kVideo, 1, ts, payload(n, 0), 128);
        EXPECT_EQ(out.size(), message_bytes(csid, ts, n, 128));
      }
}

TEST(RtmpChunkTest, TwoAndThreeByteCsids) {
  std::string wire;
  append_message(wire, 64, kAudio, 1, 1, "a", 128);
  append_message(wire, 319, kAudio, 1, 2, "b", 128);
  append_message(wire, 320, kAudio, 1, 3, "c", 128);
  append_message(wire, kMaxCsid, kAudio, 1, 4, payload(300, 1), 128);
  EXPECT_EQ(static_cast<uint8_t>(wire[0]), 0);  // 2-byte form
  Collected c = read(wire, 1);
  ASSERT_TRUE(c.status.ok()) << c.status.to_string();
  ASSERT_EQ(c.messages.size(), 4u);
  EXPECT_EQ(c.messages[0].csid, 64u);
  EXPECT_EQ(c.messages[1].csid, 319u);
  EXPECT_EQ(c.messages[2].csid, 320u);
  EXPECT_EQ(c.messages[3].csid, kMaxCsid);
  EXPECT_EQ(c.messages[3].payload, payload(300, 1));
}

TEST(RtmpChunkTest, InterleavedCsidsReassembleSeparately) {
  const std::string a = payload(300, 'a');
  const std::string v = payload(200, 'v');
  std::string wire = fmt0(4, 10, 300, kAudio, 1) + a.substr(0, 128) + fmt0(6, 20, 200, kVideo, 1) + v.substr(0, 128) +
                     fmt3(4) + a.substr(128, 128) + fmt3(6) + v.substr(128) + fmt3(4) + a.substr(256);
  Collected c = read(wire, 5);
  ASSERT_TRUE(c.status.ok()) << c.status.to_string();
  ASSERT_EQ(c.messages.size(), 2u);
  EXPECT_EQ(c.messages[0].payload, v);
  EXPECT_EQ(c.messages[0].dts_ms, 20);
  EXPECT_EQ(c.messages[1].payload, a);
  EXPECT_EQ(c.messages[1].dts_ms, 10);
}

TEST(RtmpChunkTest, Fmt1And2And3CarryDeltas) {
  // fmt 0 at 1000, fmt 1 +20 (new length), fmt 2 +30, fmt 3 new message reuses +30.
  std::string wire = fmt0(4, 1000, 3, kAudio, 1) + "abc" + fmt1(4, 20, 2, kAudio) + "de" + fmt2(4, 30) + "fg" + fmt3(4) + "hi";
  Collected c = read(wire, 1);
  ASSERT_TRUE(c.status.ok()) << c.status.to_string();
  ASSERT_EQ(c.messages.size(), 4u);
  EXPECT_EQ(c.messages[0].dts_ms, 1000);
  EXPECT_EQ(c.messages[1].dts_ms, 1020);
  EXPECT_EQ(c.messages[2].dts_ms, 1050);
  EXPECT_EQ(c.messages[3].dts_ms, 1080);
  EXPECT_EQ(c.messages[3].payload, "hi");
  EXPECT_EQ(c.messages[3].stream_id, 1u);
}

TEST(RtmpChunkTest, Fmt3NewMessageAfterFmt0ReusesItsTimestampField) {
  // ffmpeg's writer: same size, type and "delta" as the previous header → fmt 3.
  std::string wire = fmt0(4, 23, 1, kAudio, 1) + "a" + fmt3(4) + "b" + fmt3(4) + "c";
  Collected c = read(wire);
  ASSERT_EQ(c.messages.size(), 3u);
  EXPECT_EQ(c.messages[1].dts_ms, 46);
  EXPECT_EQ(c.messages[2].dts_ms, 69);
}

TEST(RtmpChunkTest, ExtendedTimestampRepeatedOnFmt3) {
  const uint32_t ts = 0x01000005;  // past 0xFFFFFF
  const std::string body = payload(300, 'x');
  std::string wire = fmt0(6, ts, 300, kVideo, 1) + body.substr(0, 128) + fmt3(6, ts) + body.substr(128, 128) + fmt3(6, ts) +
                     body.substr(256);
  for (size_t step : {size_t{1}, size_t{3}, SIZE_MAX}) {
    Collected c = read(wire, step);
    ASSERT_TRUE(c.status.ok()) << c.status.to_string();
    ASSERT_EQ(c.messages.size(), 1u);
    EXPECT_EQ(c.messages[0].payload, body);
    EXPECT_EQ(c.messages[0].dts_ms, ts);
  }
}

TEST(RtmpChunkTest, ExtendedTimestampNotRepeatedOnFmt3) {
  const uint32_t ts = 0x01000005;
  const std::string body = payload(300, 'y');
  std::string wire = fmt0(6, ts, 300, kVideo, 1) + body.substr(0, 128) + fmt3(6) + body.substr(128, 128) + fmt3(6) + body.substr(256);
  Collected c = read(wire, 2);
  ASSERT_TRUE(c.status.ok()) << c.status.to_string();
  ASSERT_EQ(c.messages.size(), 1u);
  EXPECT_EQ(c.messages[0].payload, body);
  EXPECT_EQ(c.messages[0].dts_ms, ts);
}

TEST(RtmpChunkTest, ExtendedTimestampNotRepeatedWithShortLastChunkByteByByte) {
  // The fmt-3 peek sees 2 payload bytes and the start of the next message: those bytes were held
  // back with the header and must still be read as payload, then as the next header.
  const uint32_t ts = 0x01000005;
  const std::string body = payload(130, 'z');
  std::string wire = fmt0(6, ts, 130, kVideo, 1) + body.substr(0, 128) + fmt3(6) + body.substr(128) +
                     fmt0(4, 7, 3, kAudio, 1) + "abc";
  for (size_t step : {size_t{1}, size_t{2}, size_t{3}, SIZE_MAX}) {
    Collected c = read(wire, step);
    ASSERT_TRUE(c.status.ok()) << c.status.to_string();
    ASSERT_EQ(c.messages.size(), 2u) << step;
    EXPECT_EQ(c.messages[0].payload, body);
    EXPECT_EQ(c.messages[1].payload, "abc");
    EXPECT_EQ(c.messages[1].dts_ms, 7);
  }
}

TEST(RtmpChunkTest, ExtendedDeltaOnFmt3NewMessages) {
  // A delta ≥ 0xFFFFFF goes in the extended field; fmt-3 new messages repeat it (or not).
  const uint32_t delta = 0x1000000;
  std::string with = fmt0(4, 0, 1, kAudio, 1) + "a" + fmt2(4, delta) + "b" + fmt3(4, delta) + "c";
  Collected c1 = read(with);
  ASSERT_EQ(c1.messages.size(), 3u);
  EXPECT_EQ(c1.messages[2].dts_ms, 2 * int64_t{delta});
  EXPECT_EQ(c1.messages[2].payload, "c");
  // Without the repeat the next 4 bytes are payload (they do not match the field).
  std::string w2 = fmt0(4, 0, 4, kAudio, 1) + "aaaa" + fmt2(4, delta) + "bbbb" + fmt3(4) + "cdef";
  Collected c2 = read(w2);
  ASSERT_EQ(c2.messages.size(), 3u);
  EXPECT_EQ(c2.messages[2].payload, "cdef");
  EXPECT_EQ(c2.messages[2].dts_ms, 2 * int64_t{delta});
}

TEST(RtmpChunkTest, TimestampCrossing24BitBoundaryStaysMonotonic) {
  std::string wire;
  std::vector<uint32_t> ts;
  for (uint32_t t = 0xFFFF00; t < 0x1000100; t += 40) ts.push_back(t);
  for (uint32_t t : ts) append_message(wire, kVideoCsid, kVideo, 1, t, payload(200, 1), 128);
  Collected c = read(wire, 17);
  ASSERT_TRUE(c.status.ok()) << c.status.to_string();
  ASSERT_EQ(c.messages.size(), ts.size());
  for (size_t i = 0; i < ts.size(); ++i) EXPECT_EQ(c.messages[i].dts_ms, ts[i]);
}

TEST(RtmpChunkTest, TimestampWrapAt32BitsUnwrapsTo64) {
  std::string wire;
  const int64_t start = 0xFFFFFFFFLL - 100;
  for (int i = 0; i < 6; ++i) append_message(wire, kAudioCsid, kAudio, 1, static_cast<uint32_t>(start + i * 40), "x", 128);
  // Deltas across the wrap as well.
  wire += fmt2(kAudioCsid, 40) + "y";
  Collected c = read(wire);
  ASSERT_TRUE(c.status.ok());
  ASSERT_EQ(c.messages.size(), 7u);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(c.messages[i].dts_ms, start + i * 40) << i;
  EXPECT_GT(c.messages[6].dts_ms, 0xFFFFFFFFLL);
}

TEST(RtmpChunkTest, ZeroLengthMessage) {
  Collected c = read(fmt0(3, 0, 0, kCommandAmf0, 0) + fmt0(3, 0, 1, kCommandAmf0, 0) + "z");
  ASSERT_EQ(c.messages.size(), 2u);
  EXPECT_EQ(c.messages[0].payload, "");
  EXPECT_EQ(c.messages[1].payload, "z");
}

TEST(RtmpChunkTest, OversizedMessageIsRefusedFromItsHeader) {
  Collected c = read(fmt0(4, 0, 0xFFFFFF, kAudio, 1), SIZE_MAX, 128, ChunkReaderLimits{1 << 20, 64});
  EXPECT_EQ(c.status.code(), StatusCode::kResourceExhausted);
}

TEST(RtmpChunkTest, TooManyChunkStreams) {
  std::string wire;
  for (uint32_t csid = 3; csid < 20; ++csid) wire += fmt0(csid, 0, 1, kAudio, 1) + "a";
  Collected c = read(wire, SIZE_MAX, 128, ChunkReaderLimits{1 << 20, 8});
  EXPECT_EQ(c.status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(c.messages.size(), 8u);
}

TEST(RtmpChunkTest, Fmt2Or3WithoutPreviousHeaderIsAnError) {
  EXPECT_EQ(read(fmt2(5, 10) + "x").status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(read(fmt3(5) + "x").status.code(), StatusCode::kInvalidArgument);
}

TEST(RtmpChunkTest, ErrorsStick) {
  ChunkReader r;
  auto sink = [](Message&&) { return Status(); };
  EXPECT_FALSE(r.feed(fmt3(9), sink).ok());
  EXPECT_FALSE(r.feed(fmt0(3, 0, 1, kAudio, 0) + "a", sink).ok());
}

TEST(RtmpChunkTest, CallbackErrorStopsTheReader) {
  ChunkReader r;
  int n = 0;
  Status st = r.feed(fmt0(3, 0, 1, kAudio, 0) + "a" + fmt0(3, 0, 1, kAudio, 0) + "b", [&](Message&&) {
    ++n;
    return Status::invalid_argument("stop");
  });
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(n, 1);
}

TEST(RtmpChunkTest, ChunkSizeChangeAppliesToTheNextChunk) {
  // The callback switches to 4096 after the first message, as a Set Chunk Size would.
  std::string wire = fmt0(2, 0, 4, kSetChunkSize, 0) + be32(4096);
  append_message(wire, kVideoCsid, kVideo, 1, 0, payload(3000, 3), 4096);
  ChunkReader r;
  std::vector<Message> got;
  ASSERT_TRUE(r.feed(wire, [&](Message&& m) {
                 if (m.type == kSetChunkSize) r.set_chunk_size(read_be32(m.payload, 0));
                 got.push_back(std::move(m));
                 return Status();
               }).ok());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].payload, payload(3000, 3));
}

TEST(RtmpChunkTest, AbortDropsThePartialMessage) {
  ChunkReader r;
  std::vector<Message> got;
  auto sink = [&](Message&& m) {
    got.push_back(std::move(m));
    return Status();
  };
  ASSERT_TRUE(r.feed(fmt0(4, 0, 200, kAudio, 1) + payload(128, 1), sink).ok());
  r.abort(4);
  ASSERT_TRUE(r.feed(fmt0(4, 5, 2, kAudio, 1) + "ok", sink).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "ok");
}

TEST(RtmpChunkTest, NewHeaderMidMessageReplacesIt) {
  Collected c = read(fmt0(4, 0, 200, kAudio, 1) + payload(128, 1) + fmt0(4, 9, 2, kAudio, 1) + "ok");
  ASSERT_TRUE(c.status.ok());
  ASSERT_EQ(c.messages.size(), 1u);
  EXPECT_EQ(c.messages[0].payload, "ok");
}

TEST(RtmpChunkTest, ControlMessageBuilders) {
  std::string out;
  append_set_chunk_size(out, 4096, 128);
  append_window_ack_size(out, 2500000, 128);
  append_set_peer_bandwidth(out, 2500000, 2, 128);
  append_user_control(out, kPingRequest, 77, 128);
  append_acknowledgement(out, 12345, 128);
  Collected c = read(out);
  ASSERT_EQ(c.messages.size(), 5u);
  EXPECT_EQ(c.messages[0].type, kSetChunkSize);
  EXPECT_EQ(read_be32(c.messages[0].payload, 0), 4096u);
  EXPECT_EQ(c.messages[1].csid, kProtocolCsid);
  EXPECT_EQ(c.messages[2].payload.size(), 5u);
  EXPECT_EQ(c.messages[3].payload, std::string("\x00\x06\x00\x00\x00\x4d", 6));
  EXPECT_EQ(read_be32(c.messages[4].payload, 0), 12345u);
}

}  // namespace
}  // namespace chiron::media::rtmp

namespace chiron::media::rtmp {
namespace {

// A peer keeping a near-maximal message open on many csids: the total held is bounded, not only
// each message (64 csids × 16 MiB would otherwise be a gigabyte per connection).
TEST(RtmpChunkTest, IncompleteMessagesAcrossCsidsAreBoundedInTotal) {
  ChunkReaderLimits limits;
  limits.max_message_bytes = 0xFFFFFF;
  limits.max_held_bytes = 3u << 20;
  std::string wire;
  for (uint32_t csid = 3; csid < 10; ++csid) wire += fmt0(csid, 0, 0xFFFFFF, kVideo, 1) + payload(1 << 20, 'x');
  Collected c = read(wire, SIZE_MAX, 1 << 20, limits);
  EXPECT_EQ(c.status.code(), StatusCode::kResourceExhausted) << c.status.to_string();
  EXPECT_TRUE(c.messages.empty());
}

TEST(RtmpChunkTest, HeldBytesReturnToZeroAfterCompleteAndAbortedMessages) {
  ChunkReader r;
  r.set_chunk_size(128);
  std::string wire = fmt0(4, 0, 300, kAudio, 1) + payload(128, 'a') + fmt0(6, 0, 200, kVideo, 1) + payload(128, 'v');
  ASSERT_TRUE(r.feed(wire, [](Message&&) { return Status(); }).ok());
  EXPECT_EQ(r.held_bytes(), 256u);
  r.abort(6);
  EXPECT_EQ(r.held_bytes(), 128u);
  ASSERT_TRUE(r.feed(fmt3(4) + payload(128, 'b') + fmt3(4) + payload(44, 'c'), [](Message&&) { return Status(); }).ok());
  EXPECT_EQ(r.held_bytes(), 0u);
}

}  // namespace
}  // namespace chiron::media::rtmp
