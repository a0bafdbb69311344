// RedisBus: the Bus of edges sharing one Redis; see redis_bus.h for the design.

#include "chat/redis_bus.h"

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/clock.h"
#include "common/ids.h"
#include "common/log.h"

namespace chiron::chat {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kFrameMagic = "cb1\n";
constexpr std::string_view kChannelPrefix = "chiron:chat:{";
constexpr size_t kMaxSeqDigits = 20;
constexpr int kMaxReplayRetries = 20;  // × kReplayRetryMs: a publisher that stays down ~4 s is a gap
constexpr int kReplayRetryMs = 200;

// KEYS[1] seq hash. ARGV: channel, fresh epoch, kind, frame tail (origin, state_key and body
// fields, already encoded). Builds the same frame as encode_bus_frame.
constexpr std::string_view kPublishScript = R"lua(
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if seq == 1 or not epoch then
  epoch = ARGV[2]
  redis.call('HSET', KEYS[1], 'epoch', epoch)
end
local s = string.format('%d', seq)
redis.call('PUBLISH', ARGV[1], 'cb1\n' .. #ARGV[3] .. ':' .. ARGV[3] .. #epoch .. ':' .. epoch .. #s .. ':' .. s .. ARGV[4])
return seq
)lua";

// KEYS[1] state hash. ARGV: channel, state_key, ttl_ms, frame.
constexpr std::string_view kStateScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[2], string.format('%d', now + ttl) .. '\n' .. ARGV[4])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return redis.call('PUBLISH', ARGV[1], ARGV[4])
)lua";

// KEYS[1] state hash → the frames of the live entries; expired (or foreign) entries deleted.
constexpr std::string_view kReplayScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  local v = all[i + 1]
  local nl = string.find(v, '\n', 1, true)
  local expires = nl and tonumber(string.sub(v, 1, nl - 1))
  if expires and expires > now then
    out[#out + 1] = string.sub(v, nl + 1)
  else
    redis.call('HDEL', KEYS[1], all[i])
  end
end
return out
)lua";

void append_field(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

// Reads "<len>:<bytes>" with len ≤ max_bytes from the front of `in`.
bool take_field(std::string_view& in, size_t max_bytes, std::string_view& field) {
  size_t len = 0, i = 0;
  size_t max_digits = 1;
  for (size_t m = max_bytes; m >= 10; m /= 10) ++max_digits;
  for (; i < in.size() && in[i] >= '0' && in[i] <= '9'; ++i) {
    if (i >= max_digits) return false;
    len = len * 10 + static_cast<size_t>(in[i] - '0');
  }
  if (i == 0 || i >= in.size() || in[i] != ':' || len > max_bytes) return false;
  if (i > 1 && in[0] == '0') return false;  // one spelling per length
  in.remove_prefix(i + 1);
  if (in.size() < len) return false;
  field = in.substr(0, len);
  in.remove_prefix(len);
  return true;
}

bool is_canonical_seq(std::string_view s, uint64_t& seq) {
  if (s.empty() || s.size() > kMaxSeqDigits || (s.size() > 1 && s[0] == '0')) return false;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (n > (UINT64_MAX - d) / 10) return false;
    n = n * 10 + d;
  }
  seq = n;
  return true;
}

// Origin, state_key and body as they follow the seq field; the publish script prepends the rest.
std::string frame_tail(std::string_view origin, std::string_view state_key, std::string_view body) {
  std::string out;
  out.reserve(16 + origin.size() + state_key.size() + body.size());
  append_field(out, origin);
  append_field(out, state_key);
  out += body;
  return out;
}

}  // namespace

std::string bus_channel(std::string_view room) {
  std::string c(kChannelPrefix);
  c += room;
  c += '}';
  return c;
}

