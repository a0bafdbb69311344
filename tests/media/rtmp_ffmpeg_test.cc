// End to end against real ffmpeg/ffprobe (skipped when they are not installed): a minimal
// blocking loopback accept loop drives RtmpServerSession — ffmpeg publishes into it (also past
// the 24-bit timestamp boundary), and ffprobe plays from it. Each test is bounded (< 15 s).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <vector>

#include "media/flv.h"
#include "media/rtmp_session.h"

namespace chiron::media {
namespace {

bool have(const char* tool) { return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0; }

const char* kPattern =
    "-f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine=frequency=1000:sample_rate=44100 "
    "-c:v libx264 -preset ultrafast -tune zerolatency -g 50 -pix_fmt yuv420p -c:a aac -b:a 64k";

class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 1) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      ADD_FAILURE() << "cannot listen on 127.0.0.1:0";
    port_ = ntohs(a.sin_port);
  }
  ~Listener() { ::close(fd_); }
  int port() const { return port_; }
  // Accepts one connection within timeout_ms, or -1.
  int accept(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return -1;
    return ::accept(fd_, nullptr, nullptr);
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

bool write_all(int fd, std::string& out) {
  size_t off = 0;
  while (off < out.size()) {
    const ssize_t n = ::send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  out.clear();
  return true;
}

struct Recorder : RtmpSessionEvents {
  bool publish_pending = false;
  bool play_pending = false;
  std::string name;
  int unpublished = 0;
  std::vector<MediaPacket> media;
  void on_publish(std::string_view, std::string_view n) override { publish_pending = true, name = n; }
  void on_play(std::string_view, std::string_view n) override { play_pending = true, name = n; }
  void on_media(MediaPacket&& p) override { media.push_back(std::move(p)); }
  void on_unpublish() override { ++unpublished; }
};

// Serves one connection until the peer closes (or 12 s pass). `on_play` runs when a play is
// accepted and may append media to `out`.
Status serve(Listener& l, Recorder& rec, const std::function<void(RtmpServerSession&, std::string&)>& on_play = {}) {
  const int fd = l.accept(10000);
  if (fd < 0) return Status::deadline_exceeded("no connection");
  RtmpServerSession session({}, rec);
  std::string out;
  char buf[65536];
  Status st;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(12);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) != 1) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    st = session.feed(std::string_view(buf, static_cast<size_t>(n)), out);
    if (rec.publish_pending) {
      rec.publish_pending = false;
      session.accept_publish(out);
    }
    if (rec.play_pending) {
      rec.play_pending = false;
      session.accept_play(out);
      if (on_play) on_play(session, out);
    }
    if (!write_all(fd, out) || !st.ok()) break;
  }
  ::close(fd);
  return st;
}

void check_published(const Recorder& rec, int64_t min_dts) {
  ASSERT_GT(rec.media.size(), 50u);
  ASSERT_TRUE(rec.media[0].script());
  const auto meta = parse_metadata(rec.media[0].payload);
  ASSERT_TRUE(meta.has_value());
  EXPECT_EQ(meta->width, 320u);
  EXPECT_EQ(meta->height, 240u);
  bool avc = false, aac = false, first_frame_seen = false;
  int64_t last_video = -1;
  for (const auto& p : rec.media) {
    if (p.video() && p.sequence_header) {
      const auto cfg = parse_avc_sequence_header(p.payload);
      ASSERT_TRUE(cfg.has_value());
      EXPECT_EQ(cfg->width, 320u);
      EXPECT_EQ(cfg->height, 240u);
      avc = true;
    } else if (p.audio() && p.sequence_header) {
      const auto cfg = parse_aac_sequence_header(p.payload);
      ASSERT_TRUE(cfg.has_value());
      EXPECT_EQ(cfg->sample_rate, 44100u);
      aac = true;
    } else if (p.video()) {
      if (!first_frame_seen) {
        EXPECT_TRUE(p.keyframe) << "first video frame is not a keyframe";
      }
      first_frame_seen = true;
      EXPECT_GE(p.dts_ms, last_video) << "video dts went backwards";
      EXPECT_GE(p.dts_ms, min_dts);
      last_video = p.dts_ms;
    }
  }
  EXPECT_TRUE(avc);
  EXPECT_TRUE(aac);
  EXPECT_TRUE(first_frame_seen);
  EXPECT_EQ(rec.unpublished, 1);
}

