// chat_loadgen: a native Socket.IO v4 (WebSocket transport) load generator for the chat benchmarks
// of issue 4 (B1, the paper's workload), driven by bench/chat_vs_socketio.sh against the Node.js
// Socket.IO peer (bench/peers/socketio_chat.js) and, later, `chiron serve --chat-anonymous`.
//
// DESIGN: open loop. Each client is one WebSocket (RFC 6455 §4.1 client handshake, masked frames
// §5.3) carrying Engine.IO 4 / Socket.IO 5 packets: it waits for the Engine.IO open packet (`0{…}`),
// sends `40`, waits for `40{…}`, joins its room with `420["new user","rK"]` (ack id 0; a server
// that does not ack is given --join-wait-ms), answers server pings `2` with `3`. Clients are
// spread over --rooms rooms round-robin and connected at --connect-rate per second. Once every
// client has joined (or failed), all clients start sending `42["new message",{"room","c","n","t",
// "text"}]` at --rate per second each, with a uniformly random phase; the object is padded to
// --size bytes. `t` is the steady-clock time (ns) at which the frame was queued, so a delivery's
// latency is receive time − t on the same host clock and includes any queueing in our own send
// buffer. Messages scheduled in [start + warmup, start + warmup + duration) are measured (they
// carry "m":1): each adds (joined members of its room, sender included) to `expected`; every
// received `new message` with "m":1 is a delivery and a latency sample. After the window the
// generator keeps reading until delivered == expected or 10 s have passed (hard stop: setup +
// warmup + duration + 10 s). -t threads each own an epoll loop over their share of the clients; they share only
// atomics (phase, counters, per-room member counts). Latencies go into a log-bucketed histogram
// (128 sub-buckets per power of two, < 0.8 % error, as HdrHistogram with 2 significant digits).
//
// --rate 0 holds the clients open without sending (idle-connection memory). --ports P1,P2,...
// spreads clients over several servers round-robin (edges sharing rooms through Redis).
//
// Output, one line: expected=… delivered=… loss=… deliveries_per_s=… p50_ms=… p99_ms=… p999_ms=…
// max_ms=… sent=… errors=… (+ extra keys). deliveries_per_s = delivered / max(duration, time from
// window start to the last delivery). 127.0.0.1 or any IPv4 literal only; no name resolution.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "latency_histogram.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t kSec = 1'000'000'000;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "chat_loadgen: %s\n", why.c_str());
  std::exit(2);
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

using Histogram = chiron::bench::LatencyHistogram;

struct Options {
  std::string host = "127.0.0.1";
  std::vector<int> ports;  // client i connects to ports[i % size]: several edges share the load
  std::string path = "/socket.io/";
  int clients = 10;
  int rooms = 1;
  double rate = 1;  // messages/s per client
  int size = 100;   // bytes of the message object
  double duration_s = 10;
  double warmup_s = 0;
  int threads = 1;
  double connect_rate = 1000;  // connections/s
  int join_wait_ms = 1000;
  bool verbose = false;
};

// Shared between threads: only atomics, plus Options and start/deadline values written before the
// threads start (or published through phase_).
struct Shared {
  explicit Shared(int rooms) : members(static_cast<size_t>(rooms)) {}
  std::vector<std::atomic<int64_t>> members;  // joined clients per room
  std::atomic<int> settled{0};                // clients joined or failed
  std::atomic<int64_t> start_ns{0};           // 0 until every client settled (or setup timed out)
  std::atomic<int64_t> expected{0};
  std::atomic<int64_t> delivered{0};
  std::atomic<int64_t> last_delivery_ns{0};
  std::atomic<int> done_sending{0};  // threads past the window with every send made
  int64_t t0_ns = 0;
  int64_t setup_deadline_ns = 0;
};

enum class State { kConnecting, kUpgrading, kOpening, kConnectingSio, kJoining, kJoined, kClosed };