Result<std::string> encode_bus_frame(const BusFrame& f) {
  auto bad = [](const char* why) { return Status::invalid_argument(std::string("bus frame: ") + why); };
  if (f.kind.empty() || f.kind.size() > kMaxBusKindBytes) return bad("kind empty or too long");
  if (f.epoch.size() > kMaxBusEpochBytes) return bad("epoch too long");
  if (f.origin.size() > kMaxBusOriginBytes) return bad("origin too long");
  if (f.state_key.size() > kMaxBusStateKeyBytes) return bad("state key too long");
  if (f.epoch.empty() != (f.seq == 0)) return bad("seq and epoch must both be set or both empty");
  if (f.seq != 0 && !f.state_key.empty()) return bad("sequenced events carry no state key");
  std::string out(kFrameMagic);
  append_field(out, f.kind);
  append_field(out, f.epoch);
  append_field(out, std::to_string(f.seq));
  out += frame_tail(f.origin, f.state_key, f.body);
  return out;
}

Result<BusFrame> parse_bus_frame(std::string_view in) {
  auto bad = [](const char* why) { return Status::invalid_argument(std::string("bus frame: ") + why); };
  if (!in.starts_with(kFrameMagic)) return bad("no cb1 header");
  in.remove_prefix(kFrameMagic.size());
  std::string_view kind, epoch, seq, origin, key;
  if (!take_field(in, kMaxBusKindBytes, kind) || kind.empty()) return bad("bad kind");
  if (!take_field(in, kMaxBusEpochBytes, epoch)) return bad("bad epoch");
  if (!take_field(in, kMaxSeqDigits, seq)) return bad("bad seq");
  if (!take_field(in, kMaxBusOriginBytes, origin)) return bad("bad origin");
  if (!take_field(in, kMaxBusStateKeyBytes, key)) return bad("bad state key");
  BusFrame f;
  if (!is_canonical_seq(seq, f.seq)) return bad("seq is not a decimal number");
  if (epoch.empty() != (f.seq == 0)) return bad("seq and epoch disagree");
  if (f.seq != 0 && !key.empty()) return bad("sequenced event with a state key");
  f.kind = kind;
  f.epoch = epoch;
  f.origin = origin;
  f.state_key = key;
  f.body = in;
  return f;
}

namespace {

// The state of the bus, shared with the callbacks of the Redis clients and with tasks posted to
// io_ (which may run after the RedisBus wrapper began to stop). Room table: loop-confined.
class Core : public std::enable_shared_from_this<Core> {
 public:
  enum Script { kPublish, kState, kReplay, kScriptCount };

  Core(asio::io_context& io, RedisOptions options)
      : io_(io), options_(std::move(options)), edge_id_(random_token(9)), epoch_base_(random_token(6)),
        publisher_(io, options_), subscriber_(io, options_) {}

  void start(BusSink sink) {
    sink_ = std::move(sink);
    std::weak_ptr<Core> weak = shared_from_this();
    subscriber_.on_message([weak](const std::string& channel, const std::string& payload) {
      if (auto self = weak.lock()) self->on_channel_message(channel, payload);
    });
    subscriber_.on_subscribed([weak](const std::string& channel) {
      if (auto self = weak.lock()) self->replay(channel);
    });
    subscriber_.on_gap([weak](std::vector<std::string> channels) {
      if (auto self = weak.lock()) self->on_gap(std::move(channels));
    });
    publisher_.start();
    subscriber_.start();
    for (int s = 0; s < kScriptCount; ++s) load_script(static_cast<Script>(s));
    log::info("chat", "redis bus started", {{"redis", describe()}, {"edge", edge_id_}});
  }

  void stop() {
    stopped_ = true;
    subscriber_.stop();
    publisher_.stop();  // fails pending publishes (kCancelled) on the io thread, then returns
  }

  void publish(std::string room, std::string kind, std::string body, std::function<void(Result<uint64_t>)> done) {
    if (stopped_) {
      if (done) done(Status::cancelled("chat bus stopped"));
      return;
    }
    if (kind.empty() || kind.size() > kMaxBusKindBytes) {
      if (done) done(Status::invalid_argument("chat bus: kind empty or too long"));
      return;
    }
    std::string epoch = epoch_base_ + "." + std::to_string(epoch_counter_.fetch_add(1) + 1);
    std::vector<std::string> args{"", "", "1", bus_channel(room) + ":seq", bus_channel(room), std::move(epoch),
                                  std::move(kind), frame_tail(edge_id_, {}, body)};
    run_script(kPublish, std::move(args), [self = shared_from_this(), done = std::move(done)](Result<RedisValue> r) {
      Status st;
      if (!r.ok()) {
        st = std::move(r).status().context("chat bus publish");
      } else if (r->type != RedisValue::Type::kInteger || r->integer <= 0) {
        st = Status::internal("chat bus publish: unexpected reply " + (r->is_error() ? r->str : std::string()));
      }
      if (!st.ok()) {
        ++self->failures_;
        if (done) done(std::move(st));
        return;
      }
      ++self->published_;
      if (done) done(static_cast<uint64_t>(r->integer));
    });
  }

