#include "flux/runtime.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <map>
#include <numeric>

#include "common/check.h"
#include "common/log.h"
#include "kernel/runtime.h"

namespace chiron::flux {
namespace detail {
namespace {

// The Core whose handler runs on this thread (stop() from a handler would wait for itself).
thread_local const Core* tl_running = nullptr;

// Per-second message counts of the last 16 seconds; slot = second % 16 holds
// (second << 32 | count). Lock-free: a slot is reset by the first add of a new second.
class RateRing {
 public:
  static constexpr int kSlots = 16;
  static_assert(kSlots > kRateWindowS, "the ring must hold the whole window plus the current second");

  void add(int64_t second) {
    std::atomic<uint64_t>& slot = slots_[static_cast<size_t>(second) % kSlots];
    const uint64_t tag = static_cast<uint64_t>(second) & 0xffffffffu;
    uint64_t v = slot.load(std::memory_order_relaxed);
    for (;;) {
      uint64_t next = (v >> 32) == tag ? v + 1 : (tag << 32) | 1u;
      if (slot.compare_exchange_weak(v, next, std::memory_order_relaxed)) return;
    }
  }
  // Takes back an add() of `second` (a message counted before its send failed).
  void undo(int64_t second) {
    std::atomic<uint64_t>& slot = slots_[static_cast<size_t>(second) % kSlots];
    const uint64_t tag = static_cast<uint64_t>(second) & 0xffffffffu;
    uint64_t v = slot.load(std::memory_order_relaxed);
    while ((v >> 32) == tag && (v & 0xffffffffu) != 0 &&
           !slot.compare_exchange_weak(v, v - 1, std::memory_order_relaxed)) {
    }
  }
  // Messages in `now` and the kRateWindowS - 1 seconds before it, per second.
  double rate(int64_t now) const {
    uint64_t sum = 0;
    for (int64_t s = now - kRateWindowS + 1; s <= now; ++s) {
      if (s < 0) continue;
      uint64_t v = slots_[static_cast<size_t>(s) % kSlots].load(std::memory_order_relaxed);
      if ((v >> 32) == (static_cast<uint64_t>(s) & 0xffffffffu)) sum += v & 0xffffffffu;
    }
    return static_cast<double>(sum) / kRateWindowS;
  }

 private:
  std::atomic<uint64_t> slots_[kSlots] = {};
};

}  // namespace

struct OutStream {
  Stream decl;
  std::atomic<uint64_t> messages{0};
  RateRing ring;
};

struct Route {
  OutStream* stream = nullptr;
  Node* dest = nullptr;
  std::string dest_id;
};

struct Lane;

struct Node {
  FluxionSpec spec;
  Invoke invoke;
  Lane* lane = nullptr;
  bool stateless = false;
  unsigned replicas = 1;
  size_t capacity = 0;
  std::vector<std::unique_ptr<OutStream>> outs;
  std::vector<Route> routes;  // one per (stream, destination)
  std::atomic<uint64_t> handled{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> busy_us{0};
  std::atomic<int64_t> queued{0};
};

// A mailbox and the drains emptying it: a strand (max_running 1) or a replicated fluxion.
struct Lane {
  unsigned max_running = 1;
  std::mutex mu;
  Envelope* head = nullptr;  // Guarded by mu
  Envelope* tail = nullptr;  // Guarded by mu
  size_t size = 0;           // Guarded by mu
  unsigned running = 0;      // drains posted or running; Guarded by mu
  unsigned busy = 0;         // drains inside a handler; Guarded by mu
};

struct Core::Impl {
  Impl(Core& c, std::string n, kernel::Runtime& rt, GraphOptions o)
      : core(c),
        name(std::move(n)),
        runtime(rt),
        options(o),
        batch(std::max(1u, o.batch)),
        clock(o.clock ? *o.clock : rt.clock()) {}

  Core& core;
  const std::string name;
  kernel::Runtime& runtime;
  const GraphOptions options;
  const unsigned batch;  // >= 1: a drain always makes progress
  const Clock& clock;
  std::vector<std::unique_ptr<Node>> nodes;
  std::map<std::string, Node*, std::less<>> by_id;
  std::vector<std::unique_ptr<Lane>> lanes;
  OnError on_error;
  bool started = false;
  Registry* registry = nullptr;  // set once registered