struct Conn {
  int id = 0;
  int room = 0;
  int port = 0;
  int fd = -1;
  State state = State::kConnecting;
  std::string key;      // Sec-WebSocket-Key
  std::string in;       // unparsed bytes
  std::string message;  // reassembled fragmented text message
  std::string out;      // unsent bytes
  size_t out_off = 0;
  bool want_out = false;
  bool settled = false;  // counted in Shared::settled
  int64_t connect_at_ns = 0;
  int64_t join_sent_ns = 0;
  int64_t next_send_ns = 0;
  int64_t seq = 0;
};

std::string base64(const unsigned char* p, size_t n) {
  std::string s(4 * ((n + 2) / 3) + 1, '\0');
  const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(s.data()), p, static_cast<int>(n));
  s.resize(static_cast<size_t>(len));
  return s;
}

// RFC 6455 §4.2.2: base64(SHA-1(key + GUID)).
std::string websocket_accept(const std::string& key) {
  const std::string s = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(s.data(), s.size(), md, &md_len, EVP_sha1(), nullptr) != 1) die("SHA-1 failed");
  return base64(md, md_len);
}

// Parses the integer after `"name":` in a JSON text; false if absent.
bool json_int(std::string_view s, std::string_view name, int64_t* v) {
  const size_t at = s.find(name);
  if (at == std::string_view::npos) return false;
  const char* p = s.data() + at + name.size();
  char* end = nullptr;
  *v = std::strtoll(p, &end, 10);
  return end != p;
}

class Worker {
 public:
  Worker(const Options& o, Shared& sh, int index, std::vector<int> ids)
      : o_(o), sh_(sh), rng_(0x9e3779b97f4a7c15ULL ^ static_cast<uint64_t>(index + 1) * 7919) {
    ep_ = epoll_create1(0);
    if (ep_ < 0) die("epoll_create1");
    for (int id : ids) {
      Conn c;
      c.id = id;
      c.room = id % o_.rooms;
      c.port = o_.ports[static_cast<size_t>(id) % o_.ports.size()];
      c.connect_at_ns = sh_.t0_ns + static_cast<int64_t>(static_cast<double>(id) / o_.connect_rate * 1e9);
      conns_.push_back(std::move(c));
    }
    for (size_t i = 0; i < conns_.size(); ++i) pending_connect_.push({conns_[i].connect_at_ns, i});
  }
  ~Worker() {
    for (auto& c : conns_)
      if (c.fd >= 0) close(c.fd);
    close(ep_);
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void run();

  Histogram hist;
  int64_t sent = 0;
  int64_t errors = 0;
  int64_t join_timeouts = 0;
  int64_t stray = 0;  // deliveries outside the window or unparseable
  std::string first_error;

 private:
  using Due = std::pair<int64_t, size_t>;  // time, connection index
  void start_connect(Conn& c);
  void on_event(Conn& c, uint32_t events);
  void on_readable(Conn& c);
  bool parse_upgrade(Conn& c);
  void parse_frames(Conn& c);
  void on_text(Conn& c, std::string_view m);
  void send_frame(Conn& c, int opcode, std::string_view payload);
  void flush(Conn& c);
  void fail(Conn& c, const std::string& why);
  void settle(Conn& c, bool joined);
  void send_message(Conn& c, int64_t t, bool measured);

  const Options& o_;
  Shared& sh_;
  std::mt19937_64 rng_;
  int ep_ = -1;
  std::vector<Conn> conns_;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> pending_connect_;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> sends_;
  int64_t window_start_ = 0, window_end_ = 0;
};

void Worker::fail(Conn& c, const std::string& why) {
  if (c.state == State::kClosed) return;
  ++errors;
  if (first_error.empty()) first_error = "client " + std::to_string(c.id) + ": " + why;
  if (o_.verbose) std::fprintf(stderr, "chat_loadgen: client %d: %s\n", c.id, why.c_str());
  if (c.fd >= 0) close(c.fd);
  c.fd = -1;
  c.state = State::kClosed;
  settle(c, false);
}

void Worker::settle(Conn& c, bool joined) {
  if (c.settled) return;
  c.settled = true;
  if (joined) sh_.members[static_cast<size_t>(c.room)].fetch_add(1);
  sh_.settled.fetch_add(1);
}

void Worker::start_connect(Conn& c) {
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) return fail(c, std::string("socket: ") + std::strerror(errno));
  const int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(c.port));
  if (inet_pton(AF_INET, o_.host.c_str(), &a.sin_addr) != 1) die("--host must be an IPv4 literal");
  if (connect(c.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS)
    return fail(c, std::string("connect: ") + std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
  ev.data.u64 = static_cast<uint64_t>(&c - conns_.data());
  c.want_out = true;
  if (epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) != 0) die("epoll_ctl ADD");
  c.state = State::kConnecting;
}

