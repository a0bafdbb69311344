// FLV writer, the incremental reader, metadata and codec configuration parsers.

#include "media/flv.h"

#include <gtest/gtest.h>

#include <vector>

#include "media/amf0.h"

namespace chiron::media {
namespace {

std::string unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

// Sequence headers as ffmpeg 5.1 / libx264 write them (FLV video tag bodies).
const char* kAvc320x240Baseline = "17000000000142c00dffe100166742c00dda0507ec0440000003004000000c83c50aa801000468ce0fc8";
const char* kAvc1920x1080Cropped = "17000000000142c028ffe100196742c028da01e0089f97011000000300100000030320f1832a01000468ce0fc8";
const char* kAvc642x362Cropped = "17000000000142c01effe100196742c01eda0290bf8893011000000300100000030320f162ea01000468ce0fc8";
const char* kAvc640x360HighScalingLists = "17000000000164001effe1001a6764001eacd940a02ff97011000003000100000300320f162d9601000768eae3cb3002c0fdf8f800";
const char* kAvc1280x720Interlaced = "170000000001640020ffe1001a67640020acd940500bbf2e0220000003002000000643e2c5b2c001000668faa3cb22c0fdf8f800";
const char* kAvc322x242High444 = "170000000001f4000dffe1001a67f4000d919b282a10f1f1f808800000030080000019078a14cb01000668ebe3c44844fff8f800";
const char* kAacLc44100Mono = "af00120856e500";

std::vector<MediaPacket> read_all(FlvReader& r, std::string_view in, size_t step, Status* st) {
  std::vector<MediaPacket> out;
  for (size_t i = 0; i < in.size(); i += step) {
    *st = r.feed(in.substr(i, step), [&](MediaPacket&& p) { out.push_back(std::move(p)); });
    if (!st->ok()) break;
  }
  return out;
}

std::string sample_stream() {
  std::string flv;
  append_flv_header(flv, true, true);
  append_flv_tag(flv, PacketType::kScript, 0, encode_metadata({320, 240, 25, 500, 64, "test"}));
  append_flv_tag(flv, PacketType::kVideo, 0, unhex(kAvc320x240Baseline));
  append_flv_tag(flv, PacketType::kAudio, 0, unhex(kAacLc44100Mono));
  append_flv_tag(flv, PacketType::kVideo, 40, std::string("\x17\x01\x00\x00\x00key", 8));
  append_flv_tag(flv, PacketType::kAudio, 46, std::string("\xaf\x01raw", 5));
  append_flv_tag(flv, PacketType::kVideo, 80, std::string("\x27\x01\x00\x00\x28inter", 10));
  return flv;
}

TEST(FlvTest, HeaderBytes) {
  std::string out;
  append_flv_header(out, true, true);
  EXPECT_EQ(out, std::string("FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00", 13));
  out.clear();
  append_flv_header(out, false, true);
  EXPECT_EQ(out[4], 0x01);
}

TEST(FlvTest, TagLayoutWithExtendedTimestamp) {
  std::string out;
  append_flv_tag(out, PacketType::kVideo, 0x12345678, "ab");
  ASSERT_EQ(out.size(), kFlvTagOverhead + 2);
  EXPECT_EQ(out, std::string("\x09\x00\x00\x02\x34\x56\x78\x12\x00\x00\x00" "ab" "\x00\x00\x00\x0d", 17));
}

TEST(FlvTest, ReaderParsesEveryTagWhateverTheSplit) {
  const std::string flv = sample_stream();
  for (size_t step : {size_t{1}, size_t{3}, size_t{11}, size_t{64}, flv.size()}) {
    FlvReader r;
    Status st;
    auto packets = read_all(r, flv, step, &st);
    ASSERT_TRUE(st.ok()) << st.to_string();
    ASSERT_EQ(packets.size(), 6u) << "step " << step;
    EXPECT_TRUE(r.header_seen() && r.has_audio() && r.has_video());
    EXPECT_TRUE(packets[0].script());
    EXPECT_TRUE(packets[1].sequence_header && packets[1].video());
    EXPECT_TRUE(packets[2].sequence_header && packets[2].audio());
    EXPECT_TRUE(packets[3].keyframe);
    EXPECT_EQ(packets[3].dts_ms, 40);
    EXPECT_EQ(packets[4].payload, std::string("\xaf\x01raw", 5));
    EXPECT_FALSE(packets[5].keyframe);
    EXPECT_EQ(packets[5].composition_time_ms(), 40);
    EXPECT_EQ(r.buffered(), 0u);
  }
}

TEST(FlvTest, ReaderRoundTripsBytes) {
  const std::string flv = sample_stream();
  FlvReader r;
  std::string again;
  append_flv_header(again, true, true);
  ASSERT_TRUE(r.feed(flv, [&](MediaPacket&& p) { append_flv_tag(again, p); }).ok());
  EXPECT_EQ(again, flv);
}

TEST(FlvTest, ReaderUnwrapsThe32BitTimestamp) {
  std::string flv;
  append_flv_header(flv, false, true);
  const int64_t base = 0xFFFFFFFFLL - 40;
  for (int i = 0; i < 4; ++i) append_flv_tag(flv, PacketType::kVideo, base + i * 40, "\x27\x01\x00\x00\x00");
  append_flv_tag(flv, PacketType::kVideo, base + 100, "\x27\x01\x00\x00\x00");
  append_flv_tag(flv, PacketType::kAudio, base + 90, "\xaf\x01");  // slightly backwards: stays backwards
  FlvReader r;
  std::vector<int64_t> dts;
  ASSERT_TRUE(r.feed(flv, [&](MediaPacket&& p) { dts.push_back(p.dts_ms); }).ok());
  EXPECT_EQ(dts, (std::vector<int64_t>{base, base + 40, base + 80, base + 120, base + 100, base + 90}));
}

TEST(FlvTest, ReaderCrosses24BitBoundary) {
  std::string flv;
  append_flv_header(flv, false, true);
  for (int64_t t : {0xFFFFF0LL, 0x1000000LL, 0x1000010LL}) append_flv_tag(flv, PacketType::kVideo, t, "\x27\x01\x00\x00\x00");
  FlvReader r;
  std::vector<int64_t> dts;
  ASSERT_TRUE(r.feed(flv, [&](MediaPacket&& p) { dts.push_back(p.dts_ms); }).ok());
  EXPECT_EQ(dts, (std::vector<int64_t>{0xFFFFF0, 0x1000000, 0x1000010}));
}

TEST(FlvTest, ReaderWithoutHeader) {
  std::string tags;
  append_flv_tag(tags, PacketType::kAudio, 7, "\xaf\x01x");
  FlvReader r(FlvReaderOptions{.expect_header = false});
  int n = 0;
  ASSERT_TRUE(r.feed(tags, [&](MediaPacket&& p) { n += p.dts_ms == 7; }).ok());
  EXPECT_EQ(n, 1);
}

TEST(FlvTest, ReaderSkipsUnknownTagTypes) {
  std::string flv;
  append_flv_header(flv, true, false);
  append_flv_tag(flv, static_cast<PacketType>(15), 0, "zz");
  append_flv_tag(flv, PacketType::kAudio, 1, "\xaf\x01");
  FlvReader r;
  int n = 0;
  ASSERT_TRUE(r.feed(flv, [&](MediaPacket&&) { ++n; }).ok());
  EXPECT_EQ(n, 1);
}

TEST(FlvTest, ReaderRejectsBadSignature) {
  FlvReader r;
  Status st = r.feed(std::string("FLX\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00", 13), [](MediaPacket&&) {});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  // Errors stick.
  EXPECT_FALSE(r.feed("more", [](MediaPacket&&) {}).ok());
}

TEST(FlvTest, ReaderRejectsWrongPreviousTagSize) {
  std::string flv = sample_stream();
  flv[flv.size() - 1] ^= 1;
  FlvReader r;
  Status st;
  read_all(r, flv, 7, &st);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
}

TEST(FlvTest, ReaderRejectsOversizedTagBeforeItsBytes) {
  std::string flv;
  append_flv_header(flv, true, true);
  flv += std::string("\x09\xFF\xFF\xFF\x00\x00\x00\x00\x00\x00\x00", 11);
  FlvReader r(FlvReaderOptions{.max_tag_bytes = 1 << 20});
  Status st = r.feed(flv, [](MediaPacket&&) {});
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_LT(r.buffered(), 64u);
}

TEST(FlvTest, ReaderHoldsTruncatedTag) {
  const std::string flv = sample_stream();
  FlvReader r;
  int n = 0;
  ASSERT_TRUE(r.feed(std::string_view(flv).substr(0, flv.size() - 3), [&](MediaPacket&&) { ++n; }).ok());
  EXPECT_EQ(n, 5);
  EXPECT_GT(r.buffered(), 0u);
  ASSERT_TRUE(r.feed(std::string_view(flv).substr(flv.size() - 3), [&](MediaPacket&&) { ++n; }).ok());
  EXPECT_EQ(n, 6);
}

TEST(FlvTest, MetadataRoundTrip) {
  StreamMetadata m{1280, 720, 30, 2500, 128, "Lavf59.27.100"};
  const auto back = parse_metadata(encode_metadata(m));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->width, 1280u);
  EXPECT_EQ(back->height, 720u);
  EXPECT_EQ(back->framerate, 30);
  EXPECT_EQ(back->video_kbps, 2500);
  EXPECT_EQ(back->audio_kbps, 128);
  EXPECT_EQ(back->encoder, "Lavf59.27.100");
}

TEST(FlvTest, MetadataAcceptsSetDataFramePrefixAndObject) {
  std::string body;
  amf0_append_string(body, "@setDataFrame");
  amf0_append_string(body, "onMetaData");
  amf0_append(body, Amf0Value::object({{"width", Amf0Value::number(640)}, {"height", Amf0Value::number(360)}}));
  const auto m = parse_metadata(body);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->width, 640u);
  EXPECT_EQ(m->height, 360u);
}