  std::atomic<bool> stopping{false};
  // Drains scheduled or running + inject() calls in progress. Incremented lock-free; the
  // decrement and the wait in stop() take mu, so the last decrement is the last touch.
  std::atomic<int64_t> active{0};
  std::mutex mu;
  std::condition_variable idle;

  void enter() { active.fetch_add(1, std::memory_order_seq_cst); }
  void leave() {
    std::lock_guard lock(mu);
    if (active.fetch_sub(1, std::memory_order_seq_cst) == 1) idle.notify_all();
  }

  Status enqueue(Envelope* e);
  bool post_drain(Lane& lane, kernel::Device device);
  Status post_failed(Lane& lane, Envelope* e);
  void drain(Lane& lane, kernel::Device device);
  void run(Envelope* e);
  void report(Node& node, Status status, Envelope& e);
  void drop(Envelope* list, const Status& why);
  Envelope* take_all(Lane& lane);  // lane.mu held
  int64_t now_s() const { return clock.steady_us() / 1'000'000; }
};

namespace {

Fluxion model_of(const Node& n) {
  Fluxion f;
  f.id = n.spec.id;
  f.tags = n.spec.tags;
  f.ctx = n.spec.ctx;
  f.streams = n.spec.streams;
  f.body = n.spec.body;
  return f;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

// ---- Port ----

Status Port::route(std::string_view dest, size_t& index) const {
  for (size_t i = 0; i < from_.routes.size(); ++i) {
    if (from_.routes[i].dest_id == dest) {
      index = i;
      return {};
    }
  }
  std::vector<std::string> declared;
  for (const Route& r : from_.routes) declared.push_back(r.dest_id);
  return Status::invalid_argument("fluxion '" + from_.spec.id + "' has no stream to '" + std::string(dest) +
                                  "' (declared: " + (declared.empty() ? std::string("none") : join(declared)) + ")");
}

Status Port::send(size_t index, Envelope* e) {
  Route& r = from_.routes.at(index);
  e->dest = r.dest;
  // Counted before the enqueue: once the destination ran, its sender's count shows it.
  const int64_t second = core_.impl_->now_s();
  r.stream->messages.fetch_add(1, std::memory_order_relaxed);
  r.stream->ring.add(second);
  Status st = core_.impl_->enqueue(e);
  if (!st.ok()) {
    r.stream->messages.fetch_sub(1, std::memory_order_relaxed);
    r.stream->ring.undo(second);
  }
  return st;
}

std::string_view Port::fluxion() const { return from_.spec.id; }

// ---- mailboxes and drains ----

Status Core::Impl::enqueue(Envelope* e) {
  Node& n = *e->dest;
  Lane& lane = *n.lane;
  bool spawn = false;
  {
    std::lock_guard lock(lane.mu);
    if (static_cast<size_t>(n.queued.load(std::memory_order_relaxed)) >= n.capacity) {
      n.rejected.fetch_add(1, std::memory_order_relaxed);
      return Status::resource_exhausted("fluxion '" + n.spec.id + "' is overloaded (" + std::to_string(n.capacity) +
                                 " messages queued)");
    }
    e->next = nullptr;
    if (lane.tail) lane.tail->next = e; else lane.head = e;
    lane.tail = e;
    ++lane.size;
    n.queued.fetch_add(1, std::memory_order_relaxed);
    // A new drain only if the drains not busy in a handler cannot take this message.
    if (lane.running < lane.max_running && lane.running - lane.busy < lane.size) {
      ++lane.running;
      spawn = true;
    }
  }
  if (!spawn) return {};
  enter();  // the drain's place in `active`
  if (post_drain(lane, n.spec.device)) return {};
  return post_failed(lane, e);
}

bool Core::Impl::post_drain(Lane& lane, kernel::Device device) {
  Lane* l = &lane;
  return runtime.post(device, [this, l, device] { drain(*l, device); });
}

Envelope* Core::Impl::take_all(Lane& lane) {
  Envelope* list = lane.head;
  for (Envelope* e = list; e; e = e->next) e->dest->queued.fetch_sub(1, std::memory_order_relaxed);
  lane.head = lane.tail = nullptr;
  lane.size = 0;
  return list;
}

// The runtime refused a drain. On a single-drain lane (a strand, or replicas 1) ours was the
// only drain, so nobody has dequeued — let alone freed — `e`: it is still in the mailbox and
// goes back to the caller (unavailable). On a replicated lane other drains may already have run
// and freed `e`, and a new letter may sit at its address, so `e` is never looked for: it stays
// in the mailbox, owned by the graph, and the caller gets OK — another drain will run it, or,
// when no drain is left, it is handed to the error handler with what else waits there.
Status Core::Impl::post_failed(Lane& lane, Envelope* e) {
  bool mine = false;
  Envelope* orphans = nullptr;
  {
    std::lock_guard lock(lane.mu);
    --lane.running;
    if (lane.max_running == 1) {
      // No drain was running (we made running 0 -> 1) and none can be posted meanwhile.
      Envelope* prev = nullptr;
      for (Envelope* it = lane.head; it; prev = it, it = it->next) {
        if (it != e) continue;
        if (prev) prev->next = it->next; else lane.head = it->next;
        if (lane.tail == it) lane.tail = prev;
        --lane.size;
        it->dest->queued.fetch_sub(1, std::memory_order_relaxed);
        e->next = nullptr;
        mine = true;
        break;
      }
      CHIRON_CHECK(mine, "flux: a strand's letter left its mailbox without a drain");
    }
    if (lane.running == 0) orphans = take_all(lane);
  }
  drop(orphans, Status::unavailable("graph '" + name + "': the runtime is not running"));
  leave();
  if (mine) return Status::unavailable("graph '" + name + "': the runtime is not running");
  return {};
}

void Core::Impl::drain(Lane& lane, kernel::Device device) {
  const Core* outer = tl_running;
  tl_running = &core;
  unsigned ran = 0;
  bool in_handler = false;
  for (;;) {
    Envelope* e = nullptr;
    kernel::Device hop = device;
    bool yield = false;
    {
      std::lock_guard lock(lane.mu);
      if (in_handler) --lane.busy;
      in_handler = false;
      if (lane.head == nullptr) {
        --lane.running;
        break;
      }
      hop = lane.head->dest->spec.device;
      if (hop != device || ran >= batch) {
        yield = true;
      } else {
        e = lane.head;
        lane.head = e->next;
        if (!lane.head) lane.tail = nullptr;
        --lane.size;
        e->dest->queued.fetch_sub(1, std::memory_order_relaxed);
        ++lane.busy;
        in_handler = true;
      }
    }
    if (yield) {
      // The drain's place in `active` passes to its continuation.
      if (post_drain(lane, hop)) {
        tl_running = outer;
        return;
      }
      Envelope* orphans = nullptr;
      {
        std::lock_guard lock(lane.mu);
        --lane.running;
        if (lane.running == 0) orphans = take_all(lane);
      }
      drop(orphans, Status::unavailable("graph '" + name + "': the runtime stopped"));
      break;
    }
    e->next = nullptr;
    run(e);
    ++ran;
  }
  tl_running = outer;
  leave();
}

void Core::Impl::run(Envelope* e) {
  Node& n = *e->dest;
  Port port(core, n);
  const int64_t t0 = clock.steady_us();
  Status st;
  try {
    st = n.invoke(*e, port);
  } catch (const std::exception& x) {
    st = Status::internal(x.what());
  } catch (...) {
    st = Status::internal("fluxion '" + n.spec.id + "' threw a non-std exception");
  }
  const int64_t t1 = clock.steady_us();
  n.busy_us.fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, t1 - t0)), std::memory_order_relaxed);
  if (st.ok()) {
    n.handled.fetch_add(1, std::memory_order_relaxed);
  } else {
    n.failed.fetch_add(1, std::memory_order_relaxed);
    report(n, std::move(st), *e);
  }
  delete e;
}

void Core::Impl::report(Node& node, Status status, Envelope& e) {
  if (!on_error) {
    // Logged at the 1st, 2nd, 4th, 8th ... failure: an overload must not flood the log.
    const uint64_t n = node.failed.load(std::memory_order_relaxed);
    if ((n & (n - 1)) == 0) {
      log::warn("flux", "message failed", {{"graph", name}, {"fluxion", node.spec.id}, {"failed", static_cast<int64_t>(n)},
                                           {"error", status.to_string()}});
    }
    return;
  }
  try {
    on_error(FluxionError{name, node.spec.id, std::move(status)}, e);
  } catch (const std::exception& x) {
    log::error("flux", "error handler threw", {{"graph", name}, {"fluxion", node.spec.id}, {"error", std::string(x.what())}});
  } catch (...) {
    log::error("flux", "error handler threw", {{"graph", name}, {"fluxion", node.spec.id}});
  }
}

void Core::Impl::drop(Envelope* list, const Status& why) {
  while (list) {
    Envelope* e = list;
    list = list->next;
    e->next = nullptr;
    e->dest->failed.fetch_add(1, std::memory_order_relaxed);
    report(*e->dest, why, *e);
    delete e;
  }
}

// ---- Core ----

Core::Core(std::string name, kernel::Runtime& runtime, GraphOptions options)
    : impl_(std::make_unique<Impl>(*this, std::move(name), runtime, options)) {}

Core::~Core() {
  if (impl_->registry) impl_->registry->remove(this);
  stop();
  // After stop() no drain is scheduled, so every mailbox is empty; free defensively anyway.
  for (auto& lane : impl_->lanes) {
    std::lock_guard lock(lane->mu);
    for (Envelope* e = impl_->take_all(*lane); e;) {
      Envelope* next = e->next;
      delete e;
      e = next;
    }
  }
}

Status Core::add(FluxionSpec spec, Invoke invoke) {
  Impl& g = *impl_;
  if (g.started) return Status::failed_precondition("graph '" + g.name + "': add() after start()");
  if (!is_identifier(spec.id)) return Status::invalid_argument("graph '" + g.name + "': bad fluxion id '" + spec.id + "'");
  if (g.by_id.contains(spec.id)) return Status::already_exists("graph '" + g.name + "': fluxion '" + spec.id + "' twice");
  if (!invoke) return Status::invalid_argument("fluxion '" + spec.id + "': no handler");
  auto node = std::make_unique<Node>();
  node->stateless = spec.tags.empty() && spec.ctx.empty();
  if (!node->stateless && spec.replicas > 1) {
    return Status::invalid_argument("fluxion '" + spec.id + "': tagged or stateful fluxions run on one strand (replicas " +
                                    std::to_string(spec.replicas) + ")");
  }
  node->capacity = spec.queue_capacity ? spec.queue_capacity : g.options.queue_capacity;
  if (node->capacity == 0) return Status::invalid_argument("fluxion '" + spec.id + "': queue capacity 0");
  node->invoke = std::move(invoke);
  node->spec = std::move(spec);
  g.by_id.emplace(node->spec.id, node.get());
  g.nodes.push_back(std::move(node));
  return {};
}

void Core::on_error(OnError fn) {
  CHIRON_CHECK(!impl_->started, "flux: on_error() after start()");
  impl_->on_error = std::move(fn);
}

Status Core::start() {
  Impl& g = *impl_;
  if (g.started) return Status::failed_precondition("graph '" + g.name + "': started twice");
  if (g.nodes.empty()) return Status::invalid_argument("graph '" + g.name + "' has no fluxion");
  CHIRON_RETURN_IF_ERROR(validate(program()).context("graph '" + g.name + "'"));
  // A failed earlier attempt may have left routes or lanes behind.
  g.lanes.clear();
  for (auto& n : g.nodes) {
    n->outs.clear();
    n->routes.clear();
    n->lane = nullptr;
  }
  // Routes: one per (stream, destination); a destination appears in one stream only.
  for (auto& n : g.nodes) {
    for (const Stream& s : n->spec.streams) {
      auto out = std::make_unique<OutStream>();
      out->decl = s;
      for (const std::string& d : s.dest) {
        for (const Route& r : n->routes)
          if (r.dest_id == d) return Status::invalid_argument("fluxion '" + n->spec.id + "': two streams to '" + d + "'");
        n->routes.push_back(Route{out.get(), g.by_id.at(d), d});
      }
      n->outs.push_back(std::move(out));
    }
  }
  // Groups: connected components of "shares a tag" (union-find over node indexes).
  std::vector<size_t> parent(g.nodes.size());
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](size_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  };
  std::map<std::string, size_t> first_with_tag;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (const std::string& t : g.nodes[i]->spec.tags) {
      auto [it, fresh] = first_with_tag.emplace(t, i);
      if (!fresh) parent[find(i)] = find(it->second);
    }
  }
  std::map<size_t, Lane*> group_lane;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node& n = *g.nodes[i];
    if (n.stateless) {
      unsigned threads = g.runtime.threads(n.spec.device);
      n.replicas = n.spec.replicas ? n.spec.replicas : std::max(1u, threads);
      g.lanes.push_back(std::make_unique<Lane>());
      g.lanes.back()->max_running = n.replicas;
      n.lane = g.lanes.back().get();
      continue;
    }
    n.replicas = 1;
    size_t root = n.spec.tags.empty() ? g.nodes.size() + i : find(i);  // untagged stateful: alone
    auto [it, fresh] = group_lane.emplace(root, nullptr);
    if (fresh) {
      g.lanes.push_back(std::make_unique<Lane>());
      it->second = g.lanes.back().get();
    }
    n.lane = it->second;
  }
  if (g.options.registry) CHIRON_RETURN_IF_ERROR(g.options.registry->add(this));
  g.registry = g.options.registry;
  g.started = true;
  return {};
}