  void signal(std::string room, std::string kind, std::string body, std::string state_key, int64_t ttl_ms) {
    if (stopped_) return;
    const bool stored = !state_key.empty() && ttl_ms > 0;
    auto frame = encode_bus_frame(BusFrame{std::move(kind), {}, 0, edge_id_, stored ? state_key : std::string(),
                                           std::move(body)});
    if (!frame.ok()) {
      log::warn("chat", "signal dropped", {{"error", frame.status().to_string()}});
      return;
    }
    auto on_fail = [weak = weak_from_this()](Result<RedisValue> r) {
      auto self = weak.lock();
      if (!self || (r.ok() && !r->is_error())) return;
      // Presence signals are frequent: while Redis is down, log the 1st, 2nd, 4th, ... failure.
      const uint64_t n = ++self->signal_failures_;
      if ((n & (n - 1)) == 0)
        log::warn("chat", "signal not published",
                  {{"error", r.ok() ? r->str : r.status().to_string()}, {"failures", n}});
    };
    if (!stored) {
      publisher_.command({"PUBLISH", bus_channel(room), std::move(*frame)}, on_fail);
      return;
    }
    run_script(kState, {"", "", "1", bus_channel(room) + ":state", bus_channel(room), std::move(state_key),
                        std::to_string(ttl_ms), std::move(*frame)},
               on_fail);
  }

  void subscribe(const std::string& room) {
    asio::post(io_, [self = shared_from_this(), channel = bus_channel(room)] {
      if (self->stopped_) return;
      self->rooms_.try_emplace(channel);
      self->subscriber_.subscribe(channel);
    });
  }

  void unsubscribe(const std::string& room) {
    asio::post(io_, [self = shared_from_this(), channel = bus_channel(room)] {
      if (self->stopped_) return;
      self->rooms_.erase(channel);
      self->subscriber_.unsubscribe(channel);
    });
  }

  const std::string& edge_id() const { return edge_id_; }
  std::string describe() const {
    const bool v6 = options_.host.find(':') != std::string::npos;
    return "redis://" + (v6 ? "[" + options_.host + "]" : options_.host) + ":" + std::to_string(options_.port) +
           "/" + std::to_string(options_.db);
  }

  RedisBusStats stats() const {
    return RedisBusStats{published_.load(), failures_.load(), signal_failures_.load(), delivered_.load(),
                         malformed_.load(), gaps_.load()};
  }

 private:
  struct RoomState {
    uint64_t replay_gen = 0;                   // the replay in flight; older replies are dropped
    int replay_failures = 0;                   // of the current replay, retried kMaxReplayRetries times
    bool replay_pending = false;
    std::unordered_set<std::string> live_keys;  // state keys seen live while replay_pending
  };

  static std::string_view script_text(Script s) {
    switch (s) {
      case kPublish: return kPublishScript;
      case kState: return kStateScript;
      default: return kReplayScript;
    }
  }

