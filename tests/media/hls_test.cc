// HlsSegmenter on real H.264/AAC from ffmpeg (an FLV file generated once per run, read with a
// minimal tag walker), checked with ffprobe; plus hostile and synthetic input.

#include "media/hls.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "media/ts_muxer.h"

namespace chiron::media {
namespace {

namespace fs = std::filesystem;

std::string run(const std::string& cmd) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  pclose(f);
  return out;
}

bool have_ffmpeg() { return std::system("command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1") == 0; }

// FLV tags → MediaPackets (Adobe FLV v10.1 annex E; no wrap-around in a short test file).
std::vector<MediaPacket> read_flv(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string d((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<MediaPacket> out;
  if (d.size() < 13 || d.compare(0, 3, "FLV") != 0) return out;
  auto u8 = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(d[i])); };
  size_t pos = 13;
  while (pos + 11 <= d.size()) {
    const uint32_t type = u8(pos);
    const size_t size = (u8(pos + 1) << 16) | (u8(pos + 2) << 8) | u8(pos + 3);
    const int64_t ts = (u8(pos + 7) << 24) | (u8(pos + 4) << 16) | (u8(pos + 5) << 8) | u8(pos + 6);
    if (pos + 11 + size + 4 > d.size()) break;
    if (type == 8 || type == 9 || type == 18) {
      MediaPacket p;
      p.type = static_cast<PacketType>(type);
      p.dts_ms = ts;
      p.payload = d.substr(pos + 11, size);
      classify(p);
      out.push_back(std::move(p));
    }
    pos += 11 + size + 4;
  }
  return out;
}

std::vector<MediaPacket> only(const std::vector<MediaPacket>& in, PacketType type) {
  std::vector<MediaPacket> out;
  for (const auto& p : in)
    if (p.type == type) out.push_back(p);
  return out;
}

struct Playlist {
  int target = -1;
  int64_t media_sequence = -1;
  std::vector<double> extinf;
  std::vector<uint64_t> uris;       // segment sequence numbers
  std::vector<bool> discontinuity;  // per segment
  bool ended = false;
};

Playlist parse_playlist(const std::optional<std::string>& text) {
  Playlist pl;
  std::istringstream in(text.value_or(""));
  std::string line;
  bool disc = false;
  while (std::getline(in, line)) {
    if (line.rfind("#EXT-X-TARGETDURATION:", 0) == 0) pl.target = std::stoi(line.substr(22));
    else if (line.rfind("#EXT-X-MEDIA-SEQUENCE:", 0) == 0) pl.media_sequence = std::stoll(line.substr(22));
    else if (line == "#EXT-X-DISCONTINUITY") disc = true;
    else if (line.rfind("#EXTINF:", 0) == 0) pl.extinf.push_back(std::stod(line.substr(8)));
    else if (line == "#EXT-X-ENDLIST") pl.ended = true;
    else if (!line.empty() && line[0] != '#') {
      const size_t slash = line.rfind('/');
      pl.uris.push_back(std::stoull(line.substr(slash == std::string::npos ? 0 : slash + 1)));
      pl.discontinuity.push_back(disc);
      disc = false;
    }
  }
  return pl;
}

class HlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!have_ffmpeg()) return;
    char tmpl[] = "/tmp/chiron-hls-XXXXXX";
    if (!mkdtemp(tmpl)) return;
    dir_ = new fs::path(tmpl);
    auto generate = [](const std::string& size, int seconds, const fs::path& out) {
      const std::string cmd = "timeout -k 2 30 ffmpeg -v error -y -f lavfi -i testsrc2=size=" + size +
                              ":rate=25 -f lavfi -i sine=frequency=1000:sample_rate=44100 -t " + std::to_string(seconds) +
                              " -c:v libx264 -preset ultrafast -g 25 -pix_fmt yuv420p -c:a aac -b:a 64k -f flv '" +
                              out.string() + "' </dev/null";
      return std::system(cmd.c_str()) == 0;
    };
    // A: 6 s, 1 s GOP at 25 fps.  B: 160x120, 3 s, for a mid-stream configuration change.
    if (!generate("320x240", 6, *dir_ / "a.flv") || !generate("160x120", 3, *dir_ / "b.flv")) return;
    a_ = new std::vector<MediaPacket>(read_flv(*dir_ / "a.flv"));
    b_ = new std::vector<MediaPacket>(read_flv(*dir_ / "b.flv"));
  }
  static void TearDownTestSuite() {
    if (dir_) fs::remove_all(*dir_);
    delete dir_;
    delete a_;
    delete b_;
    dir_ = nullptr;
    a_ = b_ = nullptr;
  }
  void SetUp() override {
    if (!a_ || a_->empty() || !b_ || b_->empty()) GTEST_SKIP() << "ffmpeg/ffprobe not available";
  }

  static void push_all(HlsSegmenter& hls, const std::vector<MediaPacket>& packets, int64_t shift_ms = 0) {
    for (MediaPacket p : packets) {
      p.dts_ms += shift_ms;
      Status st = hls.push(p);
      ASSERT_TRUE(st.ok()) << st.to_string();
    }
  }

  static fs::path write(const std::string& name, const std::string& bytes) {
    const fs::path path = *dir_ / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  // "codec_name=h264|width=320|height=240\n" lines, one per distinct stream (ffprobe lists a
  // TS stream under its program too).
  static std::string probe_streams(const fs::path& path) {
    std::istringstream in(run("timeout -k 2 20 ffprobe -v error -show_entries stream=codec_name,width,height,sample_rate -of compact=p=0 '" +
                              path.string() + "' 2>&1"));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && std::find(lines.begin(), lines.end(), line) == lines.end()) lines.push_back(line);
    std::string out;
    for (const auto& line : lines) out += line + "\n";
    return out;
  }
  static std::string first_video_frame(const fs::path& path) {
    return run("timeout -k 2 20 ffprobe -v error -select_streams v -show_frames -read_intervals %+#1 "
               "-show_entries frame=key_frame,pict_type -of compact=p=0 '" +
               path.string() + "' 2>&1");
  }

  static fs::path* dir_;
  static std::vector<MediaPacket>* a_;
  static std::vector<MediaPacket>* b_;
};
fs::path* HlsTest::dir_ = nullptr;
std::vector<MediaPacket>* HlsTest::a_ = nullptr;
std::vector<MediaPacket>* HlsTest::b_ = nullptr;

