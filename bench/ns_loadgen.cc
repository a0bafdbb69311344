// ns_loadgen: a native RESP load generator for `chiron ns` (REQ) and, as the
// peer, redis-server (GET), driven by bench/ns_vs_redis.sh.
//
// DESIGN: closed loop, like redis-benchmark. Each connection sends a batch of
// -P copies of one RESP-encoded command in one write, waits for all -P
// replies, records the batch latency (send → last reply; = per-request latency
// when -P 1) and sends the next batch. -t threads each run an epoll loop over
// their share of the -c connections; nothing is shared between them but an
// atomic request budget (-n) and the deadline (-d). Replies are parsed as RESP2
// (nested arrays included); any '-' reply counts as an error and fails the run
// unless --allow-errors. Latencies go into a log-bucketed histogram with 128
// linear sub-buckets per power of two (< 0.8 % relative error, as HdrHistogram
// with 2 significant digits).
//
// --churn RATE adds a separate connection doing REG+HB / REM of throwaway
// servers 10.9.x.y:port on the REQ'd service at RATE REG+REM per second, so
// pool changes contend with REQ. --setup registers (REG + HB, pipelined) a pool
// of N servers and exits.
//
// Output, one line: rps=… p50_us=… p99_us=… errors=… requests=… (+ extra keys).
// 127.0.0.1 or any IPv4 literal only; no name resolution.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "latency_histogram.h"

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "ns_loadgen: %s\n", why.c_str());
  std::exit(2);
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

using Histogram = chiron::bench::LatencyHistogram;

// Skips one complete RESP2 reply starting at p. Returns the end of it, or nullptr if
// incomplete. Sets *error for a top-level '-' reply; dies on bytes that are not RESP.
const char* skip_reply(const char* p, const char* end, bool* error, std::string* text) {
  if (p >= end) return nullptr;
  const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
  if (nl == nullptr) return nullptr;
  const char type = *p;
  if (text != nullptr) text->assign(p, nl);
  switch (type) {
    case '+': case ':': return nl + 1;
    case '-': if (error != nullptr) *error = true; return nl + 1;
    case '$': {
      const long len = std::strtol(p + 1, nullptr, 10);
      if (len < 0) return nl + 1;
      if (end - (nl + 1) < len + 2) return nullptr;
      return nl + 1 + len + 2;
    }
    case '*': {
      long n = std::strtol(p + 1, nullptr, 10);
      const char* q = nl + 1;
      for (; n > 0; --n) {
        q = skip_reply(q, end, nullptr, nullptr);
        if (q == nullptr) return nullptr;
      }
      return q;
    }
    default: die("not a RESP reply: " + std::string(p, nl));
  }
}

std::string encode_command(std::string_view line) {
  std::vector<std::string_view> args;
  for (size_t i = 0; i < line.size();) {
    while (i < line.size() && line[i] == ' ') ++i;
    const size_t j = std::min(line.find(' ', i), line.size());
    if (j > i) args.push_back(line.substr(i, j - i));
    i = j;
  }
  if (args.empty()) die("empty command");
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (auto a : args) out += "$" + std::to_string(a.size()) + "\r\n" + std::string(a) + "\r\n";
  return out;
}

int connect_to(const std::string& host, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1) die("--host must be an IPv4 literal: " + host);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
    die("connect " + host + ":" + std::to_string(port) + ": " + std::strerror(errno));
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die(std::string("send: ") + std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// A blocking connection for setup and churn: send many commands, read exactly that many replies.
struct SyncConn {
  explicit SyncConn(int f) : fd(f) {}
  int fd;
  std::string buf;
  size_t pos = 0;
  std::string last_error;
  // Returns the number of '-' replies among the next `count` replies.
  uint64_t read_replies(uint64_t count) {
    uint64_t errors = 0;
    while (count > 0) {
      bool err = false;
      std::string text;
      const char* end = skip_reply(buf.data() + pos, buf.data() + buf.size(), &err, &text);
      if (end != nullptr) {
        pos = static_cast<size_t>(end - buf.data());
        if (err) ++errors, last_error = text;
        --count;
        continue;
      }
      buf.erase(0, pos);
      pos = 0;
      char tmp[65536];
      const ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) die("server closed the connection (" + std::string(n < 0 ? std::strerror(errno) : "EOF") + ")");
      buf.append(tmp, static_cast<size_t>(n));
    }
    return errors;
  }
};

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  int connections = 50;
  int pipeline = 1;
  int threads = 1;
  uint64_t requests = 0;   // -n
  double duration_s = 0;   // -d
  double warmup_s = 0;
  std::string command = "REQ web";
  double churn_rate = 0;
  bool allow_errors = false;
  std::string setup_service;  // --setup SERVICE
  uint64_t setup_servers = 0; // --servers N
  uint32_t setup_subnet = 0;  // --subnet K: addresses 10.K.x.y
  bool setup_hb_only = false; // --hb-only: renew the pool's leases, no REG
};