Status Core::inject(std::string_view id, Envelope* e) {
  Impl& g = *impl_;
  if (!g.started) return Status::failed_precondition("graph '" + g.name + "' is not started");
  auto it = g.by_id.find(id);
  if (it == g.by_id.end()) return Status::invalid_argument("graph '" + g.name + "' has no fluxion '" + std::string(id) + "'");
  g.enter();
  if (g.stopping.load(std::memory_order_seq_cst)) {
    g.leave();
    return Status::unavailable("graph '" + g.name + "' is stopped");
  }
  Node& n = *it->second;
  e->dest = &n;
  e->next = nullptr;
  Status st;
  if (n.stateless && n.spec.device == kernel::Device::kNet && kernel::Runtime::current_net_context() != nullptr) {
    const Core* outer = tl_running;
    tl_running = this;
    g.run(e);
    tl_running = outer;
  } else {
    st = g.enqueue(e);
  }
  g.leave();
  return st;
}

void Core::stop() {
  Impl& g = *impl_;
  CHIRON_CHECK(tl_running != this, "flux: Graph::stop() from one of its own handlers would wait for itself");
  g.stopping.store(true, std::memory_order_seq_cst);
  std::unique_lock lock(g.mu);
  g.idle.wait(lock, [&] { return g.active.load(std::memory_order_seq_cst) == 0; });
}