void Worker::flush(Conn& c) {
  while (c.out_off < c.out.size()) {
    const ssize_t n = write(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off);
    if (n > 0) {
      c.out_off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return fail(c, std::string("write: ") + std::strerror(errno));
  }
  if (c.out_off == c.out.size()) {
    c.out.clear();
    c.out_off = 0;
  } else if (c.out_off > (1u << 20)) {
    c.out.erase(0, c.out_off);
    c.out_off = 0;
  }
  const bool want = !c.out.empty();
  if (want != c.want_out && c.state != State::kConnecting) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u);
    ev.data.u64 = static_cast<uint64_t>(&c - conns_.data());
    if (epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev) != 0) die("epoll_ctl MOD");
    c.want_out = want;
  }
}

// RFC 6455 §5.2/§5.3: FIN + opcode, masked payload, 7/16/64-bit length.
void Worker::send_frame(Conn& c, int opcode, std::string_view payload) {
  if (c.state == State::kClosed) return;
  const bool idle = c.out.empty();
  const size_t n = payload.size();
  c.out.push_back(static_cast<char>(0x80 | opcode));
  if (n < 126) {
    c.out.push_back(static_cast<char>(0x80 | n));
  } else if (n < 65536) {
    c.out.push_back(static_cast<char>(0x80 | 126));
    c.out.push_back(static_cast<char>(n >> 8));
    c.out.push_back(static_cast<char>(n & 0xff));
  } else {
    c.out.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) c.out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  }
  const uint32_t mask = static_cast<uint32_t>(rng_());
  char m[4];
  std::memcpy(m, &mask, 4);
  c.out.append(m, 4);
  const size_t at = c.out.size();
  c.out.append(payload);
  for (size_t i = 0; i < n; ++i) c.out[at + i] = static_cast<char>(c.out[at + i] ^ m[i & 3]);
  if (idle) flush(c);
}

void Worker::send_message(Conn& c, int64_t t, bool measured) {
  static constexpr std::string_view kHead = "42[\"new message\",";
  std::string m;
  m.reserve(static_cast<size_t>(o_.size) + 64);
  m.append(kHead);
  m += "{\"room\":\"r" + std::to_string(c.room) + "\",\"c\":" + std::to_string(c.id) +
       ",\"n\":" + std::to_string(c.seq++) + ",\"m\":" + (measured ? "1" : "0") + ",\"t\":" + std::to_string(t) +
       ",\"text\":\"";
  const size_t object_len = m.size() - kHead.size() + 2;  // + `"}`
  m.append(object_len + 1 < static_cast<size_t>(o_.size) ? static_cast<size_t>(o_.size) - object_len : 1, 'x');
  m += "\"}]";
  send_frame(c, 1, m);
  if (measured) {
    ++sent;
    sh_.expected.fetch_add(sh_.members[static_cast<size_t>(c.room)].load(std::memory_order_relaxed),
                           std::memory_order_relaxed);
  }
}