  // args[0..1] are placeholders for the command and script; the rest: numkeys, keys, argv.
  void run_script(Script s, std::vector<std::string> args, RedisCallback cb) {
    std::string sha;
    {
      std::lock_guard lock(mu_);
      sha = sha_[s];
    }
    if (sha.empty()) {
      args[0] = "EVAL";
      args[1] = script_text(s);
      load_script(s);  // EVAL caches the script in Redis; learn its sha for the next calls
      publisher_.command(std::move(args), std::move(cb));
      return;
    }
    args[0] = "EVALSHA";
    args[1] = sha;
    auto retry = std::make_shared<std::vector<std::string>>(args);
    publisher_.command(std::move(args), [self = shared_from_this(), s, retry, cb = std::move(cb)](Result<RedisValue> r) {
      if (r.ok() && r->is_error() && r->str.starts_with("NOSCRIPT")) {
        // Redis restarted or flushed its scripts: the script did not run, so running it now is safe.
        {
          std::lock_guard lock(self->mu_);
          self->sha_[s].clear();
        }
        (*retry)[0] = "EVAL";
        (*retry)[1] = script_text(s);
        self->load_script(s);
        self->publisher_.command(std::move(*retry), std::move(cb));
        return;
      }
      cb(std::move(r));
    });
  }

  void load_script(Script s) {
    if (loading_[s].exchange(true)) return;
    publisher_.command({"SCRIPT", "LOAD", std::string(script_text(s))},
                       [weak = weak_from_this(), s](Result<RedisValue> r) {
                         auto self = weak.lock();
                         if (!self) return;
                         self->loading_[s] = false;
                         if (!r.ok() || r->type != RedisValue::Type::kString) return;  // EVAL until it loads
                         std::lock_guard lock(self->mu_);
                         self->sha_[s] = r->str;
                       });
  }

  void deliver(BusEvent ev) {
    if (stopped_ || !sink_.deliver) return;
    ++delivered_;
    sink_.deliver(ev);
  }

  static std::string room_of(const std::string& channel) {
    return channel.substr(kChannelPrefix.size(), channel.size() - kChannelPrefix.size() - 1);
  }

  void count_malformed(const std::string& channel, const Status& why) {
    // Rate-limited: a hostile publisher must not flood the log.
    const uint64_t n = ++malformed_;
    if ((n & (n - 1)) == 0)
      log::warn("chat", "malformed bus frame dropped", {{"channel", channel}, {"error", why.to_string()}, {"count", n}});
  }

  void on_channel_message(const std::string& channel, const std::string& payload) {
    auto it = rooms_.find(channel);
    if (it == rooms_.end() || stopped_) return;
    auto f = parse_bus_frame(payload);
    if (!f.ok()) return count_malformed(channel, f.status());
    if (it->second.replay_pending && !f->state_key.empty()) it->second.live_keys.insert(f->state_key);
    deliver(BusEvent{room_of(channel), std::move(f->kind), std::move(f->epoch), f->seq, std::move(f->body), false});
  }

  // Redis confirmed our SUBSCRIBE: fetch the stored state.
  void replay(const std::string& channel) {
    auto it = rooms_.find(channel);
    if (it == rooms_.end() || stopped_) return;
    RoomState& room = it->second;
    room.replay_pending = true;
    room.replay_failures = 0;
    room.live_keys.clear();
    run_replay(channel, room);
  }

  void run_replay(const std::string& channel, RoomState& room) {
    const uint64_t gen = ++room.replay_gen;
    run_script(kReplay, {"", "", "1", channel + ":state"},
               [weak = weak_from_this(), channel, gen](Result<RedisValue> r) {
                 if (auto self = weak.lock()) self->on_replay(channel, gen, std::move(r));
               });
  }

