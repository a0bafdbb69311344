#pragma once
// DESIGN — RedisBus: the Bus (bus.h) of several edge processes sharing one Redis
// (research/chat.md §6 items 3 and 13: SUBSCRIBE per room while it has local members, never
// PSUBSCRIBE; seq from one Lua script per message, Centrifugo style).
//
// Redis layout, per room R (the {R} hash tag keeps a room's keys and channel in one cluster slot):
//   channel  chiron:chat:{R}         every event of R, as a bus frame (below)
//   hash     chiron:chat:{R}:seq     fields seq (the counter) and epoch (names this run of it)
//   hash     chiron:chat:{R}:state   state_key → "<until unix ms>\n<frame>"; PEXPIREd to the
//                                    longest ttl (Redis 7.0 hash fields do not expire)
//
// Sequenced publish is ONE script (EVALSHA, EVAL on NOSCRIPT): HINCRBY seq; a fresh epoch
// (supplied by the caller, unique per edge and call) when the counter starts at 1 or the epoch
// is missing; PUBLISH the frame; reply seq. Redis runs scripts one at a time, so the order of
// seqs IS the order of the channel, on every edge; each edge, the publisher included, delivers
// only what comes back on the channel. A flushed or restarted Redis restarts the counter under
// a new epoch, so (epoch, seq) never names two events.
// Signals are a plain PUBLISH, or with a state_key a script doing HSET + PEXPIRE + PUBLISH with
// the expiry computed from Redis' own TIME (edges' clocks may disagree). The state is replayed
// after Redis CONFIRMED each SUBSCRIBE of the room (first subscribe and every resubscribe after
// a reconnect), by a script that returns the live entries and deletes expired ones. The
// replay's snapshot may be older than live signals read meanwhile on the other connection, so
// replayed entries whose state_key was already seen live since the confirmation are skipped:
// every change after the confirmation arrives live anyway. A replay that fails (the command
// connection still reconnecting) is retried for a few seconds, then reported as a gap.
//
// Bus frame (binary-safe; a channel payload):  "cb1\n" then five length-prefixed fields
// "<decimal length>:<bytes>" — kind, epoch, seq (decimal; "0" and empty epoch for signals),
// origin edge, state_key — then the body, which is all the remaining bytes. Frames from
// anyone else on our channels are parsed with bounds, and dropped and counted when malformed.
//
// Threading: one io_context, run by ONE thread (RedisPublisher/RedisSubscriber require it),
// hosts both Redis connections, the room table and every sink callback; so a room's events
// reach the sink from that thread in channel order. Public methods are thread-safe and never
// call the sink inline (they post). stop() fails pending publishes with kCancelled and returns
// when no callback runs any more (it waits for the io thread, like the Redis clients).
// Failure: a publish while Redis is unreachable fails with kUnavailable as soon as the
// publisher knows (at once while it waits to retry, else at the end of the connect attempt);
// after a reconnect the subscriber resubscribes and sink.gap(rooms) is called.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "chat/bus.h"
#include "chat/redis_client.h"
#include "common/result.h"

namespace chiron::chat {

// One channel payload, decoded. Thread-compatible.
struct BusFrame {
  std::string kind;
  std::string epoch;      // empty for signals
  uint64_t seq = 0;       // 0 for signals
  std::string origin;     // edge_id() of the publisher
  std::string state_key;  // signals stored as state; empty otherwise
  std::string body;
};

// Field bounds of a frame; longer fields make the frame malformed.
inline constexpr size_t kMaxBusKindBytes = 64;
inline constexpr size_t kMaxBusEpochBytes = 64;
inline constexpr size_t kMaxBusOriginBytes = 64;
inline constexpr size_t kMaxBusStateKeyBytes = 1024;

// Encodes a frame; kInvalidArgument when a field is over its bound, the kind is empty, or
// seq and epoch disagree (both set for sequenced events, both empty/0 for signals).
Result<std::string> encode_bus_frame(const BusFrame& frame);
// Decodes a channel payload; kInvalidArgument (with the reason) for anything malformed.
// Accepts exactly what encode_bus_frame produces. Thread-safe.
Result<BusFrame> parse_bus_frame(std::string_view payload);

// "chiron:chat:{room}".
std::string bus_channel(std::string_view room);

struct RedisBusStats {
  uint64_t published = 0;         // sequenced publishes that got their seq
  uint64_t publish_failures = 0;  // done() with an error
  uint64_t signal_failures = 0;   // signals Redis did not take (down, overloaded)
  uint64_t delivered = 0;         // events handed to the sink (replays included)
  uint64_t malformed = 0;         // channel payloads or stored entries dropped
  uint64_t gaps = 0;              // sink.gap calls
};

// Thread-safe (see DESIGN).
class RedisBus : public Bus {
 public:
  virtual RedisBusStats stats() const = 0;
};

// io must be run by exactly one thread and outlive the bus.
std::unique_ptr<RedisBus> make_redis_bus(boost::asio::io_context& io, RedisOptions options);

}  // namespace chiron::chat