bool Worker::parse_upgrade(Conn& c) {
  const size_t end = c.in.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (c.in.size() > 16384) fail(c, "HTTP upgrade response too long");
    return false;
  }
  const std::string head = c.in.substr(0, end);
  c.in.erase(0, end + 4);
  if (head.rfind("HTTP/1.1 101", 0) != 0) {
    fail(c, "upgrade refused: " + head.substr(0, head.find('\r')));
    return false;
  }
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
  const size_t at = lower.find("\r\nsec-websocket-accept:");
  if (at == std::string::npos) {
    fail(c, "no Sec-WebSocket-Accept");
    return false;
  }
  size_t v = at + 23;
  while (v < head.size() && head[v] == ' ') ++v;
  const std::string accept = head.substr(v, head.find('\r', v) - v);
  if (accept != websocket_accept(c.key)) {
    fail(c, "bad Sec-WebSocket-Accept");
    return false;
  }
  c.state = State::kOpening;
  return true;
}

void Worker::on_text(Conn& c, std::string_view m) {
  if (m.empty()) return fail(c, "empty Engine.IO packet");
  switch (m[0]) {
    case '0':  // Engine.IO open
      if (c.state != State::kOpening) return fail(c, "unexpected open packet");
      c.state = State::kConnectingSio;
      return send_frame(c, 1, "40");
    case '2':
      return send_frame(c, 1, "3");  // server ping → pong (Engine.IO 4 heartbeat)
    case '1':
      return fail(c, "Engine.IO close");
    case '6':
    case '3':
      return;
    case '4':
      break;
    default:
      return fail(c, "unknown Engine.IO packet " + std::string(m.substr(0, 16)));
  }
  if (m.size() < 2) return fail(c, "short Socket.IO packet");
  switch (m[1]) {
    case '0':
      if (c.state != State::kConnectingSio) return fail(c, "unexpected Socket.IO connect");
      c.state = State::kJoining;
      c.join_sent_ns = now_ns();
      return send_frame(c, 1, "420[\"new user\",\"r" + std::to_string(c.room) + "\"]");
    case '3':
      if (m.size() >= 3 && m[2] == '0' && c.state == State::kJoining) {
        c.state = State::kJoined;
        settle(c, true);
      }
      return;
    case '2': {
      static constexpr std::string_view kEvent = "42[\"new message\",";
      if (m.substr(0, kEvent.size()) != kEvent) return;
      const int64_t now = now_ns();
      int64_t t = 0;
      int64_t measured = 0;
      const std::string_view body = m.substr(kEvent.size());
      if (!json_int(body, "\"m\":", &measured) || measured != 1 || !json_int(body, "\"t\":", &t)) {
        ++stray;
        return;
      }
      hist.record(now - t);
      sh_.delivered.fetch_add(1, std::memory_order_relaxed);
      int64_t last = sh_.last_delivery_ns.load(std::memory_order_relaxed);
      while (now > last && !sh_.last_delivery_ns.compare_exchange_weak(last, now, std::memory_order_relaxed)) {
      }
      return;
    }
    case '1':
      return fail(c, "Socket.IO disconnect");
    case '4':
      return fail(c, "Socket.IO connect error " + std::string(m.substr(2, 80)));
    default:
      return fail(c, "unexpected Socket.IO packet " + std::string(m.substr(0, 16)));
  }
}

