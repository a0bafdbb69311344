// The cluster frame format (src/cluster/wire.h): CRC32C, encode_frame and FrameDecoder fed
// whole, byte by byte, at every split point, and with hostile bytes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cluster/wire.h"

namespace chiron::cluster {
namespace {

const std::string kKey(32, '\x5a');

Frame make_frame(FrameType type, uint64_t seq, std::string payload, uint16_t flags = 0) {
  Frame f;
  f.type = type;
  f.seq = seq;
  f.flags = flags;
  f.payload = std::move(payload);
  return f;
}

// Decodes everything buffered; fails the test on an error.
std::vector<Frame> drain(FrameDecoder& d) {
  std::vector<Frame> out;
  for (;;) {
    auto r = d.next();
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    if (!r.ok() || !r->has_value()) return out;
    out.push_back(std::move(**r));
  }
}

// The first error of decoding `bytes` (fed whole), or "" if none.
std::string decode_error_of(std::string_view bytes, std::string key = kKey, size_t max_payload = 1024) {
  FrameDecoder d(max_payload);
  d.set_mac_key(std::move(key));
  d.feed(bytes);
  for (;;) {
    auto r = d.next();
    if (!r.ok()) return r.status().to_string();
    if (!r->has_value()) return "";
  }
}

void put_u32(std::string& s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
}

TEST(Crc32cTest, MatchesTheCastagnoliCheckValue) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(""), 0u);
  // RFC 3720 §B.4: 32 bytes of zeros.
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
}

TEST(Crc32cTest, ASeedContinuesAPreviousCrc) {
  EXPECT_EQ(crc32c("56789", crc32c("1234")), 0xE3069283u);
  EXPECT_EQ(crc32c("", crc32c("123456789")), 0xE3069283u);
}

TEST(Crc32cTest, TheFastPathAgreesWithBoostForEveryLengthAlignmentAndSeed) {
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 37 + (i >> 3)));
  for (size_t off = 0; off < 9; ++off) {
    for (size_t len = 0; off + len <= data.size(); len += 1 + len / 8) {
      std::string_view s = std::string_view(data).substr(off, len);
      for (uint32_t seed : {0u, 0xE3069283u, 0xFFFFFFFFu}) {
        ASSERT_EQ(crc32c(s, seed), crc32c_portable(s, seed)) << off << "+" << len << " seed " << seed;
      }
    }
  }
  EXPECT_EQ(crc32c_portable("123456789"), 0xE3069283u);
}

TEST(FrameTypeTest, NamesAreStableAndUnknownsAreNamedByNumber) {
  EXPECT_EQ(frame_type_name(10), "KERNEL");
  EXPECT_EQ(frame_type_name(1), "HELLO");
  EXPECT_EQ(frame_type_name(13), "ERROR");
  EXPECT_EQ(frame_type_name(0), "UNKNOWN(0)");
  EXPECT_EQ(frame_type_name(200), "UNKNOWN(200)");
  EXPECT_TRUE(known_frame_type(1));
  EXPECT_TRUE(known_frame_type(13));
  EXPECT_FALSE(known_frame_type(0));
  EXPECT_FALSE(known_frame_type(14));
}

TEST(FrameTest, LayoutIsLittleEndianWithMagicVersionAndTrailer) {
  std::string bytes = encode_frame(make_frame(FrameType::kKernel, 0x0102030405060708, "abc", 0xBEEF), "");
  ASSERT_EQ(bytes.size(), kFrameHeaderBytes + 3 + kFrameTrailerBytes);
  EXPECT_EQ(bytes.substr(0, 4), "CHRK");
  EXPECT_EQ(bytes[4], 1);
  EXPECT_EQ(bytes[5], 10);
  EXPECT_EQ(static_cast<uint8_t>(bytes[6]), 0xEF);
  EXPECT_EQ(static_cast<uint8_t>(bytes[7]), 0xBE);
  EXPECT_EQ(bytes[8], 0x08);
  EXPECT_EQ(bytes[15], 0x01);
  EXPECT_EQ(bytes[16], 3);
  EXPECT_EQ(bytes.substr(20, 3), "abc");
  uint32_t crc = 0;
  for (int i = 0; i < 4; ++i) crc |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[23 + i])) << (8 * i);
  EXPECT_EQ(crc, crc32c(bytes.substr(0, 23)));
  EXPECT_EQ(bytes.substr(27), std::string(16, '\0'));  // no key: zero MAC
  EXPECT_NE(encode_frame(make_frame(FrameType::kKernel, 1, "abc"), kKey).substr(27), std::string(16, '\0'));
}

