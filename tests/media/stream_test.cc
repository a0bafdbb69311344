// Stream (caches and fan-out) and the viewer policy of MediaConnection, on real io_contexts and
// socket pairs — no RTMP, no HTTP.

#include "media/stream.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <thread>

#include "media/media_connection.h"

namespace chiron::media {
namespace {

namespace asio = boost::asio;

MediaPacket video(int64_t dts, bool key, size_t size = 100) {
  MediaPacket p;
  p.type = PacketType::kVideo;
  p.dts_ms = dts;
  p.payload = std::string(1, static_cast<char>(key ? 0x17 : 0x27)) + std::string("\x01\x00\x00\x00", 4) + std::string(size, 'v');
  classify(p);
  return p;
}
MediaPacket audio(int64_t dts) {
  MediaPacket p;
  p.type = PacketType::kAudio;
  p.dts_ms = dts;
  p.payload = std::string("\xaf\x01", 2) + std::string(20, 'a');
  classify(p);
  return p;
}
MediaPacket avc_header() {
  MediaPacket p;
  p.type = PacketType::kVideo;
  p.payload = std::string("\x17\x00\x00\x00\x00\x01\x42\xc0\x0d\xff\xe0\x00", 12);
  classify(p);
  return p;
}
MediaPacket aac_header() {
  MediaPacket p;
  p.type = PacketType::kAudio;
  p.payload = std::string("\xaf\x00\x12\x10", 4);
  classify(p);
  return p;
}
MediaPacket metadata(uint32_t w, uint32_t h) {
  StreamMetadata m;
  m.width = w;
  m.height = h;
  m.framerate = 25;
  MediaPacket p;
  p.type = PacketType::kScript;
  p.payload = encode_metadata(m);
  return p;
}

struct Recorded {
  uint64_t seq;
  PacketType type;
  bool key;
  bool header;
  int64_t dts;
};

class FakeViewer final : public Viewer {
 public:
  void deliver(const PacketPtr& p) override {
    got.push_back({p->seq(), p->packet().type, p->packet().keyframe, p->packet().sequence_header, p->packet().dts_ms});
  }
  void end_of_stream() override { ended = true; }
  void flush() override { ++flushes; }
  std::vector<Recorded> got;
  int flushes = 0;
  bool ended = false;
};

// Runs what was posted to ctx so far.
void drain(asio::io_context& ctx) {
  ctx.restart();
  ctx.poll();
}

class StreamTest : public ::testing::Test {
 protected:
  StreamTest() {
    options.merge_write_ms = 0;       // deliveries as soon as ctx runs (one test turns merging on)
    options.viewer_sndbuf_bytes = 0;  // the socket-pair tests set their own small buffers
  }
  MediaOptions options;
  asio::io_context ctx;
  std::shared_ptr<Stream> make() { return std::make_shared<Stream>(PublishGrant{1, "alice", false}, options, 0, false); }
  // meta, headers, then 3 GOPs of 1 s at 25 fps (+ audio), keyframes at 0, 1000, 2000.
  void publish_gops(Stream& s, int gops = 3) {
    s.publish(metadata(640, 360));
    s.publish(aac_header());
    s.publish(avc_header());
    for (int i = 0; i < gops * 25; ++i) {
      s.publish(video(i * 40, i % 25 == 0));
      s.publish(audio(i * 40 + 5));
    }
  }
};

TEST_F(StreamTest, LateJoinerGetsHeadersThenTheLastGopThenLivePackets) {
  auto s = make();
  publish_gops(*s);
  auto v = std::make_shared<FakeViewer>();
  ASSERT_TRUE(s->subscribe(ctx, v));
  ASSERT_GE(v->got.size(), 4u);
  EXPECT_EQ(v->got[0].type, PacketType::kScript);
  EXPECT_TRUE(v->got[1].header && v->got[1].type == PacketType::kAudio);
  EXPECT_TRUE(v->got[2].header && v->got[2].type == PacketType::kVideo);
  EXPECT_TRUE(v->got[3].key);
  EXPECT_EQ(v->got[3].dts, 2000) << "the GOP starts at the last keyframe";
  EXPECT_EQ(v->got.size(), 3u + 50u) << "25 frames + 25 audio packets since the last keyframe";
  const size_t before = v->got.size();
  s->publish(video(3000, true));
  drain(ctx);
  ASSERT_EQ(v->got.size(), before + 1);
  EXPECT_EQ(v->got.back().dts, 3000);
  // Sequence numbers only grow: nothing twice, nothing lost.
  for (size_t i = 4; i < v->got.size(); ++i) EXPECT_EQ(v->got[i].seq, v->got[i - 1].seq + 1);
  EXPECT_EQ(s->viewers(), 1u);
}

TEST_F(StreamTest, PacketsPostedBeforeTheSubscriptionAreNotDeliveredTwice) {
  auto s = make();
  auto early = std::make_shared<FakeViewer>();
  ASSERT_TRUE(s->subscribe(ctx, early));  // the group for ctx exists: publishes are posted to it
  publish_gops(*s, 1);                   // posted, not yet run
  auto late = std::make_shared<FakeViewer>();
  ASSERT_TRUE(s->subscribe(ctx, late));   // gets them in its snapshot ...
  drain(ctx);                            // ... and must skip the posted copies
  std::set<uint64_t> seen;
  for (const auto& r : late->got) EXPECT_TRUE(seen.insert(r.seq).second) << "seq " << r.seq << " twice";
  EXPECT_EQ(early->got.size(), 3u + 50u);
}

TEST_F(StreamTest, WithoutGopCacheAJoinerGetsOnlyHeadersUntilTheNextKeyframe) {
  options.gop_cache = false;
  auto s = make();
  publish_gops(*s);
  auto v = std::make_shared<FakeViewer>();
  ASSERT_TRUE(s->subscribe(ctx, v));
  EXPECT_EQ(v->got.size(), 3u);
}

TEST_F(StreamTest, TheGopCacheIsBoundedAndNeverHoldsAPartialGop) {
  options.gop_cache_max_bytes = 1000;  // smaller than one GOP of 100-byte frames
  auto s = make();
  publish_gops(*s);
  auto v = std::make_shared<FakeViewer>();
  ASSERT_TRUE(s->subscribe(ctx, v));
  ASSERT_GE(v->got.size(), 3u);
  for (size_t i = 3; i < v->got.size(); ++i) ADD_FAILURE() << "a partial GOP was cached (dts " << v->got[i].dts << ")";
}

TEST_F(StreamTest, EndTellsEveryViewerAndRefusesNewOnes) {
  auto s = make();
  publish_gops(*s, 1);
  auto v = std::make_shared<FakeViewer>();
  ASSERT_TRUE(s->subscribe(ctx, v));
  s->end();
  drain(ctx);
  EXPECT_TRUE(v->ended);
  EXPECT_EQ(s->viewers(), 0u);
  EXPECT_FALSE(s->subscribe(ctx, std::make_shared<FakeViewer>()));
  const size_t n = v->got.size();
  s->publish(video(5000, true));
  drain(ctx);
  EXPECT_EQ(v->got.size(), n) << "nothing after the end";
}

TEST_F(StreamTest, ViewersOnSeveralThreadsEachGetEveryPacketInOrder) {
  asio::io_context other;  // outlives the stream, whose viewer group on it owns a timer
  auto s = make();
  auto a = std::make_shared<FakeViewer>();
  auto b = std::make_shared<FakeViewer>();
  ASSERT_TRUE(s->subscribe(ctx, a));
  ASSERT_TRUE(s->subscribe(other, b));
  std::thread publisher([&] { publish_gops(*s, 4); });
  publisher.join();
  drain(ctx);
  drain(other);
  ASSERT_EQ(a->got.size(), 3u + 200u);
  ASSERT_EQ(b->got.size(), a->got.size());
  for (size_t i = 0; i < a->got.size(); ++i) EXPECT_EQ(a->got[i].seq, b->got[i].seq);
  s->unsubscribe(other, b.get());
  EXPECT_EQ(s->viewers(), 1u);
}

TEST_F(StreamTest, MergedWritesHandABatchToEachViewerOnce) {
  options.merge_write_ms = 50;
  auto s = make();
  auto v = std::make_shared<FakeViewer>();
  ASSERT_TRUE(s->subscribe(ctx, v));
  const int flushes_at_start = v->flushes;
  publish_gops(*s, 1);
  drain(ctx);  // the batch waits for its timer
  EXPECT_EQ(v->got.size(), 0u);
  ctx.restart();
  ctx.run_for(std::chrono::milliseconds(200));
  EXPECT_EQ(v->got.size(), 3u + 50u);
  EXPECT_EQ(v->flushes - flushes_at_start, 1) << "one write for the whole batch";
  s->end();
  drain(ctx);
  EXPECT_TRUE(v->ended);
}

TEST_F(StreamTest, StateComesFromTheStreamAndWarnsAboutLongKeyframeIntervals) {
  auto s = make();
  s->publish(metadata(640, 360));
  s->publish(aac_header());
  s->publish(avc_header());
  for (int i = 0; i < 250; ++i) s->publish(video(i * 40, i % 150 == 0));  // keyframes every 6 s
  for (int i = 250; i < 400; ++i) s->publish(video(i * 40, i % 150 == 0));
  StreamState st = s->state();
  EXPECT_TRUE(st.live);
  EXPECT_EQ(st.width, 640u) << "from onMetaData (the test's SPS is not parseable)";
  EXPECT_EQ(st.height, 360u);
  EXPECT_NEAR(st.fps, 25, 0.5);
  EXPECT_NEAR(st.keyframe_interval_s, 6, 0.01);
  EXPECT_EQ(st.audio_codec, "mp4a.40.2");
  bool warned = false;
  for (const auto& h : st.health) warned |= h.code == "keyframe_interval" && h.level == "warn";
  EXPECT_TRUE(warned);
  s->end();
  EXPECT_FALSE(s->state().live);
}

// --- the viewer policy, over a real socket whose peer reads slowly or not at all

struct SocketPair {
  SocketPair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0); }
  ~SocketPair() {
    if (fds[1] >= 0) ::close(fds[1]);
  }
  int fds[2] = {-1, -1};
};