TEST_F(HlsTest, SegmentsOfRealStreamProbeAsH264AndAac) {
  HlsSegmenter hls;
  push_all(hls, *a_);
  hls.finish();
  auto text = hls.playlist();
  ASSERT_TRUE(text);
  const Playlist pl = parse_playlist(*text);
  ASSERT_EQ(pl.uris.size(), 3u) << *text;  // 6 s at 2 s per segment
  EXPECT_TRUE(pl.ended);
  EXPECT_EQ(pl.media_sequence, 0);
  double total = 0;
  for (double d : pl.extinf) {
    EXPECT_NEAR(d, 2.0, 0.05);
    EXPECT_LE(d, pl.target);
    total += d;
  }
  EXPECT_NEAR(total, 6.0, 0.1);
  EXPECT_EQ(pl.target, 2);
  for (uint64_t seq : pl.uris) {
    auto seg = hls.segment(seq);
    ASSERT_TRUE(seg);
    write(std::to_string(seq) + ".ts", *seg);
  }
  const fs::path m3u8 = write("index.m3u8", *text);
  const std::string streams = probe_streams(m3u8);
  EXPECT_NE(streams.find("codec_name=h264|width=320|height=240"), std::string::npos) << streams;
  EXPECT_NE(streams.find("codec_name=aac|sample_rate=44100"), std::string::npos) << streams;
}

TEST_F(HlsTest, SegmentsConcatenateIntoOneCleanStream) {
  HlsSegmenter hls(HlsOptions{.target_segment_s = 1.0});
  push_all(hls, *a_);
  hls.finish();
  const auto text = hls.playlist();
  for (uint64_t seq : parse_playlist(text).uris) write("c" + std::to_string(seq) + ".ts", *hls.segment(seq));
  const std::string m3u8 = *hls.playlist("c");  // segment URIs c<seq>.ts, the files just written
  const fs::path path = write("concat.m3u8", m3u8);
  // Continuity counters run on across segments: no PES is dropped as corrupt at a boundary,
  // and every frame decodes.
  const std::string log = run("cd '" + dir_->string() + "' && timeout -k 2 30 ffmpeg -v warning -i concat.m3u8 -f null - 2>&1");
  EXPECT_EQ(log.find("orrupt"), std::string::npos) << log;
  const std::string frames = run("timeout -k 2 30 ffprobe -v error -select_streams v -count_frames -show_entries "
                                 "stream=nb_read_frames -of csv=p=0 '" + path.string() + "'");
  EXPECT_EQ(frames.substr(0, frames.find('\n')), "150");
}

