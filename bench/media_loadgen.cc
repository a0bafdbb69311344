// media_loadgen: a native load generator for live video (issue 6), driven by
// bench/media_vs_nginx.sh against nginx-rtmp and node-media-server.
//
// DESIGN: one thread, one epoll loop (level-triggered), non-blocking sockets. N viewers of one
// URL — http://HOST:PORT/PATH.flv (HTTP/1.1 GET; chunked or close-delimited body parsed with
// media::FlvReader) or rtmp://HOST:PORT/APP/NAME (media::RtmpClientSession playing) — are
// connected at --ramp per second. Per viewer: bytes, media packets, video packets.
//   - stall: after a viewer's first video packet, a gap of more than --stall-ms (1000) between
//     two video packets (or between the last one and the end of the run). A viewer that never got
//     a video packet is counted as no_video instead (on loopback: usually a listen-queue overflow,
//     nstat TcpExtListenOverflows). The summary gives the viewers that ever stalled, the number of
//     stalls and their longest/total gap.
//   - added delay: the arrival time of video dts D at a viewer minus the earliest arrival of D at
//     any (non-slow) viewer. Arrival = the time epoll_wait returned the readiness (so the load
//     generator's own processing of a batch does not count). Only "live" packets count: those
//     whose dts is newer than the newest dts any viewer had seen when this viewer's first packet
//     arrived (cached GOP packets replayed at join are not delays). Sampled in the window only.
//   - time to first frame (--probes P): after the warm-up, every --probe-interval-ms one extra
//     viewer connects; TTFF = connect() → the first video keyframe after the AVC sequence header.
//     Probes are closed once measured and are not part of the load figures.
//   - slow readers (--slow K): K of the N viewers read at --slow-fraction (0.1) of the stream rate
//     (the rate of the normal viewers, measured over the last second; small SO_RCVBUF, no EPOLLIN:
//     a 10 ms tick reads what the token bucket allows). Their bytes, closes and keyframe skips are
//     reported apart; they are excluded from the stall and delay figures of the others.
// Timeline: ramp (N / --ramp s) + --warmup s, then the --seconds window: counters, delays and the
// server's CPU (--server-pids, utime+stime from /proc/PID/stat, summed) are taken over the window.
// Hard stop: ramp + warmup + seconds + 10 s. IPv4 literals only; no name resolution.
//
// Output, one JSON line on stdout (keys documented in docs/benchmarks.md, "Video").

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "latency_histogram.h"
#include "media/flv.h"
#include "media/packet.h"
#include "media/rtmp_session.h"

namespace {

using chiron::media::MediaPacket;
using Clock = std::chrono::steady_clock;
constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000'000'000;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "media_loadgen: %s\n", why.c_str());
  std::exit(2);
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

struct Url {
  bool rtmp = false;
  std::string host;
  int port = 0;
  std::string path;  // http: "/live/alice.flv"; rtmp: "live/alice"
  std::string app, name;
};

Url parse_url(const std::string& s) {
  Url u;
  std::string_view v = s;
  if (v.starts_with("http://")) {
    v.remove_prefix(7);
  } else if (v.starts_with("rtmp://")) {
    u.rtmp = true;
    v.remove_prefix(7);
  } else {
    die("url must start with http:// or rtmp://: " + s);
  }
  const size_t slash = v.find('/');
  if (slash == std::string_view::npos) die("url without a path: " + s);
  const std::string_view hostport = v.substr(0, slash);
  const size_t colon = hostport.rfind(':');
  u.host = std::string(hostport.substr(0, colon));
  u.port = colon == std::string_view::npos ? (u.rtmp ? 1935 : 80) : std::atoi(std::string(hostport.substr(colon + 1)).c_str());
  u.path = std::string(v.substr(slash));
  if (u.rtmp) {
    const std::string_view p = std::string_view(u.path).substr(1);
    const size_t s2 = p.rfind('/');
    if (s2 == std::string_view::npos) die("rtmp url needs /APP/NAME: " + s);
    u.app = std::string(p.substr(0, s2));
    u.name = std::string(p.substr(s2 + 1));
  }
  return u;
}