// Shared by the worker threads of one phase.
struct Phase {
  std::atomic<int64_t> budget;  // requests left to send (-n); INT64_MAX when only -d bounds
  int64_t deadline_ns;          // no batch starts after this
  bool record;
};

struct ThreadResult {
  Histogram hist;
  uint64_t requests = 0;
  uint64_t errors = 0;
  std::string first_error;
  int64_t last_reply_ns = 0;
};

struct Conn {
  int fd = -1;
  std::string in;
  size_t in_pos = 0;
  int in_flight = 0;
  int batch = 0;
  int64_t sent_ns = 0;
};

class Worker {
 public:
  Worker(const Options& o, const std::string& wire, int nconns) : opt_(o), wire_(wire) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    conns_.resize(static_cast<size_t>(nconns));
    for (size_t i = 0; i < conns_.size(); ++i) {
      conns_[i].fd = connect_to(o.host, o.port);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, conns_[i].fd, &ev) != 0) die("epoll_ctl");
    }
    batch_.reserve(wire.size() * static_cast<size_t>(o.pipeline));
    for (int i = 0; i < o.pipeline; ++i) batch_ += wire;
  }
  ~Worker() {
    for (auto& c : conns_) ::close(c.fd);
    ::close(epfd_);
  }

  ThreadResult run(Phase& phase) {
    ThreadResult r;
    int active = 0;
    for (auto& c : conns_) active += send_batch(c, phase) ? 1 : 0;
    std::array<epoll_event, 256> events;
    int64_t last_progress = now_ns();
    while (active > 0) {
      const int n = ::epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), 1000);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) die(std::string("epoll_wait: ") + std::strerror(errno));
      if (n == 0 && now_ns() - last_progress > 10'000'000'000) die("no reply for 10 s");
      for (int k = 0; k < n; ++k) {
        Conn& c = conns_[events[static_cast<size_t>(k)].data.u64];
        if (!on_readable(c, phase, r)) continue;
        last_progress = r.last_reply_ns;
        if (!send_batch(c, phase)) --active;
      }
    }
    return r;
  }

 private:
  // Sends the next batch unless the budget or the deadline is spent. True if sent.
  bool send_batch(Conn& c, Phase& phase) {
    const int64_t t = now_ns();
    if (t >= phase.deadline_ns) return false;
    int64_t want = opt_.pipeline;
    int64_t left = phase.budget.fetch_sub(want, std::memory_order_relaxed);
    if (left <= 0) return false;
    if (left < want) want = left;
    c.batch = static_cast<int>(want);
    c.in_flight = c.batch;
    c.sent_ns = t;
    write_all(c.fd, std::string_view(batch_).substr(0, wire_.size() * static_cast<size_t>(want)));
    return true;
  }

  // Reads and parses replies. True when the connection's batch is complete.
  bool on_readable(Conn& c, Phase& phase, ThreadResult& r) {
    char tmp[65536];
    const ssize_t n = ::recv(c.fd, tmp, sizeof tmp, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return false;
    if (n <= 0) die("server closed the connection (" + std::string(n < 0 ? std::strerror(errno) : "EOF") + ")");
    if (c.in_pos == c.in.size()) c.in.clear(), c.in_pos = 0;
    c.in.append(tmp, static_cast<size_t>(n));
    while (c.in_flight > 0) {
      bool err = false;
      const char* b = c.in.data() + c.in_pos;
      const char* end = skip_reply(b, c.in.data() + c.in.size(), &err, nullptr);
      if (end == nullptr) break;
      if (err && ++r.errors == 1) r.first_error.assign(b, end - (end - 2 >= b && end[-2] == '\r' ? 2 : 1));
      c.in_pos = static_cast<size_t>(end - c.in.data());
      --c.in_flight;
    }
    if (c.in_flight > 0) return false;
    if (c.in_pos != c.in.size()) die("more replies than requests");
    const int64_t t = now_ns();
    r.last_reply_ns = t;
    if (phase.record) {
      r.hist.record(t - c.sent_ns, static_cast<uint64_t>(c.batch));
      r.requests += static_cast<uint64_t>(c.batch);
    }
    return true;
  }

  const Options& opt_;
  const std::string& wire_;
  std::string batch_;
  int epfd_;
  std::vector<Conn> conns_;
};

// Address of throwaway server i in subnet 10.K.x.y, port 8000 + i / 62500.
std::string server_addr(uint32_t subnet, uint64_t i) {
  return "10." + std::to_string(subnet) + "." + std::to_string((i / 250) % 250) + "." + std::to_string(i % 250 + 1) +
         ":" + std::to_string(8000 + i / 62500);
}