TEST_F(HlsTest, EverySegmentStartsWithPatAndAKeyframe) {
  HlsSegmenter hls(HlsOptions{.target_segment_s = 1.0});
  push_all(hls, *a_);
  hls.finish();
  const Playlist pl = parse_playlist(hls.playlist());
  ASSERT_GE(pl.uris.size(), 5u);
  for (uint64_t seq : pl.uris) {
    auto seg = hls.segment(seq);
    ASSERT_TRUE(seg);
    ASSERT_GE(seg->size(), 188u * 3);
    ASSERT_EQ(seg->size() % 188, 0u);
    // The first packets are PSI: an SDT (PID 0x11) may come first, then PAT (PID 0) and PMT
    // before any PES packet.
    bool pat = false;
    for (size_t off = 0; off < 188 * 3; off += 188) {
      ASSERT_EQ(static_cast<uint8_t>((*seg)[off]), 0x47);
      const int pid = ((static_cast<uint8_t>((*seg)[off + 1]) & 0x1f) << 8) | static_cast<uint8_t>((*seg)[off + 2]);
      if (pid == 0) pat = true;
    }
    EXPECT_TRUE(pat) << "segment " << seq;
    // Annex B with the SPS (NAL type 7) in-band after the access unit delimiter, and AAC in
    // ADTS (syncword 0xFFF, MPEG-4, no CRC), all done by libavformat from the FLV input.
    const size_t aud = seg->find(std::string("\x00\x00\x00\x01\x09", 5));
    const size_t sps = seg->find(std::string("\x00\x00\x01\x67", 4));
    const size_t pps = seg->find(std::string("\x00\x00\x01\x68", 4));
    const size_t idr = seg->find(std::string("\x00\x00\x01\x65", 4));
    ASSERT_NE(idr, std::string::npos) << "segment " << seq;
    EXPECT_LT(aud, sps) << "segment " << seq;
    EXPECT_LT(sps, pps) << "segment " << seq;
    EXPECT_LT(pps, idr) << "segment " << seq;
    EXPECT_NE(seg->find("\xff\xf1"), std::string::npos) << "segment " << seq << " lacks ADTS";
    const fs::path path = write("k" + std::to_string(seq) + ".ts", *seg);
    const std::string frame = first_video_frame(path);
    EXPECT_NE(frame.find("key_frame=1|pict_type=I"), std::string::npos) << "segment " << seq << ": " << frame;
    const std::string streams = probe_streams(path);
    EXPECT_NE(streams.find("codec_name=h264|width=320|height=240"), std::string::npos) << streams;
    EXPECT_NE(streams.find("codec_name=aac|sample_rate=44100"), std::string::npos) << streams;
  }
}

TEST_F(HlsTest, WindowSlidesAndLeftSegmentsAreFreedAfterKeepAfter) {
  HlsSegmenter hls(HlsOptions{.target_segment_s = 1.0, .window = 2, .keep_after = 1});
  push_all(hls, *a_);
  const HlsStats live = hls.stats();
  EXPECT_EQ(live.segments, 5u);  // the sixth is still open
  const Playlist pl = parse_playlist(hls.playlist("/live/alice/"));
  EXPECT_FALSE(pl.ended);
  ASSERT_EQ(pl.uris.size(), 2u);
  EXPECT_EQ(pl.media_sequence, 3);
  EXPECT_EQ(pl.uris[0], 3u);
  EXPECT_EQ(pl.uris[1], 4u);
  EXPECT_NE(hls.playlist("/live/alice/").value_or("").find("\n/live/alice/3.ts\n"), std::string::npos);
  EXPECT_EQ(live.first_sequence, 3u);
  EXPECT_EQ(live.last_sequence, 4u);
  EXPECT_TRUE(hls.segment(2));  // left the playlist, still fetchable
  EXPECT_FALSE(hls.segment(1));
  EXPECT_FALSE(hls.segment(0));
  EXPECT_FALSE(hls.segment(5));  // not complete yet
  hls.finish();
  EXPECT_TRUE(hls.stats().ended);
  EXPECT_EQ(hls.stats().last_sequence, 5u);
  EXPECT_FALSE(hls.segment(2));
}

