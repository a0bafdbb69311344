#pragma once
// DESIGN — flux runtime: Chiron's own services built as fluxion graphs on the kernel runtime
// (../shared/papers/fluxions-js-event-loop-pipeline.txt §2; the model is flux/graph.h).
//
// What it does. A Graph<Msg> is a set of fluxions: named handlers, each on a device pipeline
// (cpu, disk, net, timer) of a kernel::Runtime, each declaring its group tags, its context
// variable names and its output streams (start `>>` / post `->`, with the variables each
// message carries). A handler receives one message, may change its context and emits messages
// on its declared streams. Msg is the graph's message type — the request record of the
// service (SEDA-style event), moved from stage to stage: one small heap envelope per hop, no
// copy of the payload, no serialisation. The declared variable names describe which fields a
// stream carries (they appear in the fluxional text and the /api/v1/graph document); the C++
// type system, not the runtime, checks the fields. Sending on a stream the fluxion did not
// declare is an error Status (invalid_argument naming the declared destinations), not a crash.
// Start and post streams deliver alike; the type records the rupture point a stream stands for
// (a listener firing once per request vs. a one-shot continuation), as in the paper.
//
// Placement (the paper's groups; research/fluxions.md §7):
//   * fluxions sharing a tag — transitively: connected components of "shares a tag" — form
//     one group, and a group runs on ONE strand: a FIFO mailbox drained by one posted task at
//     a time (actor-style). A strand may hold fluxions of several devices: the drain runs each
//     message on its destination's device and hops (re-posts itself) when the device changes.
//   * an untagged fluxion with context (ctx names non-empty) is its own strand.
//   * an untagged fluxion without context is stateless and replicated: up to `replicas`
//     (default: the device's thread count) runs at once, from one shared mailbox.
//   Drains run at most GraphOptions::batch messages, then re-post themselves behind other
//   work, so one busy group cannot starve the others on a pipeline. The threads are the
//   kernel runtime's (Runtime::post); there is no other pool. (Kernel react() mailboxes are
//   not used as strands: they deliver newest first, and a strand must be FIFO.)
//
// Ordering guarantees (no locks needed in handlers for their own context):
//   * runs of one strand never overlap, and each run happens-before the next: a fluxion's
//     context, and state shared by the fluxions of one group, need no lock.
//   * a strand handles messages in the order they were enqueued; so the messages one
//     fluxion run sends to a strand, and those successive runs of one strand send to
//     another strand, arrive in send order. Messages from unrelated senders interleave.
//   * a replicated fluxion gives no order: N runs overlap, each on some thread of its device.
//   * inject() of a stateless net fluxion from a net thread runs it inline on that thread
//     (it is replicated over net threads anyway); everything else goes through a mailbox.
//
// Errors. A handler returns Status; a non-OK Status or an exception (caught, Status::internal
// with what()) counts as failed, and the graph's error handler gets the status and the message
// (the same object the handler had: emit() moves from a message only when it succeeds, so
// `return out.emit(dest, std::move(msg));` hands an unsent message to the error handler
// intact). Services answer their requests there — a request is never left without an answer.
// Without an error handler the failure is logged.
//
// Bounded memory. Each fluxion's mailbox holds at most queue_capacity messages; an emit or
// inject beyond it fails with Status::resource_exhausted("... overloaded ...") and the message
// stays with the caller (counted as `rejected`); unavailable means stopped. A mailbox never
// blocks its sender (a worker waiting for a queue drained by its own pool could deadlock it);
// only Runtime::post's own backpressure may briefly hold an external thread posting a drain.
//
// Shutdown. stop() refuses new inject()s (unavailable), lets the messages in flight run to
// the end of the graph (handlers may still emit), and waits until every mailbox is empty and
// no drain is scheduled. If the kernel runtime stops first, a drain that can no longer be
// posted hands its queued messages to the error handler with Status::unavailable. An emit or
// inject whose drain the runtime refuses: towards a strand (or replicas 1) it fails with
// unavailable and the message stays the caller's; towards a replicated fluxion it returns OK —
// the message was enqueued and belongs to the graph (other drains may already have run it, so
// it is never taken back): a running drain runs it, or, when none is left, the error handler
// gets it with unavailable. Either way "moved only on success" holds. The Graph's
// destructor stop()s; it must not run concurrently with inject() (as any object's destructor).
//
// Counters (relaxed atomics, read while running): per fluxion handled, failed, rejected,
// queued (messages waiting now), busy_us (time in the handler); per stream the messages sent
// and a rate over the last kRateWindowS seconds, from a 16-slot ring of per-second counts
// (one 64-bit atomic per slot holding {second, count}: updates are a CAS, the rate is
// summed on read). Time comes from the graph's Clock (default: the runtime's).
//
// Registry: the process's graphs as ONE flux::Program (fluxion ids unique across graphs) and
// the /api/v1/graph JSON document (docs/platform-api.md). The platform owns one.
//
// Thread-safety: build (add, on_error) before start(), from one thread; afterwards Graph,
// Registry and Emitter (during its handler call) are thread-safe.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "common/clock.h"
#include "common/status.h"
#include "flux/graph.h"
#include "kernel/device.h"