TEST(FrameDecoderTest, RoundTripsFramesOfEveryType) {
  std::string stream;
  std::vector<Frame> sent;
  for (uint8_t t = 1; t <= 13; ++t) {
    sent.push_back(make_frame(static_cast<FrameType>(t), t * 1000ull, std::string(t * 7, static_cast<char>(t)), t));
    stream += encode_frame(sent.back(), kKey);
  }
  sent.push_back(make_frame(FrameType::kHeartbeat, 99, ""));
  stream += encode_frame(sent.back(), kKey);
  FrameDecoder d;
  d.set_mac_key(kKey);
  d.feed(stream);
  std::vector<Frame> got = drain(d);
  ASSERT_EQ(got.size(), sent.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].type, sent[i].type);
    EXPECT_EQ(got[i].flags, sent[i].flags);
    EXPECT_EQ(got[i].seq, sent[i].seq);
    EXPECT_EQ(got[i].payload, sent[i].payload);
  }
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(FrameDecoderTest, EverySplitOfTheStreamGivesTheSameFrames) {
  std::string stream = encode_frame(make_frame(FrameType::kKernel, 2, "first payload"), kKey) +
                       encode_frame(make_frame(FrameType::kHeartbeat, 3, ""), kKey) +
                       encode_frame(make_frame(FrameType::kRecords, 4, std::string(40, 'r')), kKey);
  for (size_t a = 0; a <= stream.size(); ++a) {
    for (size_t b = a; b <= stream.size(); b += 7) {
      FrameDecoder d;
      d.set_mac_key(kKey);
      std::vector<Frame> got;
      for (auto piece : {stream.substr(0, a), stream.substr(a, b - a), stream.substr(b)}) {
        d.feed(piece);
        for (Frame& f : drain(d)) got.push_back(std::move(f));
      }
      ASSERT_EQ(got.size(), 3u) << "split at " << a << ", " << b;
      EXPECT_EQ(got[0].payload, "first payload");
      EXPECT_EQ(got[1].type, FrameType::kHeartbeat);
      EXPECT_EQ(got[2].seq, 4u);
    }
  }
}

TEST(FrameDecoderTest, ByteByByteFeedingWorksAndTheBufferIsCompacted) {
  std::string one = encode_frame(make_frame(FrameType::kKernel, 7, std::string(1000, 'k')), kKey);
  FrameDecoder d;
  d.set_mac_key(kKey);
  size_t frames = 0;
  for (int rep = 0; rep < 300; ++rep) {
    for (char c : one) {
      d.feed(std::string_view(&c, 1));
      auto r = d.next();
      ASSERT_TRUE(r.ok());
      if (r->has_value()) ++frames;
    }
    EXPECT_EQ(d.buffered(), 0u);
  }
  EXPECT_EQ(frames, 300u);
}

TEST(FrameDecoderTest, ConsumedFramesDoNotAccumulateWhenTheStreamNeverPauses) {
  // Every feed ends mid-frame, so the buffer is never empty: compaction must still happen.
  std::string one = encode_frame(make_frame(FrameType::kKernel, 1, std::string(5000, 'x')), kKey);
  std::string stream;
  for (int i = 0; i < 200; ++i) stream += one;
  FrameDecoder d;
  d.set_mac_key(kKey);
  size_t frames = 0;
  for (size_t pos = 0; pos < stream.size(); pos += 4099) {
    d.feed(std::string_view(stream).substr(pos, 4099));
    frames += drain(d).size();
    EXPECT_LT(d.buffered(), one.size());
  }
  EXPECT_EQ(frames, 200u);
}