const std::string& Core::name() const { return impl_->name; }

Program Core::program() const {
  Program p;
  for (const auto& n : impl_->nodes) p.fluxions.push_back(model_of(*n));
  return p;
}

std::vector<FluxionStats> Core::stats() const {
  const Impl& g = *impl_;
  const int64_t now = g.now_s();
  std::vector<FluxionStats> out;
  out.reserve(g.nodes.size());
  for (const auto& n : g.nodes) {
    FluxionStats s;
    s.graph = g.name;
    s.fluxion = model_of(*n);
    s.device = n->spec.device;
    s.replicas = n->replicas;
    s.handled = n->handled.load(std::memory_order_relaxed);
    s.failed = n->failed.load(std::memory_order_relaxed);
    s.rejected = n->rejected.load(std::memory_order_relaxed);
    s.queued = n->queued.load(std::memory_order_relaxed);
    s.busy_us = n->busy_us.load(std::memory_order_relaxed);
    if (n->outs.size() == n->spec.streams.size()) {  // started
      for (const auto& o : n->outs) s.streams.push_back({o->decl, o->messages.load(std::memory_order_relaxed), o->ring.rate(now)});
    } else {
      for (const Stream& st : n->spec.streams) s.streams.push_back({st, 0, 0});
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace detail

}  // namespace chiron::flux