// RFC 6455 §5.2 server frames (unmasked; a mask is tolerated), §5.4 fragmentation, §5.5 control.
void Worker::parse_frames(Conn& c) {
  size_t p = 0;
  while (c.state != State::kClosed) {
    const size_t avail = c.in.size() - p;
    if (avail < 2) break;
    const auto* b = reinterpret_cast<const unsigned char*>(c.in.data() + p);
    const bool fin = b[0] & 0x80;
    const int opcode = b[0] & 0x0f;
    const bool masked = b[1] & 0x80;
    uint64_t len = b[1] & 0x7f;
    size_t hdr = 2;
    if (len == 126) {
      if (avail < 4) break;
      len = (uint64_t{b[2]} << 8) | b[3];
      hdr = 4;
    } else if (len == 127) {
      if (avail < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | b[2 + i];
      hdr = 10;
    }
    if (len > (64u << 20)) return fail(c, "frame too large");
    const size_t mask_at = hdr;
    if (masked) hdr += 4;
    if (avail < hdr + len) break;
    std::string_view payload(c.in.data() + p + hdr, static_cast<size_t>(len));
    std::string unmasked;
    if (masked) {
      unmasked.assign(payload);
      for (size_t i = 0; i < unmasked.size(); ++i) unmasked[i] = static_cast<char>(unmasked[i] ^ b[mask_at + (i & 3)]);
      payload = unmasked;
    }
    p += hdr + static_cast<size_t>(len);
    switch (opcode) {
      case 0x1:
      case 0x2:
      case 0x0:
        if (opcode != 0 && !c.message.empty()) return fail(c, "interleaved data frames");
        if (fin && c.message.empty()) {
          on_text(c, payload);
        } else {
          c.message.append(payload);
          if (fin) {
            const std::string whole = std::move(c.message);
            c.message.clear();
            on_text(c, whole);
          }
        }
        break;
      case 0x8:
        return fail(c, "WebSocket close from server");
      case 0x9:
        send_frame(c, 0xA, payload);
        break;
      case 0xA:
        break;
      default:
        return fail(c, "unknown opcode " + std::to_string(opcode));
    }
  }
  if (c.state != State::kClosed) c.in.erase(0, p);
}

void Worker::on_readable(Conn& c) {
  char buf[65536];
  for (;;) {
    const ssize_t n = read(c.fd, buf, sizeof buf);
    if (n > 0) {
      c.in.append(buf, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < sizeof buf) break;
      continue;
    }
    if (n == 0) return fail(c, "connection closed by server");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    return fail(c, std::string("read: ") + std::strerror(errno));
  }
  if (c.state == State::kUpgrading && !parse_upgrade(c)) return;
  parse_frames(c);
}

void Worker::on_event(Conn& c, uint32_t events) {
  if (c.state == State::kClosed) return;
  if (c.state == State::kConnecting) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fail(c, std::string("connect: ") + std::strerror(err));
    unsigned char raw[16];
    for (auto& ch : raw) ch = static_cast<unsigned char>(rng_());
    c.key = base64(raw, sizeof raw);
    c.state = State::kUpgrading;
    c.out = "GET " + o_.path + "?EIO=4&transport=websocket HTTP/1.1\r\nHost: " + o_.host + ":" +
            std::to_string(c.port) + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + c.key +
            "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    flush(c);
    return;
  }
  if (events & EPOLLIN) on_readable(c);
  if (c.state == State::kClosed) return;
  if (events & EPOLLOUT) flush(c);
  if (c.state != State::kClosed && (events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN)) fail(c, "socket error");
}