TEST(FlvTest, MetadataRefusesOtherScripts) {
  std::string body;
  amf0_append_string(body, "onCuePoint");
  amf0_append(body, Amf0Value::object());
  EXPECT_FALSE(parse_metadata(body).has_value());
  EXPECT_FALSE(parse_metadata("").has_value());
  EXPECT_FALSE(parse_metadata("\x02\x00").has_value());
}

TEST(FlvTest, MetadataIgnoresAbsurdNumbers) {
  std::string body;
  amf0_append_string(body, "onMetaData");
  amf0_append(body, Amf0Value::ecma_array({{"width", Amf0Value::number(-5)}, {"height", Amf0Value::number(1e30)}}));
  const auto m = parse_metadata(body);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->width, 0u);
  EXPECT_EQ(m->height, 0u);
}

struct SpsCase {
  const char* hex;
  uint32_t width, height;
  uint8_t profile;
  const char* codec;
};

TEST(FlvTest, AvcSequenceHeaderSizes) {
  const SpsCase cases[] = {
      {kAvc320x240Baseline, 320, 240, 66, "avc1.42c00d"},
      {kAvc1920x1080Cropped, 1920, 1080, 66, "avc1.42c028"},
      {kAvc642x362Cropped, 642, 362, 66, "avc1.42c01e"},
      {kAvc640x360HighScalingLists, 640, 360, 100, "avc1.64001e"},
      {kAvc1280x720Interlaced, 1280, 720, 100, "avc1.640020"},
      {kAvc322x242High444, 322, 242, 244, "avc1.f4000d"},
  };
  for (const auto& c : cases) {
    const auto cfg = parse_avc_sequence_header(unhex(c.hex));
    ASSERT_TRUE(cfg.has_value()) << c.codec;
    EXPECT_EQ(cfg->width, c.width) << c.codec;
    EXPECT_EQ(cfg->height, c.height) << c.codec;
    EXPECT_EQ(cfg->profile, c.profile);
    EXPECT_EQ(cfg->codec_string(), c.codec);
  }
}