std::string resp(std::initializer_list<std::string_view> args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (auto a : args) out += "$" + std::to_string(a.size()) + "\r\n" + std::string(a) + "\r\n";
  return out;
}

int run_setup(const Options& o) {
  SyncConn c(connect_to(o.host, o.port));
  constexpr uint64_t kChunk = 1000;
  uint64_t errors = 0;
  for (uint64_t i = 0; i < o.setup_servers; i += kChunk) {
    std::string out;
    const uint64_t end = std::min(o.setup_servers, i + kChunk);
    for (uint64_t k = i; k < end; ++k) {
      const std::string a = server_addr(o.setup_subnet, k);
      if (!o.setup_hb_only) out += resp({"REG", o.setup_service, a});
      out += resp({"HB", o.setup_service, a});
    }
    write_all(c.fd, out);
    errors += c.read_replies((o.setup_hb_only ? 1 : 2) * (end - i));
  }
  ::close(c.fd);
  std::printf("setup service=%s servers=%llu errors=%llu%s%s\n", o.setup_service.c_str(),
              static_cast<unsigned long long>(o.setup_servers), static_cast<unsigned long long>(errors),
              errors ? " last_error=" : "", c.last_error.c_str());
  return errors == 0 ? 0 : 1;
}

// Churn: REG+HB a new throwaway server, REM the oldest once 64 are live; RATE counts REG and REM.
struct Churn {
  uint64_t ops = 0;
  uint64_t errors = 0;
  std::string last_error;
  Histogram hist;
};

void run_churn(const Options& o, const std::string& service, const std::atomic<bool>& stop, Churn& out) {
  SyncConn c(connect_to(o.host, o.port));
  constexpr uint64_t kLive = 64;
  const auto period = std::chrono::nanoseconds(static_cast<int64_t>(1e9 / o.churn_rate));
  auto next = Clock::now();
  uint64_t added = 0, removed = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    std::this_thread::sleep_until(next);
    next += period;
    const int64_t t0 = now_ns();
    std::string cmd;
    uint64_t replies = 1;
    if (added - removed < kLive || (out.ops % 2 == 0)) {
      const std::string a = server_addr(9, added++);
      cmd = resp({"REG", service, a}) + resp({"HB", service, a});
      replies = 2;
    } else {
      cmd = resp({"REM", service, server_addr(9, removed++)});
    }
    write_all(c.fd, cmd);
    out.errors += c.read_replies(replies);
    out.hist.record(now_ns() - t0);
    ++out.ops;
  }
  // Leave the pool as we found it.
  std::string cleanup;
  const uint64_t live = added - removed;
  for (; removed < added; ++removed) cleanup += resp({"REM", service, server_addr(9, removed)});
  write_all(c.fd, cleanup);
  out.errors += c.read_replies(live);
  out.last_error = c.last_error;
  ::close(c.fd);
}

uint64_t parse_u64(const char* s, const char* flag) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s, &end, 10);
  if (end == s || *end != '\0') die(std::string("bad number for ") + flag + ": " + s);
  return v;
}

double parse_double(const char* s, const char* flag) {
  char* end = nullptr;
  const double v = std::strtod(s, &end);
  if (end == s || *end != '\0' || v < 0) die(std::string("bad number for ") + flag + ": " + s);
  return v;
}