void Worker::run() {
  std::vector<epoll_event> events(512);
  bool scheduled = false;
  bool done_sending = false;
  int64_t drain_deadline = 0;
  for (;;) {
    const int64_t now = now_ns();
    while (!pending_connect_.empty() && pending_connect_.top().first <= now) {
      start_connect(conns_[pending_connect_.top().second]);
      pending_connect_.pop();
    }
    // Joined-by-timeout for servers that do not ack `new user`.
    for (auto& c : conns_) {
      if (scheduled) break;
      if (c.state == State::kJoining && now - c.join_sent_ns > int64_t{o_.join_wait_ms} * 1'000'000) {
        c.state = State::kJoined;
        ++join_timeouts;
        settle(c, true);
      }
    }
    int64_t start = sh_.start_ns.load();
    if (start == 0 && (sh_.settled.load() == o_.clients || now > sh_.setup_deadline_ns)) {
      int64_t zero = 0;
      sh_.start_ns.compare_exchange_strong(zero, now + 20'000'000);  // 20 ms for every thread to see it
      start = sh_.start_ns.load();
    }
    if (start != 0 && !scheduled) {
      scheduled = true;
      window_start_ = start + static_cast<int64_t>(o_.warmup_s * 1e9);
      window_end_ = window_start_ + static_cast<int64_t>(o_.duration_s * 1e9);
      drain_deadline = window_end_ + 10 * kSec;
      // --rate 0: idle connections, held open (answering pings) through warm-up and duration.
      const auto period = o_.rate > 0 ? static_cast<int64_t>(1e9 / o_.rate) : int64_t{1};
      std::uniform_int_distribution<int64_t> phase(0, period - 1);
      for (size_t i = 0; i < conns_.size(); ++i) {
        Conn& c = conns_[i];
        if (c.state != State::kJoined) {
          fail(c, "not joined when sending started");
          continue;
        }
        if (o_.rate == 0) continue;
        c.next_send_ns = start + phase(rng_);
        sends_.push({c.next_send_ns, i});
      }
    }
    if (scheduled) {
      while (!sends_.empty() && sends_.top().first <= now) {
        const size_t i = sends_.top().second;
        sends_.pop();
        Conn& c = conns_[i];
        if (c.state == State::kClosed || c.next_send_ns >= window_end_) continue;
        send_message(c, now_ns(), c.next_send_ns >= window_start_);
        c.next_send_ns += static_cast<int64_t>(1e9 / o_.rate);
        // Open loop: a late loop skips nothing, it sends the missed messages back to back.
        sends_.push({c.next_send_ns, i});
      }
      if (now >= window_end_ && !done_sending) {
        done_sending = true;
        sh_.done_sending.fetch_add(1);
      }
      if (done_sending && sh_.done_sending.load() == o_.threads &&
          (sh_.delivered.load(std::memory_order_relaxed) >= sh_.expected.load(std::memory_order_relaxed) ||
           now >= drain_deadline))
        return;
    } else if (now > sh_.setup_deadline_ns + 5 * kSec) {
      return;
    }
    int64_t wake = now + 10'000'000;
    if (!pending_connect_.empty()) wake = std::min(wake, pending_connect_.top().first);
    if (!sends_.empty()) wake = std::min(wake, sends_.top().first);
    const int64_t wait = std::max<int64_t>(0, wake - now);
    timespec ts{static_cast<time_t>(wait / kSec), static_cast<long>(wait % kSec)};
    const int n = epoll_pwait2(ep_, events.data(), static_cast<int>(events.size()), &ts, nullptr);
    if (n < 0 && errno != EINTR) die(std::string("epoll_pwait2: ") + std::strerror(errno));
    for (int k = 0; k < n; ++k)
      on_event(conns_[events[static_cast<size_t>(k)].data.u64], events[static_cast<size_t>(k)].events);
  }
}