struct Options {
  std::string url;
  int viewers = 10;
  double ramp = 200;  // connections per second
  double warmup = 2;
  double seconds = 10;
  int slow = 0;
  double slow_fraction = 0.1;
  int probes = 0;
  int probe_interval_ms = 1300;
  int stall_ms = 1000;
  int rcvbuf_slow = 16 * 1024;
  std::vector<int> server_pids;
};

struct Stats;

// One connection: a load viewer, a slow viewer or a TTFF probe.
struct Viewer;
struct RtmpEvents final : chiron::media::RtmpClientEvents {
  Viewer* v = nullptr;
  void on_status(std::string_view level, std::string_view code, std::string_view description) override;
  void on_media(MediaPacket&& packet) override;
};

enum class Kind : uint8_t { kLoad, kSlow, kProbe };

struct Viewer {
  int fd = -1;
  size_t index = 0;
  Kind kind = Kind::kLoad;
  bool connected = false;
  bool closed = false;   // by the server or on error (not by us at the end)
  bool done = false;     // probes: measured and closed
  std::string error;
  int64_t t_connect = 0;     // connect() called
  int64_t t_accepted = 0;    // connection established
  int64_t t_first_packet = 0;
  int64_t t_first_key = 0;   // first video keyframe after the AVC sequence header
  bool seen_avc_header = false;
  int64_t live_from_dts = INT64_MIN;
  int64_t last_video_t = 0;
  int64_t last_video_dts = INT64_MIN;
  uint64_t bytes = 0, packets = 0, video_packets = 0;
  uint64_t w_bytes = 0, w_packets = 0;  // inside the window
  uint64_t stalls = 0;
  int64_t stall_max = 0, stall_total = 0;
  uint64_t dts_jumps = 0;  // slow viewers: video dts gaps > 500 ms (skipped to a keyframe)
  std::string out;         // bytes to send
  // HTTP
  bool head_done = false, chunked = false;
  std::string head;
  uint64_t chunk_left = 0;  // bytes of body left in the current chunk
  int chunk_state = 0;      // 0 size line, 1 data, 2 CRLF after data, 3 trailer/end
  std::string chunk_line;
  std::unique_ptr<chiron::media::FlvReader> flv;
  // RTMP
  RtmpEvents rtmp_events;
  std::unique_ptr<chiron::media::RtmpClientSession> rtmp;
  // Slow: token bucket in bytes
  double tokens = 0;
};

struct Stats {
  Options opt;
  Url url;
  int epfd = -1;
  std::vector<std::unique_ptr<Viewer>> viewers;  // load and slow viewers, then probes
  int64_t t0 = 0, window_start = 0, window_end = 0, hard_end = 0;
  int64_t batch_t = 0;  // when the current epoll_wait batch returned
  bool in_window = false;
  // earliest arrival per video dts (normal viewers)
  std::unordered_map<int64_t, int64_t> first_arrival;
  std::deque<int64_t> arrival_order;
  int64_t max_dts = INT64_MIN;
  int64_t max_dts_t = 0;
  // source pace: earliest arrivals in the window
  int64_t w_first_dts = INT64_MIN, w_first_dts_t = 0, w_last_dts = INT64_MIN, w_last_dts_t = 0;
  chiron::bench::LatencyHistogram delay;
  // normal viewers' byte rate, for the slow readers' bucket
  uint64_t rate_bytes = 0;
  int64_t rate_t = 0;
  double stream_bps = 0;  // bytes per second per normal viewer, last second
  uint64_t rate_prev = 0;
  std::vector<double> ttff_ms;
  int64_t server_cpu_start = 0, server_cpu_end = 0;
  double loadgen_cpu_start = 0, loadgen_cpu_end = 0;
};