TEST(FrameDecoderTest, RefusesABadMagicFromItsFirstByte) {
  FrameDecoder d;
  d.feed("G");
  auto r = d.next();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bad frame magic 0x47"), std::string::npos) << r.status().to_string();
  EXPECT_NE(decode_error_of("GET / HTTP/1.1\r\n\r\n").find("not a Chiron cluster peer"), std::string::npos);
}

TEST(FrameDecoderTest, StaysDeadAfterAnError) {
  FrameDecoder d;
  d.set_mac_key(kKey);
  d.feed("XXXX");
  ASSERT_FALSE(d.next().ok());
  d.feed(encode_frame(make_frame(FrameType::kHeartbeat, 0, ""), kKey));
  auto r = d.next();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("magic"), std::string::npos);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(FrameDecoderTest, RefusesAnotherVersion) {
  std::string bytes = encode_frame(make_frame(FrameType::kHeartbeat, 0, ""), kKey);
  bytes[4] = 2;
  EXPECT_EQ(decode_error_of(bytes), "invalid_argument: unsupported wire version 2 (this node speaks 1)");
}

TEST(FrameDecoderTest, RefusesUnknownTypes) {
  for (uint8_t t : {0, 14, 255}) {
    std::string bytes = encode_frame(make_frame(FrameType::kHeartbeat, 5, ""), kKey);
    bytes[5] = static_cast<char>(t);
    EXPECT_EQ(decode_error_of(bytes), "invalid_argument: unknown frame type " + std::to_string(t) + " (seq 5)");
  }
}

TEST(FrameDecoderTest, RefusesALengthOverTheCapFromTheHeaderAlone) {
  std::string bytes = encode_frame(make_frame(FrameType::kKernel, 3, std::string(2000, 'a')), kKey);
  FrameDecoder d(1024);
  d.set_mac_key(kKey);
  d.feed(std::string_view(bytes).substr(0, kFrameHeaderBytes));  // no payload yet
  auto r = d.next();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().to_string(),
            "resource_exhausted: frame KERNEL seq 3: payload of 2000 bytes exceeds the limit of 1024");
  // A forged 4 GiB length is refused the same way.
  std::string huge = encode_frame(make_frame(FrameType::kKernel, 3, ""), kKey);
  put_u32(huge, 16, 0xFFFFFFFFu);
  EXPECT_NE(decode_error_of(huge, kKey, kDefaultMaxPayload).find("exceeds the limit"), std::string::npos);
}

TEST(FrameDecoderTest, SetMaxPayloadAppliesToLaterFrames) {
  std::string bytes = encode_frame(make_frame(FrameType::kKernel, 3, std::string(2000, 'a')), kKey);
  FrameDecoder d(1024);
  d.set_mac_key(kKey);
  d.set_max_payload(4096);
  d.feed(bytes);
  EXPECT_EQ(drain(d).size(), 1u);
}

TEST(FrameDecoderTest, RefusesABadCrcAnywhereInHeaderOrPayload) {
  const std::string good = encode_frame(make_frame(FrameType::kKernel, 7, "payload"), kKey);
  for (size_t i : {size_t{6}, size_t{8}, size_t{20}, size_t{26}, good.size() - 17}) {
    std::string bytes = good;
    bytes[i] ^= 0x01;
    const std::string err = decode_error_of(bytes);
    if (i == 8) {
      EXPECT_EQ(err, "invalid_argument: bad CRC on frame KERNEL seq 6 (corrupted in transit)");
    } else {
      EXPECT_NE(err.find("bad CRC on frame KERNEL"), std::string::npos) << i << ": " << err;
    }
  }
}

TEST(FrameDecoderTest, RefusesABadMacWithTheFrameNamed) {
  const std::string good = encode_frame(make_frame(FrameType::kKernel, 7, "payload"), kKey);
  std::string bytes = good;
  bytes.back() ^= 0x01;
  EXPECT_EQ(decode_error_of(bytes), "unauthenticated: bad MAC on frame KERNEL seq 7 (wrong cluster key?)");
  EXPECT_EQ(decode_error_of(good, std::string(32, 'w')),
            "unauthenticated: bad MAC on frame KERNEL seq 7 (wrong cluster key?)");
  // Without a key the MAC must be zeros: a keyed frame is refused, and vice versa.
  EXPECT_NE(decode_error_of(good, "").find("bad MAC"), std::string::npos);
  EXPECT_NE(decode_error_of(encode_frame(make_frame(FrameType::kKernel, 7, "payload"), "")).find("bad MAC"),
            std::string::npos);
}