void usage() {
  std::fprintf(stderr,
               "usage: chat_loadgen --port P[,P2,...] [--host 127.0.0.1] [--path /socket.io/] [--clients N] [--rooms R]\n"
               "         [--rate MSG_PER_S_PER_CLIENT] [--size BYTES] [--duration S] [--warmup S] [--threads T]\n"
               "         [--connect-rate CONN_PER_S] [--join-wait-ms MS] [-v]\n");
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-v") {
      o.verbose = true;
      continue;
    }
    if (a == "-h" || a == "--help") usage();
    if (i + 1 >= argc) usage();
    const std::string v = argv[++i];
    if (a == "--host")
      o.host = v;
    else if (a == "--port" || a == "--ports") {
      o.ports.clear();
      for (size_t at = 0; at <= v.size();) {
        const size_t comma = std::min(v.find(',', at), v.size());
        o.ports.push_back(std::atoi(v.substr(at, comma - at).c_str()));
        at = comma + 1;
      }
    }
    else if (a == "--path")
      o.path = v;
    else if (a == "--clients")
      o.clients = std::atoi(v.c_str());
    else if (a == "--rooms")
      o.rooms = std::atoi(v.c_str());
    else if (a == "--rate")
      o.rate = std::atof(v.c_str());
    else if (a == "--size")
      o.size = std::atoi(v.c_str());
    else if (a == "--duration")
      o.duration_s = std::atof(v.c_str());
    else if (a == "--warmup")
      o.warmup_s = std::atof(v.c_str());
    else if (a == "--threads")
      o.threads = std::atoi(v.c_str());
    else if (a == "--connect-rate")
      o.connect_rate = std::atof(v.c_str());
    else if (a == "--join-wait-ms")
      o.join_wait_ms = std::atoi(v.c_str());
    else
      usage();
  }
  if (o.ports.empty()) die("--port is required");
  for (int port : o.ports)
    if (port <= 0 || port > 65535) die("--port/--ports: each port must be 1..65535");
  if (o.clients < 1 || o.rooms < 1 || o.rooms > o.clients) die("need 1 <= --rooms <= --clients");
  if (!(o.rate >= 0 && o.rate <= 100000)) die("--rate must be in [0, 100000] (0: idle connections)");
  if (o.size < 1 || o.size > (1 << 20)) die("--size must be 1..1048576");
  if (!(o.duration_s > 0) || o.warmup_s < 0) die("--duration must be > 0, --warmup >= 0");
  if (o.threads < 1) die("--threads must be >= 1");
  if (!(o.connect_rate > 0)) die("--connect-rate must be > 0");
  o.threads = std::min(o.threads, o.clients);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  // One descriptor per client: lift the soft limit to the hard one (10k idle clients).
  if (rlimit lim{}; getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  Shared sh(o.rooms);
  // Setup: the connection ramp plus 10 s for stragglers, after which sending starts regardless.
  sh.t0_ns = now_ns();
  sh.setup_deadline_ns = sh.t0_ns + static_cast<int64_t>(o.clients / o.connect_rate * 1e9) + 10 * kSec;

  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < o.threads; ++t) {
    std::vector<int> ids;
    for (int id = t; id < o.clients; id += o.threads) ids.push_back(id);
    workers.push_back(std::make_unique<Worker>(o, sh, t, std::move(ids)));
  }
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&w] { w->run(); });
  for (auto& t : threads) t.join();

  Histogram h;
  int64_t sent = 0, errors = 0, join_timeouts = 0, stray = 0;
  std::string first_error;
  for (auto& w : workers) {
    h.merge(w->hist);
    sent += w->sent;
    errors += w->errors;
    join_timeouts += w->join_timeouts;
    stray += w->stray;
    if (first_error.empty()) first_error = w->first_error;
  }
  const int64_t expected = sh.expected.load(), delivered = sh.delivered.load();
  const int64_t start = sh.start_ns.load();
  const int64_t window_start = start + static_cast<int64_t>(o.warmup_s * 1e9);
  const double span_s = std::max(o.duration_s, static_cast<double>(sh.last_delivery_ns.load() - window_start) / 1e9);
  int64_t joined = 0;
  for (auto& m : sh.members) joined += m.load();
  const double loss = expected > 0 ? 1.0 - static_cast<double>(delivered) / static_cast<double>(expected) : 0;
  if (!first_error.empty()) std::fprintf(stderr, "chat_loadgen: first error: %s\n", first_error.c_str());
  std::printf(
      "expected=%lld delivered=%lld loss=%.6f deliveries_per_s=%.0f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f "
      "max_ms=%.3f sent=%lld errors=%lld clients=%d joined=%lld rooms=%d rate=%g size=%d duration_s=%g "
      "join_timeouts=%lld stray=%lld started=%d\n",
      static_cast<long long>(expected), static_cast<long long>(delivered), loss,
      start != 0 ? static_cast<double>(delivered) / span_s : 0.0, h.quantile(0.5) / 1e6, h.quantile(0.99) / 1e6,
      h.quantile(0.999) / 1e6, static_cast<double>(h.max()) / 1e6, static_cast<long long>(sent),
      static_cast<long long>(errors), o.clients, static_cast<long long>(joined), o.rooms, o.rate, o.size, o.duration_s,
      static_cast<long long>(join_timeouts), static_cast<long long>(stray), start != 0 ? 1 : 0);
  return start != 0 && joined > 0 ? 0 : 1;
}
