// RtmpServerSession and RtmpClientSession wired together in memory (no sockets), plus the
// handshake variants and hostile input.

#include "media/rtmp_session.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "media/amf0.h"
#include "media/flv.h"
#include "media/rtmp_chunk.h"
#include "media/rtmp_handshake.h"

namespace chiron::media {
namespace {

struct ServerEvents : RtmpSessionEvents {
  std::string app, tc_url, publish_name, play_name;
  int unpublished = 0;
  std::vector<MediaPacket> media;
  void on_connect(std::string_view a, std::string_view t) override { app = a, tc_url = t; }
  void on_publish(std::string_view, std::string_view name) override { publish_name = name; }
  void on_play(std::string_view, std::string_view name) override { play_name = name; }
  void on_media(MediaPacket&& p) override { media.push_back(std::move(p)); }
  void on_unpublish() override { ++unpublished; }
};

struct ClientEvents : RtmpClientEvents {
  std::vector<std::string> statuses;  // "level code"
  std::vector<MediaPacket> media;
  void on_status(std::string_view level, std::string_view code, std::string_view) override {
    statuses.push_back(std::string(level) + " " + std::string(code));
  }
  void on_media(MediaPacket&& p) override { media.push_back(std::move(p)); }
};

// A client and a server joined by two in-memory byte queues. `step` splits every delivery.
struct Wire {
  explicit Wire(bool publish, size_t split = SIZE_MAX, RtmpSessionOptions server_options = {})
      : server(server_options, sev), client(make_options(publish), cev), step(split) {}
  static RtmpClientOptions make_options(bool publish) {
    RtmpClientOptions o;
    o.tc_url = "rtmp://127.0.0.1:1935/live";
    o.stream_name = publish ? "secret-key" : "alice";
    o.publish = publish;
    return o;
  }
  // Delivers queued bytes both ways until both sides are quiet.
  void pump() {
    for (int round = 0; round < 100 && (!c2s.empty() || !s2c.empty()); ++round) {
      std::string in = std::move(c2s);
      c2s.clear();
      for (size_t i = 0; i < in.size() && server_status.ok(); i += step)
        server_status = server.feed(std::string_view(in).substr(i, step), s2c);
      std::string back = std::move(s2c);
      s2c.clear();
      for (size_t i = 0; i < back.size() && client_status.ok(); i += step)
        client_status = client.feed(std::string_view(back).substr(i, step), c2s);
    }
  }
  void start() {
    client.start(c2s);
    pump();
  }
  ServerEvents sev;
  ClientEvents cev;
  RtmpServerSession server;
  RtmpClientSession client;
  size_t step;
  std::string c2s, s2c;
  Status server_status, client_status;
};

MediaPacket packet(PacketType type, int64_t dts, std::string payload) {
  MediaPacket p;
  p.type = type;
  p.dts_ms = dts;
  p.payload = std::move(payload);
  classify(p);
  return p;
}

std::vector<MediaPacket> sample_media(int64_t base) {
  std::vector<MediaPacket> v;
  v.push_back(packet(PacketType::kScript, base, encode_metadata({320, 240, 25, 300, 64, "test"})));
  v.push_back(packet(PacketType::kAudio, base, std::string("\xaf\x00\x12\x08", 4)));
  v.push_back(packet(PacketType::kVideo, base, std::string("\x17\x00\x00\x00\x00\x01\x42\xc0\x0d", 9)));
  std::string key("\x17\x01\x00\x00\x00", 5);
  key.append(9000, 'K');  // several chunks at any chunk size ≤ 4096
  v.push_back(packet(PacketType::kVideo, base, key));
  for (int i = 1; i <= 30; ++i) {
    v.push_back(packet(PacketType::kAudio, base + i * 23, std::string("\xaf\x01", 2) + std::string(100 + i, 'a')));
    if (i % 2 == 0) v.push_back(packet(PacketType::kVideo, base + i * 20, std::string("\x27\x01\x00\x00\x00", 5) + std::string(300 * i, 'v')));
  }
  return v;
}

TEST(RtmpSessionTest, PublishConversation) {
  for (size_t step : {size_t{1}, size_t{100}, SIZE_MAX}) {
    Wire w(true, step);
    w.start();
    ASSERT_TRUE(w.server_status.ok()) << w.server_status.to_string();
    ASSERT_TRUE(w.client_status.ok()) << w.client_status.to_string();
    EXPECT_TRUE(w.server.handshake_done());
    EXPECT_EQ(w.sev.app, "live");
    EXPECT_EQ(w.sev.tc_url, "rtmp://127.0.0.1:1935/live");
    EXPECT_EQ(w.sev.publish_name, "secret-key");
    EXPECT_FALSE(w.client.ready());
    w.server.accept_publish(w.s2c);
    w.pump();
    ASSERT_TRUE(w.client.ready());
    EXPECT_TRUE(w.server.publishing());
    EXPECT_EQ(w.cev.statuses.back(), "status NetStream.Publish.Start");

    const auto media = sample_media(0);
    for (const auto& p : media) w.client.send_media(p, w.c2s);
    w.pump();
    ASSERT_TRUE(w.server_status.ok()) << w.server_status.to_string();
    ASSERT_EQ(w.sev.media.size(), media.size());
    for (size_t i = 0; i < media.size(); ++i) {
      EXPECT_EQ(w.sev.media[i].payload, media[i].payload) << i;  // "@setDataFrame" stripped again
      EXPECT_EQ(w.sev.media[i].dts_ms, media[i].dts_ms) << i;
      EXPECT_EQ(w.sev.media[i].type, media[i].type);
      EXPECT_EQ(w.sev.media[i].keyframe, media[i].keyframe);
      EXPECT_EQ(w.sev.media[i].sequence_header, media[i].sequence_header);
    }
    EXPECT_TRUE(parse_metadata(w.sev.media[0].payload).has_value());

    w.client.stop(w.c2s);
    w.pump();
    EXPECT_EQ(w.sev.unpublished, 1);
    EXPECT_FALSE(w.server.publishing());
    EXPECT_EQ(w.cev.statuses.back(), "status NetStream.Unpublish.Success");
    EXPECT_GT(w.server.bytes_received(), 3073u);
  }
}

TEST(RtmpSessionTest, MediaBeforeAcceptIsDropped) {
  Wire w(true);
  w.start();
  // The client is not ready, so inject a media message directly on stream 1.
  std::string raw;
  rtmp::append_message(raw, rtmp::kAudioCsid, rtmp::kAudio, 1, 0, "\xaf\x01x", 128);
  w.c2s += raw;
  w.pump();
  EXPECT_TRUE(w.sev.media.empty());
  EXPECT_TRUE(w.server_status.ok());
}

TEST(RtmpSessionTest, RefusedPublish) {
  Wire w(true);
  w.start();
  w.server.refuse_publish("NetStream.Publish.BadName", "wrong stream key", w.s2c);
  w.pump();
  EXPECT_FALSE(w.client.ready());
  EXPECT_FALSE(w.server.publishing());
  ASSERT_FALSE(w.cev.statuses.empty());
  EXPECT_EQ(w.cev.statuses.back(), "error NetStream.Publish.BadName");
}

TEST(RtmpSessionTest, PlayConversation) {
  Wire w(false, 7);
  w.start();
  EXPECT_EQ(w.sev.play_name, "alice");
  w.server.accept_play(w.s2c);
  w.pump();
  ASSERT_TRUE(w.client.ready());
  EXPECT_TRUE(w.server.playing());
  ASSERT_GE(w.cev.statuses.size(), 2u);
  EXPECT_EQ(w.cev.statuses[w.cev.statuses.size() - 2], "status NetStream.Play.Reset");
  EXPECT_EQ(w.cev.statuses.back(), "status NetStream.Play.Start");
  // The server side sends what append_rtmp_media builds, once per packet, at its chunk size.
  const auto media = sample_media(0xFFFFFFFFLL - 200);  // crosses the 32-bit wrap too
  for (const auto& p : media) append_rtmp_media(w.s2c, p, RtmpSessionOptions{}.out_chunk_size, w.server.stream_id());
  w.pump();
  ASSERT_TRUE(w.client_status.ok()) << w.client_status.to_string();
  ASSERT_EQ(w.cev.media.size(), media.size());
  for (size_t i = 0; i < media.size(); ++i) {
    EXPECT_EQ(w.cev.media[i].payload, media[i].payload) << i;
    EXPECT_EQ(w.cev.media[i].dts_ms, media[i].dts_ms) << i;
  }
  w.server.end_play(w.s2c);
  w.pump();
  EXPECT_EQ(w.cev.statuses.back(), "status NetStream.Play.UnpublishNotify");
  EXPECT_FALSE(w.server.playing());
}

TEST(RtmpSessionTest, RefusedPlay) {
  Wire w(false);
  w.start();
  w.server.refuse_play("NetStream.Play.StreamNotFound", "offline", w.s2c);
  w.pump();
  EXPECT_FALSE(w.client.ready());
  EXPECT_EQ(w.cev.statuses.back(), "error NetStream.Play.StreamNotFound");
}

TEST(RtmpSessionTest, PublishTimestampsCross24And32BitBoundaries) {
  Wire w(true, 333);
  w.start();
  w.server.accept_publish(w.s2c);
  w.pump();
  std::vector<int64_t> sent;
  for (int64_t t = 0xFFFFFF - 100; t < 0xFFFFFF + 100; t += 20) sent.push_back(t);
  for (int64_t t = 0xFFFFFFFFLL - 100; t < 0xFFFFFFFFLL + 100; t += 20) sent.push_back(t);
  for (int64_t t : sent) w.client.send_media(packet(PacketType::kVideo, t, std::string("\x27\x01\x00\x00\x00", 5) + std::string(500, 'x')), w.c2s);
  w.pump();
  ASSERT_EQ(w.sev.media.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(w.sev.media[i].dts_ms, sent[i]) << i;
}

// The server's bytes after S0+S1+S2, as messages.
std::vector<rtmp::Message> server_messages(std::string_view out) {
  rtmp::ChunkReader r;
  std::vector<rtmp::Message> got;
  Status st = r.feed(out, [&](rtmp::Message&& m) {
    if (m.type == rtmp::kSetChunkSize) r.set_chunk_size(rtmp::read_be32(m.payload, 0));
    got.push_back(std::move(m));
    return Status();
  });
  EXPECT_TRUE(st.ok()) << st.to_string();
  return got;
}

std::string connect_message() {
  std::string body;
  amf0_append_string(body, "connect");
  amf0_append_number(body, 1);
  amf0_append(body, Amf0Value::object({{"app", Amf0Value::string("live")}, {"tcUrl", Amf0Value::string("rtmp://h/live")}}));
  std::string out;
  rtmp::append_message(out, rtmp::kCommandCsid, rtmp::kCommandAmf0, 0, 0, body, 128);
  return out;
}

std::string c0c1c2() {
  std::string s(1 + 2 * 1536, '\x01');
  s[0] = 3;
  std::memset(s.data() + 1, 0, 8);
  return s;
}

TEST(RtmpSessionTest, ControlMessagesPrecedeTheConnectResult) {
  ServerEvents ev;
  RtmpServerSession s({}, ev);
  std::string out;
  ASSERT_TRUE(s.feed(c0c1c2() + connect_message(), out).ok());
  ASSERT_GT(out.size(), 3073u);
  const auto msgs = server_messages(std::string_view(out).substr(3073));
  ASSERT_GE(msgs.size(), 5u);
  EXPECT_EQ(msgs[0].type, rtmp::kWindowAckSize);
  EXPECT_EQ(rtmp::read_be32(msgs[0].payload, 0), 2'500'000u);
  EXPECT_EQ(msgs[1].type, rtmp::kSetPeerBandwidth);
  EXPECT_EQ(msgs[1].payload[4], 2);  // dynamic
  EXPECT_EQ(msgs[2].type, rtmp::kSetChunkSize);
  EXPECT_EQ(rtmp::read_be32(msgs[2].payload, 0), 4096u);
  EXPECT_EQ(msgs[3].type, rtmp::kCommandAmf0);
  Amf0Reader r(msgs[3].payload);
  std::vector<Amf0Value> values;
  ASSERT_TRUE(r.read_all(values).ok());
  ASSERT_EQ(values.size(), 4u);
  EXPECT_EQ(values[0].as_string(), "_result");
  EXPECT_EQ(values[1].as_number(), 1);
  EXPECT_EQ(values[3].find("code")->as_string(), "NetConnection.Connect.Success");
}

TEST(RtmpSessionTest, SimpleHandshakeHasZeroVersionAndEchoesC1) {
  ServerEvents ev;
  RtmpServerSession s({}, ev);
  std::string in = c0c1c2();
  std::string out;
  for (size_t i = 0; i < 1537; ++i) ASSERT_TRUE(s.feed(std::string_view(in).substr(i, 1), out).ok());
  ASSERT_EQ(out.size(), 3073u);
  EXPECT_EQ(out[0], 3);
  EXPECT_EQ(out.substr(5, 4), std::string(4, '\0'));
  EXPECT_EQ(out.substr(1537), in.substr(1, 1536));
  EXPECT_FALSE(s.handshake_done());
  ASSERT_TRUE(s.feed(std::string_view(in).substr(1537), out).ok());
  EXPECT_TRUE(s.handshake_done());
}

std::string signed_c1(int schema) {
  std::string c1(1536, '\0');
  for (size_t i = 0; i < c1.size(); ++i) c1[i] = static_cast<char>(i * 37 + 11);
  const char version[4] = {9, 0, 124, 2};
  std::memcpy(c1.data() + 4, version, 4);
  rtmp::sign_block(c1, schema, rtmp::flash_player_key().substr(0, 30));
  return c1;
}

TEST(RtmpSessionTest, DigestHandshakeWhenC1CarriesAValidDigest) {
  for (int schema : {0, 1}) {
    const std::string c1 = signed_c1(schema);
    ASSERT_EQ(rtmp::find_valid_digest(c1, rtmp::flash_player_key().substr(0, 30)), schema);
    ServerEvents ev;
    RtmpServerSession s({}, ev);
    std::string out;
    ASSERT_TRUE(s.feed(std::string(1, '\x03') + c1, out).ok());
    ASSERT_EQ(out.size(), 3073u);
    const std::string s1 = out.substr(1, 1536);
    const std::string s2 = out.substr(1537);
    EXPECT_NE(s1[4], 0);  // a version: the client will check digests
    EXPECT_EQ(rtmp::find_valid_digest(s1, rtmp::flash_media_server_key().substr(0, 36)), schema);
    // S2's digest: HMAC(HMAC(FMS key, C1 digest), S2 minus its last 32 bytes).
    const std::string c1_digest = c1.substr(rtmp::digest_offset(c1, schema), 32);
    const std::string key = rtmp::hmac_sha256(rtmp::flash_media_server_key(), c1_digest);
    EXPECT_EQ(rtmp::hmac_sha256(key, s2.substr(0, 1504)), s2.substr(1504));
  }
}

TEST(RtmpSessionTest, InvalidDigestFallsBackToSimple) {
  std::string c1 = signed_c1(0);
  c1[rtmp::digest_offset(c1, 0)] ^= 0x55;
  ServerEvents ev;
  RtmpServerSession s({}, ev);
  std::string out;
  ASSERT_TRUE(s.feed(std::string(1, '\x03') + c1, out).ok());
  EXPECT_EQ(out.substr(5, 4), std::string(4, '\0'));
  EXPECT_EQ(out.substr(1537), c1);
}

TEST(RtmpSessionTest, WrongVersionIsAnError) {
  ServerEvents ev;
  RtmpServerSession s({}, ev);
  std::string out;
  EXPECT_EQ(s.feed("\x06", out).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(s.feed(c0c1c2(), out).ok());  // stays failed
}

TEST(RtmpSessionTest, PingIsAnswered) {
  ServerEvents ev;
  RtmpServerSession s({}, ev);
  std::string out;
  ASSERT_TRUE(s.feed(c0c1c2(), out).ok());
  out.clear();
  std::string ping;
  rtmp::append_user_control(ping, rtmp::kPingRequest, 4242, 128);
  ASSERT_TRUE(s.feed(ping, out).ok());
  const auto msgs = server_messages(out);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type, rtmp::kUserControl);
  EXPECT_EQ(msgs[0].payload, std::string("\x00\x07\x00\x00\x10\x92", 6));
}

TEST(RtmpSessionTest, AcknowledgesHalfThePeersWindow) {
  ServerEvents ev;
  RtmpServerSession s({}, ev);
  std::string out;
  std::string in = c0c1c2();
  rtmp::append_window_ack_size(in, 10000, 128);
  ASSERT_TRUE(s.feed(in, out).ok());
  out.clear();
  std::string junk;  // unknown message type 0x30, ignored
  rtmp::append_message(junk, 7, 0x30, 0, 0, std::string(6000, 'j'), 128);
  ASSERT_TRUE(s.feed(junk, out).ok());
  const auto msgs = server_messages(out);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type, rtmp::kAcknowledgement);
  EXPECT_EQ(rtmp::read_be32(msgs[0].payload, 0), s.bytes_received());
}

Status feed_after_handshake(std::string_view bytes, RtmpSessionOptions options = {}) {
  ServerEvents ev;
  RtmpServerSession s(options, ev);
  std::string out;
  CHIRON_RETURN_IF_ERROR(s.feed(c0c1c2(), out));
  return s.feed(bytes, out);
}

TEST(RtmpSessionTest, BadChunkSizesAreErrors) {
  std::string zero, huge, ok;
  rtmp::append_message(zero, 2, rtmp::kSetChunkSize, 0, 0, std::string(4, '\0'), 128);
  rtmp::append_message(huge, 2, rtmp::kSetChunkSize, 0, 0, std::string("\x7f\xff\xff\xff", 4), 128);
  rtmp::append_set_chunk_size(ok, 65536, 128);
  EXPECT_FALSE(feed_after_handshake(zero).ok());
  EXPECT_EQ(feed_after_handshake(huge).code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(feed_after_handshake(ok).ok());
}

TEST(RtmpSessionTest, OversizedMessageIsAnError) {
  std::string big;
  rtmp::append_message(big, 6, rtmp::kVideo, 1, 0, std::string(2000, 'v'), 128);
  RtmpSessionOptions o;
  o.max_message_bytes = 1000;
  EXPECT_EQ(feed_after_handshake(big, o).code(), StatusCode::kResourceExhausted);
}

TEST(RtmpSessionTest, BeforeAPublishIsAcceptedMessagesAreSmall) {
  std::string big;  // 300 KB: fine for a keyframe, not for a peer that has not even connected
  rtmp::append_message(big, 6, rtmp::kVideo, 1, 0, std::string(300'000, 'v'), 128);
  EXPECT_EQ(feed_after_handshake(big).code(), StatusCode::kResourceExhausted);
}

TEST(RtmpSessionTest, MalformedCommandIsAnError) {
  std::string bad;
  rtmp::append_message(bad, 3, rtmp::kCommandAmf0, 0, 0, "\x02\x00\x07" "conn", 128);
  EXPECT_FALSE(feed_after_handshake(bad).ok());
  std::string before;  // a publish before connect
  std::string body;
  amf0_append_string(body, "publish");
  amf0_append_number(body, 5);
  rtmp::append_message(before, 3, rtmp::kCommandAmf0, 0, 0, body, 128);
  EXPECT_FALSE(feed_after_handshake(before).ok());
}

TEST(RtmpSessionTest, UnknownCallsGetANullResult) {
  ServerEvents ev;
  RtmpServerSession s({}, ev);
  std::string out;
  ASSERT_TRUE(s.feed(c0c1c2() + connect_message(), out).ok());
  out.clear();
  std::string body;
  amf0_append_string(body, "getStreamLength");
  amf0_append_number(body, 7);
  amf0_append_null(body);
  amf0_append_string(body, "x");
  std::string msg;
  rtmp::append_message(msg, 3, rtmp::kCommandAmf0, 0, 0, body, 128);
  ASSERT_TRUE(s.feed(msg, out).ok());
  rtmp::ChunkReader r;
  r.set_chunk_size(4096);
  std::vector<rtmp::Message> got;
  ASSERT_TRUE(r.feed(out, [&](rtmp::Message&& m) { got.push_back(std::move(m)); return Status(); }).ok());
  ASSERT_EQ(got.size(), 1u);
  Amf0Reader ar(got[0].payload);
  std::vector<Amf0Value> v;
  ASSERT_TRUE(ar.read_all(v).ok());
  EXPECT_EQ(v[0].as_string(), "_result");
  EXPECT_EQ(v[1].as_number(), 7);
}

TEST(RtmpSessionTest, AppendRtmpMediaRepeatsExtendedTimestamp) {
  MediaPacket p = packet(PacketType::kVideo, 0x1'2345'6789LL, std::string(300, 'v'));
  std::string out;
  append_rtmp_media(out, p, 128, 1);
  // fmt 0 on csid 6, timestamp field 0xFFFFFF, extended 0x23456789 (low 32 bits) on every chunk.
  EXPECT_EQ(static_cast<uint8_t>(out[0]), rtmp::kVideoCsid);
  EXPECT_EQ(out.substr(1, 3), "\xff\xff\xff");
  EXPECT_EQ(out.substr(12, 4), "\x23\x45\x67\x89");
  EXPECT_EQ(static_cast<uint8_t>(out[16 + 128]), 0xC0 | rtmp::kVideoCsid);
  EXPECT_EQ(out.substr(16 + 128 + 1, 4), "\x23\x45\x67\x89");
  EXPECT_EQ(out.size(), rtmp::message_bytes(rtmp::kVideoCsid, 0x23456789, 300, 128));
}

}  // namespace
}  // namespace chiron::media