TEST_F(StreamTest, AViewerThatFallsBehindSkipsToTheNextKeyframe) {
  options.viewer_queue_bytes = 64 * 1024;
  options.viewer_stall_ms = 60'000;
  auto s = make();
  SocketPair sp;
  int small = 4096;
  ::setsockopt(sp.fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  ::setsockopt(sp.fds[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  // MediaConnection wants a TCP socket type; a stream socketpair behaves the same for writes.
  asio::ip::tcp::socket sock(ctx);
  boost::system::error_code ec;
  sock.assign(asio::ip::tcp::v4(), sp.fds[0], ec);
  ASSERT_FALSE(ec);
  auto viewer = std::make_shared<FlvViewer>(ctx, std::move(sock), options, s, /*chunked=*/false);
  viewer->start();
  s->publish(metadata(640, 360));
  s->publish(aac_header());
  s->publish(avc_header());
  // 4 GOPs of 25 frames of 2 KiB and a last keyframe, nobody reading: more than the socket
  // buffers + the queue.
  for (int i = 0; i <= 100; ++i) {
    s->publish(video(i * 40, i % 25 == 0, 2048));
    drain(ctx);
  }
  EXPECT_GT(viewer->skips(), 0u) << "the viewer fell behind and skipped";
  EXPECT_FALSE(viewer->closed());
  // Now read everything: after each gap in the timestamps the first video frame is a keyframe.
  s->end();
  std::string bytes;
  for (int rounds = 0; rounds < 2000 && !viewer->closed(); ++rounds) {
    drain(ctx);
    char buf[65536];
    ssize_t n = ::recv(sp.fds[1], buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) bytes.append(buf, static_cast<size_t>(n));
  }
  for (;;) {
    char buf[65536];
    ssize_t n = ::recv(sp.fds[1], buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) break;
    bytes.append(buf, static_cast<size_t>(n));
  }
  FlvReader reader;
  std::vector<MediaPacket> got;
  ASSERT_TRUE(reader.feed(bytes, [&](MediaPacket&& p) { got.push_back(std::move(p)); }).ok());
  int64_t last = -1;
  int gaps = 0;
  for (const auto& p : got) {
    if (!p.video() || p.sequence_header) continue;
    if (last >= 0 && p.dts_ms - last > 40) {
      ++gaps;
      EXPECT_TRUE(p.keyframe) << "resumed at dts " << p.dts_ms << " with a non-keyframe";
    }
    last = p.dts_ms;
  }
  EXPECT_GT(gaps, 0);
  EXPECT_EQ(last, 100 * 40) << "the last keyframe arrives";
}

TEST_F(StreamTest, AViewerLaggingMoreThanMaxLagSkipsEvenWithRoomInItsQueue) {
  options.viewer_queue_bytes = 64u << 20;  // bytes never trigger it here ...
  options.viewer_max_lag_ms = 200;         // ... but a frame waiting 200 ms in the queue does
  auto s = make();
  SocketPair sp;
  int small = 4096;
  ::setsockopt(sp.fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  asio::ip::tcp::socket sock(ctx);
  boost::system::error_code ec;
  sock.assign(asio::ip::tcp::v4(), sp.fds[0], ec);
  ASSERT_FALSE(ec);
  auto viewer = std::make_shared<FlvViewer>(ctx, std::move(sock), options, s, true);
  viewer->start();
  s->publish(metadata(640, 360));
  s->publish(aac_header());
  s->publish(avc_header());
  for (int i = 0; i < 100; ++i) {  // 2 KiB frames for at least 1 s of wall time, nobody reading
    s->publish(video(i * 40, i % 25 == 0, 2048));
    drain(ctx);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(viewer->skips(), 2u);
  EXPECT_FALSE(viewer->closed());
  viewer->close();  // the stream holds its viewers and a viewer its stream, until one of them ends
  s->end();
  drain(ctx);
}

TEST_F(StreamTest, AViewerThatNeverReadsIsDisconnected) {
  options.viewer_queue_bytes = 16 * 1024;
  auto s = make();
  SocketPair sp;
  int small = 4096;
  ::setsockopt(sp.fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  asio::ip::tcp::socket sock(ctx);
  boost::system::error_code ec;
  sock.assign(asio::ip::tcp::v4(), sp.fds[0], ec);
  ASSERT_FALSE(ec);
  auto viewer = std::make_shared<FlvViewer>(ctx, std::move(sock), options, s, true);
  viewer->start();
  auto healthy = std::make_shared<FakeViewer>();
  ASSERT_TRUE(s->subscribe(ctx, healthy));
  s->publish(metadata(640, 360));
  s->publish(aac_header());
  s->publish(avc_header());
  // 12 GOPs of 2 KiB frames: each GOP overflows the 16 KiB queue, so every GOP is a skip.
  for (int i = 0; i < 300; ++i) {
    s->publish(video(i * 40, i % 25 == 0, 2048));
    drain(ctx);
  }
  EXPECT_TRUE(viewer->closed()) << "skipped " << viewer->skips() << " times";
  EXPECT_EQ(s->viewers(), 1u) << "only the healthy viewer is left";
  EXPECT_EQ(healthy->got.size(), 3u + 300u) << "the others lost nothing";
}

}  // namespace
}  // namespace chiron::media