  void on_replay(const std::string& channel, uint64_t gen, Result<RedisValue> r) {
    auto it = rooms_.find(channel);
    if (it == rooms_.end() || it->second.replay_gen != gen || stopped_) return;
    RoomState& room = it->second;
    if (!r.ok() || r->type != RedisValue::Type::kArray) {
      if (!r.ok() && r.status().code() == StatusCode::kCancelled) return;
      // Typically the publisher is still reconnecting after the subscriber already did: retry
      // (the live keys keep accumulating meanwhile), and give up as a gap after a while.
      if (room.replay_failures == 0 || room.replay_failures == kMaxReplayRetries)  // not once per retry
        log::warn("chat", "state replay failed",
                  {{"channel", channel}, {"error", r.ok() ? r->str : r.status().to_string()},
                   {"attempt", room.replay_failures + 1}});
      if (++room.replay_failures > kMaxReplayRetries) {
        room.replay_failures = 0;
        room.replay_pending = false;
        room.live_keys.clear();
        report_gap({room_of(channel)});
        return;
      }
      auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(kReplayRetryMs));
      timer->async_wait([weak = weak_from_this(), timer, channel, gen](const boost::system::error_code&) {
        auto self = weak.lock();
        if (!self || self->stopped_) return;
        auto again = self->rooms_.find(channel);
        if (again != self->rooms_.end() && again->second.replay_gen == gen) self->run_replay(channel, again->second);
      });
      return;
    }
    room.replay_failures = 0;
    room.replay_pending = false;
    std::unordered_set<std::string> live;
    live.swap(room.live_keys);
    const std::string room_name = room_of(channel);
    for (const RedisValue& v : r->elements) {
      auto f = parse_bus_frame(v.str);
      if (!f.ok() || f->state_key.empty()) {
        count_malformed(channel + ":state", f.ok() ? Status::invalid_argument("stored entry without key") : f.status());
        continue;
      }
      if (live.count(f->state_key)) continue;  // a newer value was delivered live
      deliver(BusEvent{room_name, std::move(f->kind), {}, 0, std::move(f->body), true});
    }
  }

  void on_gap(std::vector<std::string> channels) {
    std::vector<std::string> rooms;
    for (const auto& c : channels)
      if (rooms_.count(c)) rooms.push_back(room_of(c));
    if (!rooms.empty()) report_gap(std::move(rooms));
  }

  void report_gap(std::vector<std::string> rooms) {
    if (stopped_ || !sink_.gap) return;
    ++gaps_;
    log::warn("chat", "bus gap: events of these rooms may be lost", {{"rooms", std::to_string(rooms.size())}});
    sink_.gap(rooms);
  }

  asio::io_context& io_;
  const RedisOptions options_;
  const std::string edge_id_;
  const std::string epoch_base_;  // epochs offered by this edge: epoch_base_.N, unique per call
  std::atomic<uint64_t> epoch_counter_{0};
  RedisPublisher publisher_;
  RedisSubscriber subscriber_;
  BusSink sink_;  // set by start() before any callback can run
  std::atomic<bool> stopped_{false};
  std::mutex mu_;
  std::array<std::string, kScriptCount> sha_;  // Guarded by mu_; empty: use EVAL
  std::array<std::atomic<bool>, kScriptCount> loading_{};
  std::unordered_map<std::string, RoomState> rooms_;  // by channel; loop-confined
  std::atomic<uint64_t> published_{0}, failures_{0}, delivered_{0}, malformed_{0}, gaps_{0};
  std::atomic<uint64_t> signal_failures_{0};
};

class RedisBusImpl final : public RedisBus {
 public:
  RedisBusImpl(asio::io_context& io, RedisOptions options) : core_(std::make_shared<Core>(io, std::move(options))) {}
  ~RedisBusImpl() override { stop(); }

  void start(BusSink sink) override { core_->start(std::move(sink)); }
  void stop() override { core_->stop(); }
  void publish(std::string room, std::string kind, std::string body,
               std::function<void(Result<uint64_t>)> done) override {
    core_->publish(std::move(room), std::move(kind), std::move(body), std::move(done));
  }
  void signal(std::string room, std::string kind, std::string body, std::string state_key,
              int64_t ttl_ms) override {
    core_->signal(std::move(room), std::move(kind), std::move(body), std::move(state_key), ttl_ms);
  }
  void subscribe(const std::string& room) override { core_->subscribe(room); }
  void unsubscribe(const std::string& room) override { core_->unsubscribe(room); }
  const std::string& edge_id() const override { return core_->edge_id(); }
  std::string describe() const override { return core_->describe(); }
  RedisBusStats stats() const override { return core_->stats(); }

 private:
  std::shared_ptr<Core> core_;  // shared with tasks posted to io and the Redis clients' callbacks
};

}  // namespace

std::unique_ptr<RedisBus> make_redis_bus(asio::io_context& io, RedisOptions options) {
  return std::make_unique<RedisBusImpl>(io, std::move(options));
}

}  // namespace chiron::chat