Stats* g = nullptr;

int64_t server_ticks(const std::vector<int>& pids) {
  int64_t sum = 0;
  for (int pid : pids) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const size_t rp = all.rfind(')');
    if (rp == std::string::npos) continue;
    std::istringstream in(all.substr(rp + 2));
    std::string field;
    // fields after ")": state(3) ... utime is field 14, stime 15 (1-based over the whole line)
    for (int i = 3; i <= 15 && in >> field; ++i) {
      if (i == 14 || i == 15) sum += std::atoll(field.c_str());
    }
  }
  return sum;
}

double self_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void on_packet(Viewer& v, MediaPacket&& p) {
  const int64_t t = g->batch_t;
  ++v.packets;
  if (g->in_window) ++v.w_packets;
  if (v.t_first_packet == 0) {
    v.t_first_packet = t;
    v.live_from_dts = g->max_dts;
  }
  if (!p.video()) return;
  if (p.sequence_header) {
    v.seen_avc_header = true;
    return;
  }
  ++v.video_packets;
  if (v.t_first_key == 0 && v.seen_avc_header && p.keyframe) v.t_first_key = t;
  if (v.kind == Kind::kSlow && v.last_video_dts != INT64_MIN && p.dts_ms - v.last_video_dts > 500) ++v.dts_jumps;
  if (v.kind != Kind::kSlow && v.last_video_t != 0) {
    const int64_t gap = t - v.last_video_t;
    if (gap > g->opt.stall_ms * kMs) {
      ++v.stalls;
      v.stall_max = std::max(v.stall_max, gap);
      v.stall_total += gap;
    }
  }
  v.last_video_t = t;
  v.last_video_dts = p.dts_ms;
  if (v.kind != Kind::kLoad) return;
  // added delay against the earliest arrival of this dts
  auto [it, inserted] = g->first_arrival.try_emplace(p.dts_ms, t);
  if (inserted) {
    g->arrival_order.push_back(p.dts_ms);
    if (p.dts_ms > g->max_dts) {
      g->max_dts = p.dts_ms;
      g->max_dts_t = t;
      if (g->in_window) {
        if (g->w_first_dts == INT64_MIN) g->w_first_dts = p.dts_ms, g->w_first_dts_t = t;
        g->w_last_dts = p.dts_ms, g->w_last_dts_t = t;
      }
    }
    while (g->arrival_order.size() > 4096) {
      g->first_arrival.erase(g->arrival_order.front());
      g->arrival_order.pop_front();
    }
  }
  if (g->in_window && p.dts_ms > v.live_from_dts) g->delay.record(t - it->second);
}

void RtmpEvents::on_status(std::string_view level, std::string_view code, std::string_view description) {
  if (level == "error") v->error = std::string(code) + " " + std::string(description);
}
void RtmpEvents::on_media(MediaPacket&& packet) { on_packet(*v, std::move(packet)); }

void close_viewer(Viewer& v, const std::string& why) {
  if (v.fd < 0) return;
  epoll_ctl(g->epfd, EPOLL_CTL_DEL, v.fd, nullptr);
  ::close(v.fd);
  v.fd = -1;
  if (!why.empty()) {
    v.closed = true;
    if (v.error.empty()) v.error = why;
  }
}

void update_interest(Viewer& v) {
  if (v.fd < 0) return;
  epoll_event ev{};
  ev.data.u64 = v.index;
  if (!v.connected || !v.out.empty()) ev.events |= EPOLLOUT;
  if (v.connected && v.kind != Kind::kSlow) ev.events |= EPOLLIN;
  epoll_ctl(g->epfd, EPOLL_CTL_MOD, v.fd, &ev);
}

void flush(Viewer& v) {
  while (!v.out.empty() && v.fd >= 0) {
    const ssize_t n = ::send(v.fd, v.out.data(), v.out.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      close_viewer(v, std::string("send: ") + std::strerror(errno));
      return;
    }
    v.out.erase(0, static_cast<size_t>(n));
  }
}

