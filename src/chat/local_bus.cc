// LocalBus: the Bus of a single process (bus.h). Publishing assigns the room's next seq and
// delivers inline under the bus mutex, so two threads publishing to one room deliver in seq
// order; signals deliver inline; stored state is replayed on the io_context after subscribe().

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <map>
#include <mutex>
#include <unordered_map>

#include "chat/bus.h"
#include "common/clock.h"
#include "common/ids.h"

namespace chiron::chat {
namespace {

namespace asio = boost::asio;

class LocalBus final : public Bus {
 public:
  explicit LocalBus(asio::io_context& io) : io_(io), edge_id_(random_token(9)) {}
  ~LocalBus() override { stop(); }

  void start(BusSink sink) override {
    std::lock_guard lock(mu_);
    sink_ = std::move(sink);
  }

  void stop() override {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }

  void publish(std::string room, std::string kind, std::string body,
               std::function<void(Result<uint64_t>)> done) override {
    uint64_t seq = 0;
    {
      std::lock_guard lock(mu_);
      if (stopped_) {
        if (done) done(Status(StatusCode::kCancelled, "chat bus stopped"));
        return;
      }
      Room& r = rooms_[room];
      if (r.epoch.empty()) r.epoch = random_token(6);
      BusEvent ev{std::move(room), std::move(kind), r.epoch, ++r.seq, std::move(body), false};
      seq = ev.seq;
      if (sink_.deliver) sink_.deliver(ev);
    }
    if (done) done(seq);
  }

  void signal(std::string room, std::string kind, std::string body, std::string state_key,
              int64_t ttl_ms) override {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    if (!state_key.empty() && ttl_ms > 0) {
      Room& r = rooms_[room];
      r.state[state_key] = Stored{kind, body, Clock::system().steady_us() / 1000 + ttl_ms};
    }
    BusEvent ev{std::move(room), std::move(kind), {}, 0, std::move(body), false};
    if (sink_.deliver) sink_.deliver(ev);
  }

  void subscribe(const std::string& room) override {
    // Replayed on the io thread, never inline: the caller may hold its room lock.
    asio::post(io_, [this, alive = std::weak_ptr<void>(alive_), room] {
      if (alive.expired()) return;  // destroyed meanwhile (the io thread is the only other user)
      std::vector<BusEvent> replay;
      std::lock_guard lock(mu_);
      if (stopped_ || !sink_.deliver) return;
      auto it = rooms_.find(room);
      if (it == rooms_.end()) return;
      const int64_t now_ms = Clock::system().steady_us() / 1000;
      auto& state = it->second.state;
      for (auto s = state.begin(); s != state.end();) {
        if (s->second.expires_ms <= now_ms) {
          s = state.erase(s);
          continue;
        }
        sink_.deliver(BusEvent{room, s->second.kind, {}, 0, s->second.body, true});
        ++s;
      }
    });
  }

  void unsubscribe(const std::string&) override {}

  const std::string& edge_id() const override { return edge_id_; }
  std::string describe() const override { return "local"; }

 private:
  struct Stored {
    std::string kind;
    std::string body;
    int64_t expires_ms = 0;  // steady clock
  };
  struct Room {
    std::string epoch;
    uint64_t seq = 0;
    std::map<std::string, Stored> state;
  };

  asio::io_context& io_;
  const std::string edge_id_;
  std::shared_ptr<void> alive_ = std::make_shared<int>(0);  // replays posted to io_ check it first
  std::mutex mu_;
  bool stopped_ = false;                            // Guarded by mu_
  BusSink sink_;                                    // Guarded by mu_
  std::unordered_map<std::string, Room> rooms_;     // Guarded by mu_
};

}  // namespace

std::unique_ptr<Bus> make_local_bus(asio::io_context& io) { return std::make_unique<LocalBus>(io); }

}  // namespace chiron::chat