namespace chiron::kernel {
class Runtime;
}  // namespace chiron::kernel

namespace chiron::flux {

class Registry;

inline constexpr int kRateWindowS = 10;

// One fluxion of a graph: its place in the model and on the runtime.
struct FluxionSpec {
  // Default member initializers everywhere: designated initializers may omit any field.
  std::string id{};                              // unique in the process (Registry) — e.g. "files_hash"
  kernel::Device device = kernel::Device::kCpu;  // the pipeline its handler runs on
  std::vector<std::string> tags{};               // groups: sharing a tag = one strand
  std::vector<std::string> ctx{};                // context variable names; non-empty = stateful
  std::vector<Stream> streams{};                 // declared outputs; empty = `-> null`
  std::string body{};                            // what it does, shown in the fluxional text
  unsigned replicas = 0;     // stateless fluxions: concurrent runs; 0 = the device's threads
  size_t queue_capacity = 0; // messages waiting at most; 0 = GraphOptions::queue_capacity
};

struct GraphOptions {
  size_t queue_capacity = 1024;  // per fluxion
  unsigned batch = 32;           // messages a drain runs before yielding its thread
  const Clock* clock = nullptr;  // counters' time; null = the runtime's clock
  Registry* registry = nullptr;  // borrowed, must outlive the graph; start() registers into it
};

struct FluxionError {
  std::string_view graph;
  std::string_view fluxion;  // where the message failed (or was dropped)
  Status status;
};

struct StreamStats {
  Stream stream;
  uint64_t messages = 0;
  double rate = 0;  // messages/s over the last kRateWindowS seconds
};

struct FluxionStats {
  std::string graph;
  Fluxion fluxion;  // the model (id, tags, ctx, streams, body)
  kernel::Device device = kernel::Device::kCpu;
  unsigned replicas = 1;  // 1 for strands
  uint64_t handled = 0;
  uint64_t failed = 0;
  uint64_t rejected = 0;
  int64_t queued = 0;
  uint64_t busy_us = 0;
  std::vector<StreamStats> streams;  // in declaration order
};

namespace detail {

struct Node;
class Core;

// A message in flight; Graph<Msg> derives Letter<Msg>. Owned by a mailbox, then by the run.
struct Envelope {
  virtual ~Envelope() = default;
  Envelope* next = nullptr;
  Node* dest = nullptr;
};

template <class Msg>
struct Letter final : Envelope {
  explicit Letter(Msg&& m) : msg(std::move(m)) {}
  Msg msg;
};

// The running fluxion's way out; valid only during its handler call.
class Port {
 public:
  Port(Core& core, Node& from) : core_(core), from_(from) {}
  // The route index of the declared stream towards `dest`, or invalid_argument.
  Status route(std::string_view dest, size_t& index) const;
  // Enqueues at the route's destination. On failure `e` is still the caller's.
  Status send(size_t index, Envelope* e);
  std::string_view fluxion() const;

 private:
  Core& core_;
  Node& from_;
};

using Invoke = std::function<Status(Envelope&, Port&)>;
using OnError = std::function<void(const FluxionError&, Envelope&)>;

// The type-independent engine behind Graph<Msg> (runtime.cc).
class Core {
 public:
  Core(std::string name, kernel::Runtime& runtime, GraphOptions options);
  ~Core();
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  Status add(FluxionSpec spec, Invoke invoke);
  void on_error(OnError fn);
  Status start();
  // On failure `e` is still the caller's.
  Status inject(std::string_view id, Envelope* e);
  void stop();

  const std::string& name() const;
  Program program() const;
  std::vector<FluxionStats> stats() const;

  struct Impl;