TEST(FlvTest, AvcSequenceHeaderTruncatedIsNullopt) {
  const std::string full = unhex(kAvc640x360HighScalingLists);
  // The SPS ends at byte 13 + 26; every shorter prefix must fail cleanly.
  for (size_t n = 0; n < 13 + 26; ++n)
    EXPECT_FALSE(parse_avc_sequence_header(full.substr(0, n)).has_value()) << n;
}

TEST(FlvTest, AvcSequenceHeaderRejectsNonSps) {
  std::string body = unhex(kAvc320x240Baseline);
  body[13] = 0x68;  // a PPS NAL where the SPS should be
  EXPECT_FALSE(parse_avc_sequence_header(body).has_value());
  EXPECT_FALSE(parse_avc_sequence_header(unhex("1701000000")).has_value());  // NALUs, not a header
  EXPECT_FALSE(parse_avc_sequence_header(unhex("1200000000")).has_value());  // not AVC
}

TEST(FlvTest, AvcSpsWithEmulationPreventionBytes) {
  // The 1080p SPS carries 00 00 03 sequences; its size comes out right only if they are removed.
  const std::string body = unhex(kAvc1920x1080Cropped);
  EXPECT_NE(body.find(std::string("\x00\x00\x03", 3)), std::string::npos);
  EXPECT_EQ(parse_avc_sequence_header(body)->height, 1080u);
}

TEST(FlvTest, AacSequenceHeader) {
  const auto cfg = parse_aac_sequence_header(unhex(kAacLc44100Mono));
  ASSERT_TRUE(cfg.has_value());
  EXPECT_EQ(cfg->object_type, 2);
  EXPECT_EQ(cfg->sample_rate, 44100u);
  EXPECT_EQ(cfg->channels, 1);  // ffmpeg's sine source is mono
  EXPECT_EQ(cfg->codec_string(), "mp4a.40.2");
}

TEST(FlvTest, AacExplicitRateAndEscapedObjectType) {
  // object type 31 → 32 + 6 bits (5 → 37), rate index 15 → 24-bit explicit rate 22050, 1 channel.
  // bits: 11111 000101 1111 000000000101011000100010 0001 ...
  const auto cfg = parse_aac_sequence_header(unhex("af00f8be00ac4420"));
  ASSERT_TRUE(cfg.has_value());
  EXPECT_EQ(cfg->object_type, 37);
  EXPECT_EQ(cfg->sample_rate, 22050u);
  EXPECT_EQ(cfg->channels, 1);
}

TEST(FlvTest, AacRejectsBadInput) {
  EXPECT_FALSE(parse_aac_sequence_header(unhex("af0112")).has_value());
  EXPECT_FALSE(parse_aac_sequence_header(unhex("2f00120856e5")).has_value());
  EXPECT_FALSE(parse_aac_sequence_header(unhex("af0017")).has_value());
  EXPECT_FALSE(parse_aac_sequence_header(unhex("af0016f0")).has_value());  // rate index 13
}

}  // namespace
}  // namespace chiron::media