TEST_F(HlsTest, NoPlaylistBeforeTheFirstSegmentCompletes) {
  HlsSegmenter hls;
  EXPECT_FALSE(hls.playlist());
  for (size_t i = 0; i < 10; ++i) ASSERT_TRUE(hls.push((*a_)[i]).ok());
  EXPECT_FALSE(hls.playlist());
  EXPECT_EQ(hls.stats().segments, 0u);
}

TEST_F(HlsTest, DiscontinuityMarksTheRepublishAndRemovesEndlist) {
  HlsSegmenter hls;
  push_all(hls, *a_);
  hls.finish();
  EXPECT_TRUE(parse_playlist(hls.playlist()).ended);
  hls.discontinuity();
  EXPECT_FALSE(parse_playlist(hls.playlist()).ended);
  push_all(hls, *a_);  // the new publisher starts its timestamps at 0 again
  const Playlist live = parse_playlist(hls.playlist());
  EXPECT_FALSE(live.ended);
  ASSERT_EQ(live.uris.size(), 5u);
  for (size_t i = 0; i < live.uris.size(); ++i) EXPECT_EQ(live.discontinuity[i], i == 3) << i;
  hls.finish();
  const Playlist done = parse_playlist(hls.playlist());
  EXPECT_TRUE(done.ended);
  EXPECT_EQ(done.uris.size(), 6u);
}