void usage() {
  std::puts(
      "usage: ns_loadgen --port PORT [--host 127.0.0.1] [-c 50] [-P 1] [-t 1] [-n REQUESTS | -d SECONDS]\n"
      "                  [--command 'REQ web'] [--churn RATE] [--warmup SECONDS] [--allow-errors]\n"
      "       ns_loadgen --port PORT --setup SERVICE --servers N [--subnet K] [--hb-only]\n"
      "                  (REG+HB, or HB only, for servers 10.K.x.y:800z, pipelined)\n"
      "prints: rps=... p50_us=... p99_us=... errors=... requests=...");
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto val = [&]() -> const char* {
      if (i + 1 >= argc) die(std::string("missing value for ") + argv[i]);
      return argv[++i];
    };
    if (a == "-h" || a == "--help") usage(), std::exit(0);
    else if (a == "--host") o.host = val();
    else if (a == "--port" || a == "-p") o.port = static_cast<uint16_t>(parse_u64(val(), "--port"));
    else if (a == "-c") o.connections = static_cast<int>(parse_u64(val(), "-c"));
    else if (a == "-P") o.pipeline = static_cast<int>(parse_u64(val(), "-P"));
    else if (a == "-t") o.threads = static_cast<int>(parse_u64(val(), "-t"));
    else if (a == "-n") o.requests = parse_u64(val(), "-n");
    else if (a == "-d") o.duration_s = parse_double(val(), "-d");
    else if (a == "--warmup") o.warmup_s = parse_double(val(), "--warmup");
    else if (a == "--command") o.command = val();
    else if (a == "--churn") o.churn_rate = parse_double(val(), "--churn");
    else if (a == "--allow-errors") o.allow_errors = true;
    else if (a == "--setup") o.setup_service = val();
    else if (a == "--servers") o.setup_servers = parse_u64(val(), "--servers");
    else if (a == "--hb-only") o.setup_hb_only = true;
    else if (a == "--subnet") o.setup_subnet = static_cast<uint32_t>(parse_u64(val(), "--subnet"));
    else die("unknown option " + std::string(a) + " (see --help)");
  }
  if (o.port == 0) die("--port is required");
  if (o.connections < 1 || o.pipeline < 1 || o.threads < 1) die("-c, -P and -t must be >= 1");
  if (o.threads > o.connections) o.threads = o.connections;
  if (o.requests == 0 && o.duration_s == 0) o.requests = 100000;
  if (o.duration_s > 3600 || o.warmup_s > 3600) die("-d and --warmup are capped at 3600 s");
  if (o.churn_rate > 100000) die("--churn is capped at 100000/s");
  if (o.setup_subnet > 255) die("--subnet must be 0..255");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse_options(argc, argv);
  if (!opt.setup_service.empty()) return run_setup(opt);

  const std::string wire = encode_command(opt.command);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < opt.threads; ++t)
    workers.push_back(std::make_unique<Worker>(opt, wire, opt.connections / opt.threads + (t < opt.connections % opt.threads)));

  auto run_phase = [&](int64_t budget, double seconds, bool record) {
    Phase phase{{budget}, seconds > 0 ? now_ns() + static_cast<int64_t>(seconds * 1e9) : INT64_MAX, record};
    std::vector<ThreadResult> results(workers.size());
    std::vector<std::thread> threads;
    for (size_t t = 0; t < workers.size(); ++t)
      threads.emplace_back([&, t] { results[t] = workers[t]->run(phase); });
    for (auto& th : threads) th.join();
    return results;
  };

  if (opt.warmup_s > 0) run_phase(INT64_MAX, opt.warmup_s, false);

  // The churn connection names the service REQ'd ("REQ web" → web).
  std::string service = "web";
  if (const size_t sp = opt.command.find(' '); sp != std::string::npos) service = opt.command.substr(sp + 1);
  service = service.substr(0, service.find(' '));
  std::atomic<bool> stop_churn{false};
  Churn churn;
  std::thread churn_thread;
  if (opt.churn_rate > 0) churn_thread = std::thread([&] { run_churn(opt, service, stop_churn, churn); });

  const int64_t start = now_ns();
  auto results = run_phase(opt.requests ? static_cast<int64_t>(opt.requests) : INT64_MAX, opt.duration_s, true);
  stop_churn = true;
  if (churn_thread.joinable()) churn_thread.join();

  Histogram hist;
  uint64_t requests = 0, errors = 0;
  int64_t end = start;
  std::string first_error;
  for (auto& r : results) {
    hist.merge(r.hist);
    requests += r.requests;
    errors += r.errors;
    end = std::max(end, r.last_reply_ns);
    if (first_error.empty()) first_error = r.first_error;
  }
  const double secs = static_cast<double>(end - start) / 1e9;
  std::printf("rps=%.0f p50_us=%.1f p99_us=%.1f errors=%llu requests=%llu p999_us=%.1f max_us=%.1f seconds=%.3f "
              "c=%d P=%d t=%d",
              secs > 0 ? static_cast<double>(requests) / secs : 0.0, hist.quantile(0.50) / 1e3,
              hist.quantile(0.99) / 1e3, static_cast<unsigned long long>(errors),
              static_cast<unsigned long long>(requests), hist.quantile(0.999) / 1e3, hist.quantile(1.0) / 1e3, secs,
              opt.connections, opt.pipeline, opt.threads);
  if (opt.churn_rate > 0)
    std::printf(" churn_ops=%llu churn_rate=%.0f churn_p99_us=%.1f churn_errors=%llu",
                static_cast<unsigned long long>(churn.ops), secs > 0 ? static_cast<double>(churn.ops) / secs : 0.0,
                churn.hist.quantile(0.99) / 1e3, static_cast<unsigned long long>(churn.errors));
  std::printf("\n");
  std::fflush(stdout);
  if (!first_error.empty()) std::fprintf(stderr, "ns_loadgen: first error reply: %s\n", first_error.c_str());
  if (!churn.last_error.empty()) std::fprintf(stderr, "ns_loadgen: churn error reply: %s\n", churn.last_error.c_str());
  if ((errors > 0 || churn.errors > 0) && !opt.allow_errors) return 1;
  return 0;
}