TEST(FrameDecoderTest, TruncatedStreamsWaitAndNeverHandOutAFrame) {
  const std::string good = encode_frame(make_frame(FrameType::kKernel, 7, "payload"), kKey);
  for (size_t n = 0; n < good.size(); ++n) {
    FrameDecoder d;
    d.set_mac_key(kKey);
    d.feed(std::string_view(good).substr(0, n));
    auto r = d.next();
    ASSERT_TRUE(r.ok()) << n;
    EXPECT_FALSE(r->has_value()) << n;
    EXPECT_EQ(d.buffered(), n);
  }
}

TEST(FrameDecoderTest, AKeyChangeAppliesToTheNextFrameDecoded) {
  const std::string other(32, 'o');
  std::string stream = encode_frame(make_frame(FrameType::kAuth, 1, "a"), kKey) +
                       encode_frame(make_frame(FrameType::kKernel, 2, "k"), other);
  FrameDecoder d;
  d.set_mac_key(kKey);
  d.feed(stream);
  auto first = d.next();
  ASSERT_TRUE(first.ok() && first->has_value());
  d.set_mac_key(other);
  auto second = d.next();
  ASSERT_TRUE(second.ok() && second->has_value()) << second.status().to_string();
  EXPECT_EQ((*second)->payload, "k");
}

TEST(ByteReaderTest, CountsAreCheckedAgainstTheBytesLeft) {
  ByteWriter w;
  w.u32(1000);
  w.u64(1);
  ByteReader r(w.buffer());
  EXPECT_EQ(r.count(8, "item"), 0u);
  EXPECT_EQ(r.status().to_string(), "invalid_argument: item count 1000 at byte 0 exceeds the 8 bytes left");
  ByteWriter ok;
  ok.u32(2);
  ok.u64(1);
  ok.u64(2);
  ByteReader r2(ok.buffer());
  EXPECT_EQ(r2.count(8, "item"), 2u);
  EXPECT_TRUE(r2.ok());
}

TEST(ByteReaderTest, StringCapsAndTruncationFailCleanly) {
  ByteWriter w;
  w.str("hello world");
  ByteReader capped(w.buffer());
  EXPECT_EQ(capped.str(5, "name"), "");
  EXPECT_EQ(capped.status().to_string(), "invalid_argument: name of 11 bytes at byte 0 exceeds the limit of 5");
  ByteReader cut(std::string_view(w.buffer()).substr(0, 8));
  EXPECT_EQ(cut.str(), "");
  EXPECT_EQ(cut.status().to_string(), "invalid_argument: truncated string at byte 4");
  EXPECT_EQ(cut.u64(), 0u);  // the first failure sticks
  EXPECT_EQ(cut.status().to_string(), "invalid_argument: truncated string at byte 4");
}

TEST(ByteReaderTest, RoundTripsScalarsLittleEndian) {
  ByteWriter w;
  w.u8(0xAB);
  w.u16(0x1234);
  w.u32(0xDEADBEEF);
  w.u64(0x0102030405060708ull);
  w.i64(-5);
  w.f64(-2.5);
  w.boolean(true);
  EXPECT_EQ(static_cast<uint8_t>(w.buffer()[1]), 0x34);
  ByteReader r(w.buffer());
  EXPECT_EQ(r.u8(), 0xAB);
  EXPECT_EQ(r.u16(), 0x1234);
  EXPECT_EQ(r.u32(), 0xDEADBEEFu);
  EXPECT_EQ(r.u64(), 0x0102030405060708ull);
  EXPECT_EQ(r.i64(), -5);
  EXPECT_EQ(r.f64(), -2.5);
  EXPECT_TRUE(r.boolean());
  EXPECT_TRUE(r.status().ok());
  ByteReader bad_bool(std::string_view("\x02", 1));
  bad_bool.boolean();
  EXPECT_EQ(bad_bool.status().to_string(), "invalid_argument: bad boolean at byte 0");
}

}  // namespace
}  // namespace chiron::cluster