std::future<int> run_async(std::string cmd) {
  return std::async(std::launch::async, [cmd] { return std::system(cmd.c_str()); });
}

TEST(RtmpFfmpegTest, FfmpegPublishes) {
  if (!have("ffmpeg")) GTEST_SKIP() << "ffmpeg not installed";
  Listener l;
  Recorder rec;
  auto ff = run_async("timeout -k 2 14 ffmpeg -hide_banner -nostdin -loglevel error " + std::string(kPattern) +
                      " -t 3 -f flv rtmp://127.0.0.1:" + std::to_string(l.port()) + "/live/key >/dev/null 2>&1");
  Status st = serve(l, rec);
  EXPECT_EQ(ff.get(), 0);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(rec.name, "key");
  check_published(rec, 0);
}

TEST(RtmpFfmpegTest, FfmpegPublishesPastThe24BitTimestamp) {
  if (!have("ffmpeg")) GTEST_SKIP() << "ffmpeg not installed";
  Listener l;
  Recorder rec;
  auto ff = run_async("timeout -k 2 14 ffmpeg -hide_banner -nostdin -loglevel error " + std::string(kPattern) +
                      " -t 3 -output_ts_offset 16776 -f flv rtmp://127.0.0.1:" + std::to_string(l.port()) +
                      "/live/key >/dev/null 2>&1");
  Status st = serve(l, rec);
  EXPECT_EQ(ff.get(), 0);
  ASSERT_TRUE(st.ok()) << st.to_string();
  check_published(rec, 16776000 - 100);
  EXPECT_GT(rec.media.back().dts_ms, 0xFFFFFF);  // crossed 16777.215 s
}

TEST(RtmpFfmpegTest, FfprobePlays) {
  if (!have("ffmpeg") || !have("ffprobe")) GTEST_SKIP() << "ffmpeg/ffprobe not installed";
  // Two seconds of the pattern as FLV, read back into packets.
  const std::string path = ::testing::TempDir() + "rtmp_ffprobe_src.flv";
  ASSERT_EQ(std::system(("timeout -k 2 14 ffmpeg -y -hide_banner -nostdin -loglevel error " + std::string(kPattern) +
                         " -t 2 -f flv " + path + " >/dev/null 2>&1").c_str()), 0);
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  std::vector<MediaPacket> packets;
  FlvReader reader;
  ASSERT_TRUE(reader.feed(ss.str(), [&](MediaPacket&& p) { packets.push_back(std::move(p)); }).ok());
  ASSERT_GT(packets.size(), 10u);

  Listener l;
  Recorder rec;
  const std::string out_path = ::testing::TempDir() + "rtmp_ffprobe_out.txt";
  auto probe = run_async("timeout -k 2 12 ffprobe -v error -show_entries stream=codec_name,width,height,sample_rate "
                         "-of compact rtmp://127.0.0.1:" + std::to_string(l.port()) + "/live/alice > " + out_path + " 2>&1");
  Status st = serve(l, rec, [&](RtmpServerSession& s, std::string& out) {
    for (const auto& p : packets) append_rtmp_media(out, p, RtmpSessionOptions{}.out_chunk_size, s.stream_id());
    s.end_play(out);
  });
  EXPECT_EQ(probe.get(), 0);
  EXPECT_EQ(rec.name, "alice");
  std::ifstream o(out_path);
  std::stringstream os;
  os << o.rdbuf();
  EXPECT_NE(os.str().find("codec_name=h264|width=320|height=240"), std::string::npos) << os.str();
  EXPECT_NE(os.str().find("codec_name=aac|sample_rate=44100"), std::string::npos) << os.str();
  EXPECT_EQ(os.str().find("data"), std::string::npos) << os.str();
}

}  // namespace
}  // namespace chiron::media
