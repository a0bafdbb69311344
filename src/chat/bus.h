#pragma once
// DESIGN — Bus: how a room's events reach every edge process that has members in it.
//
// The chat server never sends a room event to its sockets directly: it hands it to the bus and
// delivers what the bus gives back (its own events included). So one process (LocalBus) and
// several processes sharing Redis (RedisBus, redis_bus.h) take the same path, and every edge
// sees a room's sequenced events in the same order with the same seq numbers.
//
// Two kinds of events:
//   - sequenced (publish): chat messages, tombstones — anything a reconnecting client may need
//     to recover. The bus gives each the room's next seq (1, 2, 3, ... within an epoch). An epoch
//     names one run of a room's counter: when the counter is lost (a fresh room, a flushed Redis)
//     the epoch changes and seq restarts, so "epoch E, seq N" never means two different events.
//   - signals (signal): presence, bans, mutes, slow mode — no seq. A signal with a state_key is
//     also kept as the room's state under that key (the latest value wins, dropped after ttl_ms)
//     and replayed to an edge when it subscribes the room, so an edge that arrives later still
//     learns of a ban made before.
//
// Bodies are opaque JSON text to the bus.
//
// Threading and locks:
//   - publish() and signal() may call sink.deliver inline on the caller's thread (LocalBus
//     does): call them without holding a lock that deliver takes.
//   - subscribe()/unsubscribe() never call the sink inline and take no lock the sink's
//     callbacks wait on, so they may be called under the caller's own locks (the chat server
//     calls them under its room lock, which is what keeps them in order and balanced).
//   - sink.deliver is called for one room from one thread at a time, in seq order for sequenced
//     events; different rooms may be delivered from different threads.
//   - start() once before anything else; stop() fails pending publishes with kCancelled and
//     returns when no callback runs any more. Thread-safe otherwise.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace chiron::chat {

struct BusEvent {
  std::string room;
  std::string kind;     // "message", "delete", "presence", "ban", ... (chosen by the chat server)
  std::string epoch;    // sequenced events: the room's counter run; empty for signals
  uint64_t seq = 0;     // sequenced events: 1, 2, ... within epoch; 0 for signals
  std::string body;     // JSON text
  bool replayed = false;  // a stored state entry replayed at subscribe (not a fresh signal)
};

struct BusSink {
  // Every event of a subscribed room, the edge's own included.
  std::function<void(const BusEvent&)> deliver;
  // Events of these rooms may have been lost (e.g. the Redis connection dropped); the rooms are
  // subscribed again when this is called. Never called by LocalBus.
  std::function<void(const std::vector<std::string>& rooms)> gap;
};

class Bus {
 public:
  virtual ~Bus() = default;

  virtual void start(BusSink sink) = 0;
  virtual void stop() = 0;

  // Orders the event in its room, then delivers it to every subscribed edge. done(seq) is called
  // once, from any thread, when the order is fixed (LocalBus: after the local delivery); on
  // failure (kUnavailable: Redis unreachable; kCancelled: stopped) the event was not delivered
  // (or, for a lost connection, its fate is unknown).
  virtual void publish(std::string room, std::string kind, std::string body,
                       std::function<void(Result<uint64_t>)> done) = 0;

  // Delivers to every subscribed edge without a seq. With a state_key, also stored as the room's
  // state under that key (replacing the previous value) for ttl_ms (> 0), replayed at subscribe.
  virtual void signal(std::string room, std::string kind, std::string body, std::string state_key = {},
                      int64_t ttl_ms = 0) = 0;

  // The first local member joined / the last one left. The caller keeps the calls balanced and
  // ordered per room. subscribe() replays the room's stored state (BusEvent::replayed) soon after.
  virtual void subscribe(const std::string& room) = 0;
  virtual void unsubscribe(const std::string& room) = 0;

  // This edge's name among the edges sharing the bus (random per process).
  virtual const std::string& edge_id() const = 0;
  // "local" or "redis://host:port/db" for logs and stats.
  virtual std::string describe() const = 0;
};

// One process: seq counters and state in memory. io runs the subscribe-time state replays.
// The counters of rooms are kept for the life of the process (a few dozen bytes per room ever
// used), so a room that empties and fills again keeps its epoch and seq.
std::unique_ptr<Bus> make_local_bus(boost::asio::io_context& io);

}  // namespace chiron::chat