// HTTP body bytes (after the head): de-chunk if needed, feed FLV.
bool feed_flv(Viewer& v, std::string_view body) {
  auto sink = [&v](MediaPacket&& p) { on_packet(v, std::move(p)); };
  if (!v.chunked) {
    const auto st = v.flv->feed(body, sink);
    if (!st.ok()) v.error = "flv: " + st.to_string();
    return st.ok();
  }
  while (!body.empty()) {
    if (v.chunk_state == 0) {
      const size_t nl = body.find('\n');
      v.chunk_line.append(body.substr(0, nl == std::string_view::npos ? body.size() : nl));
      if (nl == std::string_view::npos) return v.chunk_line.size() < 64;
      body.remove_prefix(nl + 1);
      v.chunk_left = std::strtoull(v.chunk_line.c_str(), nullptr, 16);
      v.chunk_line.clear();
      v.chunk_state = v.chunk_left == 0 ? 3 : 1;
      if (v.chunk_state == 3) return true;
    } else if (v.chunk_state == 1) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(v.chunk_left, body.size()));
      const auto st = v.flv->feed(body.substr(0, n), sink);
      if (!st.ok()) {
        v.error = "flv: " + st.to_string();
        return false;
      }
      body.remove_prefix(n);
      v.chunk_left -= n;
      if (v.chunk_left == 0) v.chunk_state = 2;
    } else if (v.chunk_state == 2) {  // CRLF
      const size_t nl = body.find('\n');
      if (nl == std::string_view::npos) return true;
      body.remove_prefix(nl + 1);
      v.chunk_state = 0;
    } else {
      return true;
    }
  }
  return true;
}

bool on_bytes(Viewer& v, std::string_view data) {
  v.bytes += data.size();
  if (g->in_window) v.w_bytes += data.size();
  if (v.kind == Kind::kLoad) g->rate_bytes += data.size();
  if (g->url.rtmp) {
    const auto st = v.rtmp->feed(data, v.out);
    if (!st.ok()) {
      if (v.error.empty()) v.error = "rtmp: " + st.to_string();
      return false;
    }
    if (!v.out.empty()) {
      flush(v);
      update_interest(v);
    }
    return v.fd >= 0;
  }
  if (!v.head_done) {
    const size_t before = v.head.size();
    v.head.append(data);
    const size_t end = v.head.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (v.head.size() > 16384) v.error = "http: head too long";
      return v.head.size() <= 16384;
    }
    v.head_done = true;
    if (!v.head.starts_with("HTTP/1.1 200") && !v.head.starts_with("HTTP/1.0 200")) {
      v.error = "http: " + v.head.substr(0, v.head.find('\r'));
      return false;
    }
    std::string lower = v.head.substr(0, end);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    v.chunked = lower.find("transfer-encoding: chunked") != std::string::npos;
    const size_t body_at = end + 4 - before;
    v.head.clear();
    v.head.shrink_to_fit();
    return feed_flv(v, data.substr(body_at));
  }
  return feed_flv(v, data);
}

void read_some(Viewer& v, size_t limit) {
  static char buf[256 * 1024];
  const ssize_t n = ::recv(v.fd, buf, std::min(limit, sizeof buf), 0);
  if (n == 0) {
    close_viewer(v, "closed by server");
    return;
  }
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) close_viewer(v, std::string("recv: ") + std::strerror(errno));
    return;
  }
  if (v.kind == Kind::kSlow) v.tokens -= static_cast<double>(n);
  if (!on_bytes(v, std::string_view(buf, static_cast<size_t>(n)))) close_viewer(v, v.error.empty() ? "protocol error" : v.error);
}