TEST_F(HlsTest, DiscontinuitySequenceCountsTagsThatLeftTheWindow) {
  HlsSegmenter hls(HlsOptions{.window = 2});
  push_all(hls, *a_);
  hls.discontinuity();
  push_all(hls, *a_);
  hls.finish();
  // Segments 0-2, then 3 (discontinuity), 4, 5: the window is 4, 5, so 3's tag has left.
  const std::string text = *hls.playlist();
  EXPECT_NE(text.find("#EXT-X-DISCONTINUITY-SEQUENCE:1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("#EXT-X-DISCONTINUITY\n"), std::string::npos) << text;
}

TEST_F(HlsTest, TargetDurationNeverShrinks) {
  // Without keyframes for the first 4 s the first segment is 4 s long; when it has left the
  // one-segment window the target stays 4.
  std::vector<MediaPacket> packets = *a_;
  bool first_key = true;
  for (auto& p : packets) {
    if (p.video() && p.keyframe && p.dts_ms < 4000) {
      if (first_key) {
        first_key = false;
        continue;
      }
      p.payload[0] = static_cast<char>((2 << 4) | 7);
      classify(p);
    }
  }
  HlsSegmenter hls(HlsOptions{.window = 1});
  push_all(hls, packets);
  hls.finish();
  const Playlist pl = parse_playlist(hls.playlist());
  ASSERT_EQ(pl.uris.size(), 1u);
  EXPECT_EQ(pl.uris[0], 1u);
  EXPECT_NEAR(pl.extinf[0], 2.0, 0.05);
  EXPECT_EQ(pl.target, 4);
}

TEST_F(HlsTest, SequenceHeaderChangeStartsANewSegmentWithTheNewSize) {
  HlsSegmenter hls;
  std::vector<MediaPacket> first(a_->begin(), a_->end());
  push_all(hls, first);
  push_all(hls, *b_, 6000);  // 160x120 continues the timeline with new sequence headers
  hls.finish();
  const Playlist pl = parse_playlist(hls.playlist());
  ASSERT_GE(pl.uris.size(), 4u);
  size_t change = 0;
  for (size_t i = 0; i < pl.uris.size(); ++i)
    if (pl.discontinuity[i]) change = i;
  ASSERT_EQ(change, 3u);
  for (double d : pl.extinf) EXPECT_LE(d, pl.target);
  const fs::path before = write("before.ts", *hls.segment(pl.uris[change - 1]));
  const fs::path after = write("after.ts", *hls.segment(pl.uris[change]));
  EXPECT_NE(probe_streams(before).find("width=320|height=240"), std::string::npos);
  EXPECT_NE(probe_streams(after).find("width=160|height=120"), std::string::npos) << probe_streams(after);
  EXPECT_NE(first_video_frame(after).find("key_frame=1"), std::string::npos);
}

TEST_F(HlsTest, RepeatedIdenticalSequenceHeadersChangeNothing) {
  HlsSegmenter hls;
  for (const auto& h : *a_) {
    if (h.sequence_header) {
      ASSERT_TRUE(hls.push(h).ok());
    }
  }
  for (const auto& p : *a_) {
    if (p.sequence_header) continue;
    if (p.video() && p.keyframe) {
      for (const auto& h : *a_) {
        if (h.sequence_header) {
          ASSERT_TRUE(hls.push(h).ok());
        }
      }
    }
    ASSERT_TRUE(hls.push(p).ok());
  }
  hls.finish();
  const Playlist pl = parse_playlist(hls.playlist());
  EXPECT_EQ(pl.uris.size(), 3u);
  for (bool d : pl.discontinuity) EXPECT_FALSE(d);
}

TEST_F(HlsTest, AudioOnlyStreamIsCutOnTime) {
  HlsSegmenter hls;
  push_all(hls, only(*a_, PacketType::kAudio));
  hls.finish();
  const Playlist pl = parse_playlist(hls.playlist());
  ASSERT_GE(pl.uris.size(), 3u);  // ~2 s each, then the remainder
  double total = 0;
  for (size_t i = 0; i < pl.extinf.size(); ++i) {
    if (i < 3) {
      EXPECT_NEAR(pl.extinf[i], 2.0, 0.03);
    }
    EXPECT_LE(pl.extinf[i], 2.0);  // cut before the frame that would overshoot the target
    total += pl.extinf[i];
  }
  EXPECT_NEAR(total, 6.0, 0.1);
  EXPECT_EQ(pl.target, 2);
  const fs::path path = write("audio.ts", *hls.segment(1));
  EXPECT_EQ(probe_streams(path), "codec_name=aac|sample_rate=44100\n");
}

TEST_F(HlsTest, VideoOnlyStream) {
  HlsSegmenter hls;
  push_all(hls, only(*a_, PacketType::kVideo));
  hls.finish();
  const Playlist pl = parse_playlist(hls.playlist());
  ASSERT_EQ(pl.uris.size(), 3u);
  const fs::path path = write("video.ts", *hls.segment(2));
  EXPECT_EQ(probe_streams(path), "codec_name=h264|width=320|height=240\n");
  EXPECT_NE(first_video_frame(path).find("key_frame=1"), std::string::npos);
}

TEST_F(HlsTest, FramesWithoutSequenceHeadersAreErrorsNotSegments) {
  HlsSegmenter hls;
  int errors = 0;
  for (const auto& p : *a_)
    if (!p.sequence_header && !hls.push(p).ok()) ++errors;
  hls.finish();
  EXPECT_GE(errors, 1);
  EXPECT_LE(errors, 8);  // one per episode, not one per packet
  EXPECT_GT(hls.stats().errors, 100u);
  EXPECT_FALSE(hls.playlist());
}

TEST_F(HlsTest, GarbagePayloadsAreReportedAndTheStreamRecovers) {
  std::mt19937 rng(42);
  HlsSegmenter hls(HlsOptions{.target_segment_s = 1.0});
  int errors = 0;
  int64_t dts = 0;
  for (int i = 0; i < 3000; ++i) {
    MediaPacket p;
    p.type = (rng() & 1) ? PacketType::kVideo : PacketType::kAudio;
    p.dts_ms = dts += rng() % 30;
    p.payload.resize(rng() % 64);
    for (auto& c : p.payload) c = static_cast<char>(rng());
    if (p.payload.size() >= 2 && (rng() & 1)) {  // make many of them look like AVC / AAC
      p.payload[0] = static_cast<char>(p.video() ? 0x17 : 0xaf);
      p.payload[1] = static_cast<char>(rng() % 3);
    }
    classify(p);
    if (!hls.push(p).ok()) ++errors;
  }
  EXPECT_GT(errors, 0);
  hls.discontinuity();
  push_all(hls, *a_, dts);
  hls.finish();
  const Playlist pl = parse_playlist(hls.playlist());
  ASSERT_GE(pl.uris.size(), 6u);
  const fs::path path = write("recovered.ts", *hls.segment(pl.uris.back()));
  EXPECT_NE(probe_streams(path).find("codec_name=h264|width=320|height=240"), std::string::npos);
}

TEST_F(HlsTest, CorruptFrameSkipsVideoToTheNextKeyframe) {
  HlsSegmenter hls;
  int errors = 0;
  for (MediaPacket p : *a_) {
    if (p.video() && !p.keyframe && !p.sequence_header && p.dts_ms > 2500 && p.dts_ms < 2700)
      p.payload[5] = static_cast<char>(0x7f);  // NAL length now overruns the packet
    if (!hls.push(p).ok()) ++errors;
  }
  hls.finish();
  EXPECT_EQ(errors, 1);
  const Playlist pl = parse_playlist(hls.playlist());
  ASSERT_EQ(pl.uris.size(), 3u);
  for (bool d : pl.discontinuity) EXPECT_FALSE(d);
}

TEST_F(HlsTest, BackwardTimestampOnAFrameIsAnErrorAndSkipsToTheKeyframe) {
  HlsSegmenter hls;
  int errors = 0;
  bool bent = false;
  for (MediaPacket p : *a_) {
    if (!bent && p.video() && !p.keyframe && p.dts_ms > 3100) {
      p.dts_ms -= 100'000;
      bent = true;
    }
    if (!hls.push(p).ok()) ++errors;
  }
  hls.finish();
  EXPECT_EQ(errors, 1);
  const Playlist pl = parse_playlist(hls.playlist());
  ASSERT_EQ(pl.uris.size(), 3u);
  for (double d : pl.extinf) EXPECT_LE(d, 2.05);
}

TEST_F(HlsTest, TimelineResetOnAKeyframeStartsADiscontinuity) {
  HlsSegmenter hls;
  push_all(hls, *a_);
  int errors = 0;
  for (const auto& p : *a_)  // the same publisher restarts at 0 without a new publish
    if (!p.sequence_header && !hls.push(p).ok()) ++errors;
  hls.finish();
  EXPECT_EQ(errors, 1);
  const Playlist pl = parse_playlist(hls.playlist());
  ASSERT_EQ(pl.uris.size(), 6u);
  for (size_t i = 0; i < pl.uris.size(); ++i) EXPECT_EQ(pl.discontinuity[i], i == 3);
  for (double d : pl.extinf) EXPECT_NEAR(d, 2.0, 0.05);
  EXPECT_EQ(pl.target, 2);
}

TEST_F(HlsTest, AbsurdForwardJumpDoesNotInflateTheTargetDuration) {
  HlsSegmenter hls;
  int errors = 0;
  for (MediaPacket p : *a_) {
    if (p.dts_ms >= 3000) p.dts_ms += 3'600'000;  // an hour ahead from the middle on
    if (!hls.push(p).ok()) ++errors;
  }
  hls.finish();
  EXPECT_GE(errors, 1);
  const Playlist pl = parse_playlist(hls.playlist());
  EXPECT_LE(pl.target, 2);
  bool disc = false;
  for (bool d : pl.discontinuity) disc = disc || d;
  EXPECT_TRUE(disc);
}

TEST_F(HlsTest, UnsupportedCodecsAreReportedOnce) {
  HlsSegmenter hls;
  MediaPacket mp3{PacketType::kAudio, 0, false, false, std::string("\x2f\x01\x02\x03", 4)};
  EXPECT_EQ(hls.push(mp3).code(), StatusCode::kUnimplemented);
  mp3.dts_ms = 26;
  EXPECT_TRUE(hls.push(mp3).ok());
  MediaPacket vp6{PacketType::kVideo, 0, true, false, std::string("\x14\x00\x00", 3)};
  EXPECT_EQ(hls.push(vp6).code(), StatusCode::kUnimplemented);
  EXPECT_TRUE(hls.push(vp6).ok());
  push_all(hls, only(*a_, PacketType::kVideo));
  hls.finish();
  EXPECT_EQ(parse_playlist(hls.playlist()).uris.size(), 3u);
}

TEST_F(HlsTest, MaxSegmentBytesCutsAStreamWithoutKeyframes) {
  HlsSegmenter hls(HlsOptions{.target_segment_s = 100, .max_segment_bytes = 20'000});
  push_all(hls, *a_);
  hls.finish();
  const Playlist pl = parse_playlist(hls.playlist());
  EXPECT_GE(pl.uris.size(), 3u);
  for (uint64_t seq : pl.uris) EXPECT_LE(hls.segment(seq)->size(), 40'000u);
}

TEST_F(HlsTest, ReadersOnOtherThreadsSeeConsistentState) {
  HlsSegmenter hls(HlsOptions{.target_segment_s = 0.5, .window = 3, .keep_after = 1});
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      if (auto text = hls.playlist()) {
        const Playlist pl = parse_playlist(*text);
        ASSERT_GE(pl.uris.size(), 1u);
        EXPECT_LE(pl.uris.size(), 3u);
        for (size_t i = 0; i < pl.uris.size(); ++i) {
          EXPECT_EQ(pl.uris[i], static_cast<uint64_t>(pl.media_sequence) + i);
          EXPECT_LE(pl.extinf[i], pl.target);
        }
        // The publisher may have slid the window further since; a segment still held is whole.
        if (auto seg = hls.segment(pl.uris.back())) {
          EXPECT_EQ(seg->size() % 188, 0u);
        }
      }
      (void)hls.stats();
    }
  });
  for (int round = 0; round < 2; ++round) {
    push_all(hls, *a_);
    hls.discontinuity();
  }
  hls.finish();
  done = true;
  reader.join();
  EXPECT_EQ(hls.stats().segments, 12u);  // 1 s GOPs
}

TEST(TsCheckTest, AvcConfigurationRecord) {
  const std::string good("\x01\x64\x00\x1f\xff\xe1\x00\x04\x67\x64\x00\x1f\x01\x00\x02\x68\xee", 17);
  auto r = ts_check_avc_config(good);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, 4);
  EXPECT_FALSE(ts_check_avc_config(good.substr(0, 6)).ok());
  EXPECT_FALSE(ts_check_avc_config(good.substr(0, 11)).ok());  // SPS cut
  EXPECT_FALSE(ts_check_avc_config(good.substr(0, 12)).ok());  // no PPS count
  EXPECT_FALSE(ts_check_avc_config(good.substr(0, 16)).ok());  // PPS cut
  std::string v2 = good;
  v2[0] = 2;
  EXPECT_FALSE(ts_check_avc_config(v2).ok());
  std::string no_sps = good;
  no_sps[5] = static_cast<char>(0xe0);
  EXPECT_FALSE(ts_check_avc_config(no_sps).ok());
  std::string no_pps = good.substr(0, 12) + std::string("\x00", 1);
  EXPECT_FALSE(ts_check_avc_config(no_pps).ok());
  std::string len3 = good;
  len3[4] = static_cast<char>(0xfe);
  EXPECT_FALSE(ts_check_avc_config(len3).ok());
}

TEST(TsCheckTest, AvccNalUnits) {
  EXPECT_TRUE(ts_check_avcc_nalus(std::string("\x00\x00\x00\x01\x65\x00\x00\x00\x02\x41\x00", 11), 4).ok());
  EXPECT_TRUE(ts_check_avcc_nalus(std::string("\x00\x01\x65", 3), 2).ok());
  EXPECT_FALSE(ts_check_avcc_nalus("", 4).ok());
  EXPECT_FALSE(ts_check_avcc_nalus(std::string("\x00\x00\x00\x02\x65", 5), 4).ok());  // overruns
  EXPECT_FALSE(ts_check_avcc_nalus(std::string("\x00\x00\x00\x00", 4), 4).ok());      // empty NAL
  EXPECT_FALSE(ts_check_avcc_nalus(std::string("\x00\x00\x00\x01\x65\x00", 6), 4).ok());  // trailing byte
}

TEST(TsCheckTest, AudioSpecificConfig) {
  auto lc = ts_check_aac_config(std::string("\x12\x10", 2));  // LC, 44.1 kHz, stereo
  ASSERT_TRUE(lc.ok());
  EXPECT_EQ(lc->sample_rate, 44100);
  EXPECT_EQ(lc->channels, 2);
  EXPECT_TRUE(ts_check_aac_config(std::string("\x11\x90", 2)).ok());      // LC, 48 kHz, stereo
  EXPECT_TRUE(ts_check_aac_config(std::string("\x2b\x92\x08\x00", 4)).ok());  // HE-AAC: SBR over LC
  EXPECT_FALSE(ts_check_aac_config(std::string("\x12", 1)).ok());         // truncated
  EXPECT_FALSE(ts_check_aac_config(std::string("\x2a\x10", 2)).ok());     // object type 5 cut short
  EXPECT_FALSE(ts_check_aac_config(std::string("\x3a\x10", 2)).ok());     // object type 7 (TwinVQ)
  EXPECT_FALSE(ts_check_aac_config(std::string("\x16\x90", 2)).ok());     // frequency index 13
  EXPECT_FALSE(ts_check_aac_config(std::string("\x12\x14", 2)).ok());     // frameLengthFlag (960)
}

}  // namespace
}  // namespace chiron::media