 private:
  friend class Port;
  std::unique_ptr<Impl> impl_;
};

}  // namespace detail

// What a handler emits through. Only valid during the handler call that received it.
template <class Msg>
class Emitter {
 public:
  explicit Emitter(detail::Port& port) : port_(port) {}
  // Sends msg to `dest` on the fluxion's declared stream towards it. Moves from msg only on
  // success; on failure (undeclared stream: invalid_argument; destination overloaded:
  // resource_exhausted; the runtime gone: unavailable) msg is untouched.
  Status emit(std::string_view dest, Msg&& msg) {
    size_t route = 0;
    if (Status st = port_.route(dest, route); !st.ok()) return st;
    auto* letter = new detail::Letter<Msg>(std::move(msg));
    Status st = port_.send(route, letter);
    if (!st.ok()) {
      msg = std::move(letter->msg);
      delete letter;
    }
    return st;
  }
  // The id of the fluxion running.
  std::string_view fluxion() const { return port_.fluxion(); }

 private:
  detail::Port& port_;
};

// A service as a fluxion graph whose messages are Msg (movable). See DESIGN.
template <class Msg>
class Graph {
 public:
  using Handler = std::function<Status(Msg&, Emitter<Msg>&)>;
  using ErrorHandler = std::function<void(const FluxionError&, Msg&)>;

  Graph(std::string name, kernel::Runtime& runtime, GraphOptions options = {})
      : core_(std::move(name), runtime, options) {}
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  // stop()s and leaves the Registry.
  ~Graph() = default;

  // A fluxion; its handler is stateless unless spec.ctx is non-empty (then it may keep state
  // in its captures: the fluxion is serialised).
  Status add(FluxionSpec spec, Handler handler) {
    return core_.add(std::move(spec), [h = std::move(handler)](detail::Envelope& e, detail::Port& port) {
      Emitter<Msg> out(port);
      return h(static_cast<detail::Letter<Msg>&>(e).msg, out);
    });
  }
  // A fluxion with a private context object, created here and only ever touched by this
  // fluxion's runs (serialised): fn(Ctx&, Msg&, Emitter<Msg>&) -> Status. spec.ctx names its
  // variables and must not be empty.
  template <class Ctx, class F>
  Status add_with_context(FluxionSpec spec, Ctx ctx, F fn) {
    if (spec.ctx.empty()) return Status::invalid_argument("fluxion '" + spec.id + "': a context needs ctx names");
    auto state = std::make_shared<Ctx>(std::move(ctx));  // shared: std::function must be copyable
    return add(std::move(spec), [state, fn = std::move(fn)](Msg& m, Emitter<Msg>& out) { return fn(*state, m, out); });
  }
  // Called (any thread) for each failed or dropped message; see DESIGN "Errors".
  void on_error(ErrorHandler fn) {
    core_.on_error([f = std::move(fn)](const FluxionError& err, detail::Envelope& e) {
      f(err, static_cast<detail::Letter<Msg>&>(e).msg);
    });
  }
  // Validates the graph (flux::validate, replicas vs. state), builds the strands and joins
  // the registry (ids unique there). No add() afterwards.
  Status start() { return core_.start(); }
  // Hands a message to fluxion `id` from outside the graph (a route handler, a test). Moves
  // from msg only on success; fails when stopped or the runtime is gone (unavailable),
  // overloaded (resource_exhausted), not started or the id is unknown.
  Status inject(std::string_view id, Msg&& msg) {
    auto* letter = new detail::Letter<Msg>(std::move(msg));
    Status st = core_.inject(id, letter);
    if (!st.ok()) {
      msg = std::move(letter->msg);
      delete letter;
    }
    return st;
  }
  // Refuses new inject()s and waits for the messages in flight. Idempotent. Not from a handler.
  void stop() { core_.stop(); }

  const std::string& name() const { return core_.name(); }
  Program program() const { return core_.program(); }
  std::vector<FluxionStats> stats() const { return core_.stats(); }

 private:
  detail::Core core_;
};

// Every graph of the process, described as one program. Thread-safe.
class Registry {
 public:
  explicit Registry(const Clock& clock = Clock::system());
  // Graphs must have left (destroy them first).
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // All fluxions, graphs in registration order, fluxions in add() order.
  Program program() const;
  std::vector<FluxionStats> stats() const;
  // {"version":1,"now_ms","window_s","fluxions":[{flux::to_json(fluxion) keys, "graph",
  //  "device","replicas","handled","failed","rejected","queued","busy_us",
  //  "streams":[{"type","dest","vars","messages","rate"}]}]} — docs/platform-api.md.
  boost::json::object to_json() const;
  size_t size() const;

 private:
  friend class detail::Core;
  Status add(detail::Core* graph);
  void remove(detail::Core* graph);

  const Clock& clock_;
  mutable std::mutex mu_;
  std::vector<detail::Core*> graphs_;  // Guarded by mu_
};

}  // namespace chiron::flux