void on_connected(Viewer& v) {
  v.connected = true;
  v.t_accepted = g->batch_t;
  if (g->url.rtmp) {
    chiron::media::RtmpClientOptions o;
    o.app = g->url.app;
    o.stream_name = g->url.name;
    o.tc_url = "rtmp://" + g->url.host + ":" + std::to_string(g->url.port) + "/" + g->url.app;
    v.rtmp_events.v = &v;
    v.rtmp = std::make_unique<chiron::media::RtmpClientSession>(o, v.rtmp_events);
    v.rtmp->start(v.out);
  } else {
    v.flv = std::make_unique<chiron::media::FlvReader>();
    v.out = "GET " + g->url.path + " HTTP/1.1\r\nHost: " + g->url.host + ":" + std::to_string(g->url.port) +
            "\r\nUser-Agent: media_loadgen\r\nAccept: */*\r\n\r\n";
  }
  flush(v);
  update_interest(v);
}

Viewer& start_viewer(Kind kind) {
  auto vp = std::make_unique<Viewer>();
  Viewer& v = *vp;
  v.index = g->viewers.size();
  v.kind = kind;
  g->viewers.push_back(std::move(vp));
  v.t_connect = now_ns();
  v.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (v.fd < 0) die(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(v.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (kind == Kind::kSlow) setsockopt(v.fd, SOL_SOCKET, SO_RCVBUF, &g->opt.rcvbuf_slow, sizeof g->opt.rcvbuf_slow);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(g->url.port));
  if (inet_pton(AF_INET, g->url.host.c_str(), &a.sin_addr) != 1) die("not an IPv4 literal: " + g->url.host);
  const int rc = ::connect(v.fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  if (rc < 0 && errno != EINPROGRESS) {
    close_viewer(v, std::string("connect: ") + std::strerror(errno));
    return v;
  }
  epoll_event ev{};
  ev.events = EPOLLOUT;
  ev.data.u64 = v.index;
  epoll_ctl(g->epfd, EPOLL_CTL_ADD, v.fd, &ev);
  return v;
}

void on_event(Viewer& v, uint32_t events) {
  if (v.fd < 0) return;
  if (!v.connected) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(v.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
      close_viewer(v, std::string("connect: ") + std::strerror(err ? err : ECONNREFUSED));
      return;
    }
    on_connected(v);
    return;
  }
  if (events & EPOLLOUT) {
    flush(v);
    update_interest(v);
  }
  if (v.fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
    // slow readers read on the tick; a hang-up (always reported) is read here so it is not spun on
    if (v.kind != Kind::kSlow) read_some(v, SIZE_MAX);
    else if (events & (EPOLLHUP | EPOLLERR)) read_some(v, 65536);
  }
  if (v.kind == Kind::kProbe && v.t_first_key != 0 && !v.done) {
    g->ttff_ms.push_back(static_cast<double>(v.t_first_key - v.t_connect) / kMs);
    v.done = true;
    close_viewer(v, "");
  }
}

// Every ~10 ms: slow readers' token buckets, the stream-rate estimate.
void tick(int64_t t) {
  if (t - g->rate_t >= kSec) {
    int live = 0;
    for (auto& v : g->viewers)
      if (v->kind == Kind::kLoad && v->fd >= 0 && v->t_first_packet) ++live;
    if (live > 0 && g->rate_t != 0)
      g->stream_bps = static_cast<double>(g->rate_bytes - g->rate_prev) / live / (static_cast<double>(t - g->rate_t) / kSec);
    g->rate_prev = g->rate_bytes;
    g->rate_t = t;
  }
  static int64_t last = 0;
  const double dt = last ? static_cast<double>(t - last) / kSec : 0;
  last = t;
  const double rate = g->stream_bps > 0 ? g->stream_bps : 75'000;  // 600 kbit/s until measured
  for (auto& vp : g->viewers) {
    Viewer& v = *vp;
    if (v.kind != Kind::kSlow || v.fd < 0 || !v.connected) continue;
    v.tokens = std::min(v.tokens + rate * g->opt.slow_fraction * dt, 64.0 * 1024);
    // the handshake and the first bytes (head, sequence headers) are read at full speed
    const bool startup = v.t_first_packet == 0;
    if (startup || v.tokens >= 4096) read_some(v, startup ? 65536 : static_cast<size_t>(v.tokens));
  }
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

void usage() {
  std::puts(
      "media_loadgen --url http://127.0.0.1:P/live/alice.flv | rtmp://127.0.0.1:P/live/alice\n"
      "  [--viewers N=10] [--ramp PER_S=200] [--warmup S=2] [--seconds S=10] [--slow K=0]\n"
      "  [--slow-fraction F=0.1] [--probes P=0] [--probe-interval-ms MS=1300] [--stall-ms MS=1000]\n"
      "  [--server-pids PID,PID]\n"
      "Prints one JSON line (see the header of bench/media_loadgen.cc).");
}

}  // namespace

int main(int argc, char** argv) {
  Stats stats;
  g = &stats;
  Options& o = stats.opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for " + a);
      return argv[++i];
    };
    if (a == "--url") o.url = next();
    else if (a == "--viewers") o.viewers = std::atoi(next().c_str());
    else if (a == "--ramp") o.ramp = std::atof(next().c_str());
    else if (a == "--warmup") o.warmup = std::atof(next().c_str());
    else if (a == "--seconds") o.seconds = std::atof(next().c_str());
    else if (a == "--slow") o.slow = std::atoi(next().c_str());
    else if (a == "--slow-fraction") o.slow_fraction = std::atof(next().c_str());
    else if (a == "--probes") o.probes = std::atoi(next().c_str());
    else if (a == "--probe-interval-ms") o.probe_interval_ms = std::atoi(next().c_str());
    else if (a == "--stall-ms") o.stall_ms = std::atoi(next().c_str());
    else if (a == "--server-pids") {
      std::stringstream ss(next());
      for (std::string p; std::getline(ss, p, ',');)
        if (!p.empty()) o.server_pids.push_back(std::atoi(p.c_str()));
    } else if (a == "-h" || a == "--help") {
      usage();
      return 0;
    } else {
      die("unknown argument " + a + " (see --help)");
    }
  }
  if (o.url.empty()) die("--url is required");
  if (o.viewers < 0 || o.slow < 0 || o.slow > o.viewers || o.ramp <= 0 || o.seconds <= 0 || o.probes < 0)
    die("bad numbers (viewers >= slow >= 0, ramp > 0, seconds > 0)");
  stats.url = parse_url(o.url);

  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < static_cast<rlim_t>(o.viewers + o.probes + 64)) die("RLIMIT_NOFILE too low: " + std::to_string(rl.rlim_cur));

  stats.epfd = epoll_create1(EPOLL_CLOEXEC);
  stats.t0 = now_ns();
  const int64_t ramp_ns = static_cast<int64_t>(static_cast<double>(o.viewers) / o.ramp * kSec);
  stats.window_start = stats.t0 + ramp_ns + static_cast<int64_t>(o.warmup * kSec);
  stats.window_end = stats.window_start + static_cast<int64_t>(o.seconds * kSec);
  stats.hard_end = stats.window_end + 10 * kSec;
  // slow viewers are spread over the ramp: every (N / K)-th viewer
  const int slow_every = o.slow > 0 ? std::max(1, o.viewers / o.slow) : 0;
  int started = 0, slow_started = 0, probes_started = 0;
  int64_t next_probe = stats.window_start;
  std::vector<epoll_event> events(1024);
  int64_t last_tick = 0;
  while (true) {
    const int64_t t = now_ns();
    stats.batch_t = t;
    if (!stats.in_window && t >= stats.window_start && t < stats.window_end) {
      stats.in_window = true;
      stats.server_cpu_start = server_ticks(o.server_pids);
      stats.loadgen_cpu_start = self_cpu_s();
    }
    if (stats.in_window && t >= stats.window_end) {
      stats.in_window = false;
      stats.server_cpu_end = server_ticks(o.server_pids);
      stats.loadgen_cpu_end = self_cpu_s();
    }
    if (t >= stats.window_end && probes_started >= o.probes) {
      bool probes_pending = false;
      for (auto& v : stats.viewers)
        if (v->kind == Kind::kProbe && v->fd >= 0) probes_pending = true;
      if (!probes_pending || t >= stats.hard_end) break;
    }
    if (t >= stats.hard_end) break;
    // ramp
    const int due = std::min<int64_t>(o.viewers, static_cast<int64_t>(static_cast<double>(t - stats.t0) / kSec * o.ramp) + 1);
    while (started < due) {
      const bool slow = slow_every > 0 && slow_started < o.slow && started % slow_every == slow_every - 1;
      start_viewer(slow ? Kind::kSlow : Kind::kLoad);
      if (slow) ++slow_started;
      ++started;
    }
    if (probes_started < o.probes && t >= next_probe) {
      start_viewer(Kind::kProbe);
      ++probes_started;
      next_probe = t + static_cast<int64_t>(o.probe_interval_ms) * kMs;
    }
    // a probe gets at most 10 s
    for (auto& v : stats.viewers)
      if (v->kind == Kind::kProbe && v->fd >= 0 && t - v->t_connect > 10 * kSec) {
        v->done = true;
        close_viewer(*v, "no keyframe in 10 s");
      }
    if (t - last_tick >= 10 * kMs) {
      tick(t);
      last_tick = t;
    }
    const int n = epoll_wait(stats.epfd, events.data(), static_cast<int>(events.size()), 5);
    if (n < 0 && errno != EINTR) die(std::string("epoll_wait: ") + std::strerror(errno));
    stats.batch_t = now_ns();
    for (int i = 0; i < n; ++i) on_event(*stats.viewers[events[i].data.u64], events[i].events);
  }
  if (stats.server_cpu_end == 0) {
    stats.server_cpu_end = server_ticks(o.server_pids);
    stats.loadgen_cpu_end = self_cpu_s();
  }
  const int64_t t_end = now_ns();

  // summary
  uint64_t bytes = 0, packets = 0, stalls = 0, w_bytes = 0, w_packets = 0;
  int connected = 0, closed = 0, no_video = 0, stalled_viewers = 0;
  int64_t stall_max = 0, stall_total = 0;
  uint64_t slow_bytes = 0, slow_jumps = 0;
  int64_t slow_lag_max = 0;  // newest dts any viewer had minus the newest a slow reader had, at the end
  int slow_closed = 0, slow_with_video = 0;
  std::string first_error;
  std::vector<double> join_ms;
  for (auto& vp : stats.viewers) {
    Viewer& v = *vp;
    if (v.kind == Kind::kProbe) continue;
    if (v.kind == Kind::kSlow) {
      slow_bytes += v.bytes;
      slow_jumps += v.dts_jumps;
      if (v.closed) ++slow_closed;
      if (v.video_packets) ++slow_with_video;
      if (v.video_packets && stats.max_dts != INT64_MIN) slow_lag_max = std::max(slow_lag_max, stats.max_dts - v.last_video_dts);
      continue;
    }
    if (v.connected) ++connected;
    bytes += v.bytes, packets += v.packets, w_bytes += v.w_bytes, w_packets += v.w_packets;
    if (v.closed) {
      ++closed;
      if (first_error.empty()) first_error = v.error;
    }
    if (v.video_packets == 0) {
      ++no_video;
      if (first_error.empty()) first_error = v.error.empty() ? "no video" : v.error;
      continue;
    }
    // a gap still open at the end of the run
    if (!v.closed && t_end - v.last_video_t > o.stall_ms * kMs) {
      ++v.stalls;
      v.stall_max = std::max(v.stall_max, t_end - v.last_video_t);
      v.stall_total += t_end - v.last_video_t;
    }
    if (v.stalls) ++stalled_viewers;
    stalls += v.stalls;
    stall_max = std::max(stall_max, v.stall_max);
    stall_total += v.stall_total;
    if (v.t_first_key) join_ms.push_back(static_cast<double>(v.t_first_key - v.t_connect) / kMs);
  }
  const double window_s = o.seconds;
  const double server_cpu_s = static_cast<double>(stats.server_cpu_end - stats.server_cpu_start) / static_cast<double>(sysconf(_SC_CLK_TCK));
  double source_lag_ms = -1;
  if (stats.w_first_dts != INT64_MIN && stats.w_last_dts > stats.w_first_dts)
    source_lag_ms = static_cast<double>(stats.w_last_dts_t - stats.w_first_dts_t) / kMs -
                    static_cast<double>(stats.w_last_dts - stats.w_first_dts);
  std::string ttff = "[";
  for (size_t i = 0; i < stats.ttff_ms.size(); ++i) ttff += (i ? "," : "") + std::to_string(static_cast<int>(stats.ttff_ms[i] + 0.5));
  ttff += "]";
  for (char& c : first_error)
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = ' ';
  const int load = o.viewers - o.slow;
  std::printf(
      "{\"url\":\"%s\",\"viewers\":%d,\"slow\":%d,\"connected\":%d,\"closed\":%d,\"no_video\":%d,"
      "\"stalled_viewers\":%d,\"stalls\":%" PRIu64 ",\"stall_max_ms\":%.0f,\"stall_total_ms\":%.0f,"
      "\"window_s\":%.1f,\"mbit_s\":%.1f,\"kbit_s_per_viewer\":%.0f,\"packets_s\":%.0f,"
      "\"delay_p50_ms\":%.1f,\"delay_p99_ms\":%.1f,\"delay_max_ms\":%.1f,\"delay_samples\":%" PRIu64 ","
      "\"join_p50_ms\":%.0f,\"join_max_ms\":%.0f,\"ttff_ms\":%s,\"ttff_median_ms\":%.0f,"
      "\"slow_kbit_s\":%.0f,\"slow_closed\":%d,\"slow_with_video\":%d,\"slow_keyframe_skips\":%" PRIu64 ",\"slow_lag_max_ms\":%" PRId64 ","
      "\"server_cpu_s\":%.2f,\"server_cores\":%.3f,\"server_cpu_us_per_viewer_s\":%.1f,"
      "\"loadgen_cores\":%.2f,\"source_lag_ms\":%.0f,\"first_error\":\"%s\"}\n",
      o.url.c_str(), o.viewers, o.slow, connected, closed, no_video, stalled_viewers, stalls,
      static_cast<double>(stall_max) / kMs, static_cast<double>(stall_total) / kMs, window_s,
      static_cast<double>(w_bytes) * 8 / 1e6 / window_s, load ? static_cast<double>(w_bytes) * 8 / 1e3 / window_s / load : 0.0,
      static_cast<double>(w_packets) / window_s, stats.delay.quantile(0.5) / kMs, stats.delay.quantile(0.99) / kMs,
      static_cast<double>(stats.delay.max()) / kMs, stats.delay.total(), percentile(join_ms, 0.5), percentile(join_ms, 1.0),
      ttff.c_str(), percentile(stats.ttff_ms, 0.5),
      o.slow ? static_cast<double>(slow_bytes) * 8 / 1e3 / (static_cast<double>(t_end - stats.t0) / kSec) / o.slow : 0.0,
      slow_closed, slow_with_video, slow_jumps, slow_lag_max, server_cpu_s, server_cpu_s / window_s,
      load ? server_cpu_s * 1e6 / window_s / load : 0.0, (stats.loadgen_cpu_end - stats.loadgen_cpu_start) / window_s,
      source_lag_ms, first_error.c_str());
  for (auto& v : stats.viewers) close_viewer(*v, "");
  ::close(stats.epfd);
  return 0;
}
