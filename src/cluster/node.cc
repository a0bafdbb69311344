// Node: lifecycle, kernel placement and transport, recovery, jobs (see node.h).
#include <boost/asio/post.hpp>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <thread>

#include "cluster/node_impl.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "common/log.h"
#include "common/strings.h"

namespace chiron::cluster {

namespace asio = boost::asio;

int64_t steady_us() { return Clock::system().steady_us(); }

namespace {
constexpr uint64_t kUndecided = 0;
constexpr uint64_t kRunWaiting = 1;                // run() came first: suspended until decided
constexpr uint64_t kPlaceCancelled = UINT64_MAX;   // the job was cancelled while waiting
constexpr uint64_t kPlaceNoSlot = UINT64_MAX - 1;  // run here without a slot
constexpr uint64_t kSent = UINT64_MAX - 2;         // running elsewhere; suspended here
constexpr uint64_t kReturned = UINT64_MAX - 3;     // result stored: commit on the next run()
uint64_t state_of(uint64_t where) { return where >= kPlaceNoSlot ? where : where + 2; }
uint64_t where_of(uint64_t state) { return state >= kPlaceNoSlot ? state : state - 2; }
}  // namespace

namespace {

uint64_t random_u64() {
  uint64_t v = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1) {
    v = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^ (static_cast<uint64_t>(getpid()) << 40);
  }
  return v == 0 ? 1 : v;
}

std::string hex_of(const unsigned char* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 15]);
  }
  return out;
}

// The root of a kernel received over a link: runs it (it may travel further) and hands the
// finished kernel back to the node, which returns it over the link it came from.
class Inbound final : public kernel::Kernel {
 public:
  Inbound(Node::Impl& node, uint64_t link, KernelMsg head, std::unique_ptr<RemoteKernel> child)
      : Kernel(kernel::Device::kCpu), node_(node), link_(link), head_(std::move(head)), child_(std::move(child)) {}
  void act() override { upstream(std::move(child_)); }
  void react(std::unique_ptr<kernel::Kernel> child) override {
    Node::Impl* node = &node_;
    uint64_t link = link_;
    auto shared = std::make_shared<std::unique_ptr<kernel::Kernel>>(std::move(child));
    auto head = std::make_shared<KernelMsg>(std::move(head_));
    asio::post(*node->ctl, [node, link, head, shared] { node->on_inbound_done(link, std::move(*head), std::move(*shared)); });
    commit();
  }

 private:
  Node::Impl& node_;
  uint64_t link_;
  KernelMsg head_;
  std::unique_ptr<RemoteKernel> child_;
};

}  // namespace

std::string job_api_token(std::string_view key) {
  static constexpr std::string_view kLabel = "chiron-job-api";
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(kLabel.data()),
       kLabel.size(), mac, &len);
  return hex_of(mac, len);
}

std::string generate_key_hex() {
  unsigned char key[32];
  if (RAND_bytes(key, sizeof key) != 1) {
    for (unsigned char& b : key) b = static_cast<unsigned char>(random_u64());
  }
  return hex_of(key, sizeof key);
}

Result<std::string> read_key_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Status::not_found("cannot read cluster key file " + path.string());
  std::string text;
  std::getline(in, text);
  text = std::string(trim(text));
  if (text.size() != 64) return Status::invalid_argument("cluster key file " + path.string() + ": expected 64 hex digits (chiron node keygen)");
  std::string key;
  for (size_t i = 0; i < 64; i += 2) {
    auto nib = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = nib(text[i]), lo = nib(text[i + 1]);
    if (hi < 0 || lo < 0) return Status::invalid_argument("cluster key file " + path.string() + ": not hex");
    key.push_back(static_cast<char>(hi * 16 + lo));
  }
  return key;
}

// ---------------------------------------------------------------- lifecycle

Node::Impl::Impl(NodeOptions o) : options(std::move(o)) {}

Node::Impl::~Impl() { stop(); }

Result<std::unique_ptr<Node>> Node::create(NodeOptions options) {
  if (options.key.size() < 16) return Status::invalid_argument("the cluster key must have at least 16 bytes");
  if (options.fanout == 0) return Status::invalid_argument("--fanout must be >= 1");
  if (options.heartbeat_ms <= 0 || options.dead_after_ms <= options.heartbeat_ms) {
    return Status::invalid_argument("--dead-after-ms must be greater than --heartbeat-ms (> 0)");
  }
  if (options.probe_timeout_ms <= 0 || options.scan_interval_ms <= 0) {
    return Status::invalid_argument("--probe-timeout-ms and --scan-interval-ms must be > 0");
  }
  auto impl = std::make_unique<Impl>(std::move(options));
  auto listen = Endpoint::parse(impl->options.listen);
  if (!listen.ok()) return std::move(listen).status().context("--listen");
  impl->listen = *listen;
  if (impl->options.subnet.empty()) {
    impl->subnet = Subnet::of(impl->listen.ip, impl->listen.ip.v6 ? 64 : 24);
  } else {
    auto subnet = Subnet::parse(impl->options.subnet);
    if (!subnet.ok()) return std::move(subnet).status().context("--subnet");
    impl->subnet = *subnet;
  }
  auto pos = position_of(impl->subnet, impl->listen.ip);
  if (!pos.ok()) return std::move(pos).status().context("--listen " + impl->options.listen + " in subnet " + impl->subnet.to_string());
  impl->self_position = *pos;
  // Higher for every start (NodeTable treats a lower uid as a stale copy of an earlier process).
  impl->uid = (static_cast<uint64_t>(Clock::system().unix_ms()) * 1000 << 10) | (random_u64() & 1023);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  impl->hostname = host;
  impl->hello.cluster = impl->options.cluster;
  impl->hello.uid = impl->uid;
  impl->hello.position = impl->self_position;
  impl->hello.endpoint = impl->listen.to_string();
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Node::~Node() { stop(); }
Status Node::start() { return impl_->start(); }
void Node::stop() { impl_->stop(); }
std::string Node::cluster_address() const {
  Endpoint e = impl_->listen;
  if (impl_->acceptor) e.port = impl_->acceptor->local_endpoint().port();
  return e.to_string();
}
std::string Node::http_address() const {
  if (!impl_->http) return "";
  return HostPort{impl_->http->options().address, impl_->http->port()}.to_string();
}
uint64_t Node::position() const { return impl_->self_position; }

std::string Node::cluster_json() const {
  if (!impl_->runtime || impl_->shutting_down.load()) return "{}";
  return impl_->on_ctl([this] { return impl_->cluster_json(); });
}

std::string Node::job_json(uint64_t job) const {
  if (!impl_->runtime || impl_->shutting_down.load()) return "";
  return impl_->on_ctl([this, job] {
    auto it = impl_->jobs.find(job);
    return it == impl_->jobs.end() ? std::string() : impl_->job_json(it->second);
  });
}

Result<uint64_t> Node::submit(const std::string& app, const std::vector<std::string>& args) {
  if (!impl_->runtime || impl_->shutting_down.load()) return Status::unavailable("node not running");
  return impl_->on_ctl([&]() -> Result<uint64_t> {
    auto job = impl_->submit_job(app, args);
    if (!job.ok()) return job.status();
    return job->id;
  });
}

Status Node::Impl::start() {
  std::error_code ec;
  std::filesystem::create_directories(options.data / "jobs", ec);
  if (ec) return Status::io_error("cannot create " + (options.data / "jobs").string() + ": " + ec.message());
  auto j = Journal::open(options.data / "journal");
  if (!j.ok()) return std::move(j).status().context("journal");
  journal = std::move(*j);
  if (!journal->recovery_note().empty()) log::warn("cluster", "journal repaired", {{"note", journal->recovery_note()}});

  kernel::RuntimeOptions ro;
  ro.cpu_threads = options.threads;
  ro.disk_threads = 2;
  ro.net_threads = 1;
  ro.trace = true;
  trace_origin_us = steady_us();
  runtime = std::make_unique<kernel::Runtime>(ro);
  if (Status st = runtime->start(); !st.ok()) return st;
  ctl = runtime->net_contexts().front();

  SchedulerOptions so;
  so.local_threads = runtime->threads(kernel::Device::kCpu);
  scheduler = std::make_unique<ClusterScheduler>(so);

  DiscoveryOptions dopt;
  dopt.fanout = options.fanout;
  dopt.scan_interval_us = options.scan_interval_ms * 1000;
  discoverer = std::make_unique<Discoverer>(self_position, dopt);
  table = std::make_unique<NodeTable>(make_self_record());
  attach_placement(*runtime, this);

  // The HTTP server first: the control thread reads its address for our node record.
  if (options.http != "off") {
    if (Status st = start_http(); !st.ok()) {
      stop();
      return st.context("--http");
    }
  }
  // Listeners and discovery start on the control thread; wait for the result.
  std::promise<Status> started;
  asio::post(*ctl, [this, &started] {
    Status st = start_listener();
    if (st.ok()) {
      hello.endpoint = Endpoint{listen.ip, acceptor->local_endpoint().port()}.to_string();
      listen.port = acceptor->local_endpoint().port();
      table->update_self(make_self_record());
      ticker = std::make_unique<asio::steady_timer>(*ctl);
      discoverer->start(steady_us());
      drive_discovery();
      on_tick();
    }
    started.set_value(st);
  });
  if (Status st = started.get_future().get(); !st.ok()) {
    stop();
    return st;
  }
  resume_journal();
  log::info("cluster", "node started",
            {{"listen", listen.to_string()}, {"position", std::to_string(self_position)}, {"subnet", subnet.to_string()},
             {"ideal_superior", std::to_string(discoverer->ideal())}});
  return {};
}

void Node::Impl::stop() {
  if (!runtime) return;
  shutting_down.store(true);
  if (http) http->stop();
  if (runtime->running()) {
    std::promise<void> done;
    asio::post(*ctl, [this, &done] {
      stopping = true;
      if (ticker) ticker->cancel();
      if (acceptor) {
        boost::system::error_code ec;
        acceptor->close(ec);
      }
      auto all = links;
      for (auto& [pos, peer] : all) peer_closed(*peer, "node stopping");
      auto pend = pending;
      for (const auto& peer : pend) peer_closed(*peer, "node stopping");
      done.set_value();
    });
    done.get_future().wait();
  }
  // Kernels waiting for a slot finish as cancelled (their jobs stay in the journal).
  if (scheduler) {
    for (const auto& [job, n] : scheduler->stats().pending_by_job) {
      for (auto& d : scheduler->cancel_job(job)) d(kPlaceCancelled);
    }
  }
  attach_placement(*runtime, nullptr);
  // Kernels still waiting for a remote result are given back as cancelled so the runtime
  // can drain; their jobs stay unfinished in the journal and resume after a restart.
  if (runtime->running()) {
    std::promise<void> done;
    asio::post(*ctl, [this, &done] {
      auto waiting = std::move(in_flight);
      in_flight.clear();
      for (auto& [id, f] : waiting) finish_remote(*f.kernel, Status::cancelled("node stopping"), 1);
      done.set_value();
    });
    done.get_future().wait();
  }
  http.reset();
  runtime->stop();
  acceptor.reset();
  ticker.reset();
  runtime.reset();
}

// ---------------------------------------------------------------- placement
//
// A placeable kernel gets its place when it is upstreamed (assign) — so kernels waiting in
// the runtime's queues hold slots and the scheduler sees them as load — and acts on it when
// the runtime runs it (place, inside its run()). Everything that touches the kernel's
// user state — act(), read() of a returned state, commit() — happens inside a run() on the
// kernel's own executor: when the kernel must wait (for a slot, or for its remote run) it
// is suspended and resumed, never acted on from another thread. place_state_:
//   0 ──assign's dispatch──▶ 2+place ──run()──▶ perform        (decided before it ran)
//   0 ──run()──▶ 1 suspended ──dispatch──▶ 2+place, resume ──run()──▶ perform
//   perform(link) ──▶ kSent, suspended ──KERNEL_RETURN──▶ kReturned, resume ──run()──▶ commit
//   kSent ──link lost──▶ 1 ──dispatch──▶ 2+place, resume ──run()──▶ perform  (recovery)

void Node::Impl::assign(RemoteKernel& k, const kernel::Kernel& principal) {
  std::atomic<uint64_t>& state = NodeAccess::place_state(k);
  if (shutting_down.load(std::memory_order_relaxed)) {
    state.store(kPlaceCancelled, std::memory_order_relaxed);
    return;
  }
  state.store(kUndecided, std::memory_order_relaxed);
  // A principal holding a local slot waits for its subordinates without using a thread. If
  // no slot is free anywhere, its children run here without one: waiting for slots that
  // only waiting principals hold would never end.
  auto* rp = dynamic_cast<const RemoteKernel*>(&principal);
  if (rp != nullptr && NodeAccess::holds_local_slot(*rp) && !scheduler->has_free_slot(NodeAccess::exclude(k))) {
    state.store(kPlaceNoSlot, std::memory_order_release);
    return;
  }
  RemoteKernel* kp = &k;
  Status st = scheduler->submit(
      k.job_id(), NodeAccess::exclude(k), [this, kp](uint64_t where) { on_assigned(*kp, where); },
      NodeAccess::carried_parent(k) != nullptr);
  if (!st.ok()) state.store(kPlaceNoSlot, std::memory_order_release);
}

void Node::Impl::on_assigned(RemoteKernel& k, uint64_t where) {
  std::atomic<uint64_t>& state = NodeAccess::place_state(k);
  uint64_t expected = kUndecided;
  if (state.compare_exchange_strong(expected, state_of(where), std::memory_order_acq_rel)) return;  // run() acts on it
  // run() came first and suspended the kernel (or a recovery is placing it again).
  state.store(state_of(where), std::memory_order_release);
  NodeAccess::resume(k);
}

void Node::Impl::place(RemoteKernel& k) {
  std::atomic<uint64_t>& state = NodeAccess::place_state(k);
  uint64_t s = state.load(std::memory_order_acquire);
  if (s == kUndecided) {
    NodeAccess::suspend(k);
    if (state.compare_exchange_strong(s, kRunWaiting, std::memory_order_acq_rel)) return;  // wait for a slot
    NodeAccess::cancel_suspend(k);  // decided meanwhile (nobody resumes: they saw kUndecided)
  }
  if (s == kReturned) {
    state.store(kUndecided, std::memory_order_relaxed);
    NodeAccess::commit_returned(k);
    return;
  }
  perform(k, where_of(s));
}

void Node::Impl::perform(RemoteKernel& k, uint64_t where) {
  if (where == kLocalPlace || where == kPlaceNoSlot) {
    run_local(k, where == kLocalPlace);
  } else if (where == kPlaceCancelled) {
    k.commit(Status::cancelled("job cancelled"));
  } else {
    // Written here, on the kernel's executor; sent from the control thread. The kernel
    // waits suspended until its result (or its link's loss) resumes it.
    auto blob = std::make_shared<KernelBlob>(to_blob(k));
    auto parent = NodeAccess::carried_parent(k);
    NodeAccess::place_state(k).store(kSent, std::memory_order_release);
    NodeAccess::suspend(k);
    RemoteKernel* kp = &k;
    asio::post(*ctl, [this, kp, where, blob, parent] { send_kernel(kp, where, std::move(*blob), parent); });
  }
}

void Node::Impl::finished_here(RemoteKernel&) { scheduler->release(kLocalPlace); }

void Node::Impl::run_local(RemoteKernel& k, bool holds_slot) {
  // The slot is given back by finished_here() when the kernel and its subtree are done.
  // Exceptions from act() go to the runtime (it commits the kernel with the error).
  NodeAccess::set_holds_local_slot(k, holds_slot);
  counters.local_acts.fetch_add(1, std::memory_order_relaxed);
  if (cancelled(k.job_id())) return k.commit(Status::cancelled("job cancelled"));
  struct Running {
    std::atomic<int64_t>& n;
    explicit Running(std::atomic<int64_t>& c) : n(c) { n.fetch_add(1, std::memory_order_relaxed); }
    ~Running() { n.fetch_sub(1, std::memory_order_relaxed); }
  } running(local_running);
  k.act();
}

void Node::Impl::finish_remote(RemoteKernel& k, Status st, int exit_code) {
  NodeAccess::set_returned(k, std::move(st), exit_code);
  NodeAccess::place_state(k).store(kReturned, std::memory_order_release);
  NodeAccess::resume(k);
}

bool Node::Impl::cancelled(uint64_t job) const {
  if (shutting_down.load(std::memory_order_relaxed)) return true;
  std::lock_guard lock(cancel_mu);
  return cancelled_jobs.count(job) != 0;
}

void Node::Impl::checkpoint(const RemoteKernel& main) {
  if (journal == nullptr || main.job_id() == 0) return;
  if (Status st = journal->checkpoint(main.job_id(), to_blob(main)); !st.ok()) {
    log::error("cluster", "journal checkpoint failed", {{"job", std::to_string(main.job_id())}, {"error", st.to_string()}});
  }
}

void Node::Impl::progress(uint64_t job, uint64_t done, uint64_t total) {
  asio::post(*ctl, [this, job, done, total] {
    auto it = jobs.find(job);
    if (it == jobs.end()) return;
    it->second.done = done;
    it->second.total = total;
  });
}

void Node::Impl::summary(uint64_t job, std::string s) {
  asio::post(*ctl, [this, job, s = std::move(s)]() mutable {
    auto it = jobs.find(job);
    if (it != jobs.end()) it->second.summary = std::move(s);
  });
}

// ---------------------------------------------------------------- kernels over links

void Node::Impl::send_kernel(RemoteKernel* k, uint64_t link, KernelBlob blob, std::shared_ptr<const KernelBlob> parent) {
  Peer* peer = link_peer(link);
  if (peer == nullptr || stopping) {
    // The link died between the decision and now: place it again.
    scheduler->release(link);
    counters.kernels_recovered.fetch_add(1, std::memory_order_relaxed);
    redispatch(k);
    return;
  }
  KernelMsg msg;
  msg.id = KernelId{uid, kernel_seq.fetch_add(1, std::memory_order_relaxed) + 1};
  msg.job = k->job_id();
  msg.origin = self_position;
  msg.kernel = std::move(blob);
  if (parent) {
    msg.carries_parent = true;
    msg.parent = *parent;
  }
  in_flight[msg.id] = InFlight{k, link, msg.job};
  counters.kernels_sent.fetch_add(1, std::memory_order_relaxed);
  send_frame(*peer, FrameType::kKernel, encode(msg));
}

void Node::Impl::redispatch(RemoteKernel* k) {
  // It is suspended (sent, or never sent): place it again; its next run() acts on the place.
  NodeAccess::place_state(*k).store(kRunWaiting, std::memory_order_release);
  if (shutting_down.load(std::memory_order_relaxed)) return finish_remote(*k, Status::cancelled("node stopping"), 1);
  Status st = scheduler->submit(
      k->job_id(), NodeAccess::exclude(*k), [this, k](uint64_t where) { on_assigned(*k, where); },
      NodeAccess::carried_parent(*k) != nullptr);
  if (!st.ok()) on_assigned(*k, kPlaceNoSlot);
}

void Node::Impl::recover_link(uint64_t link) {
  std::vector<RemoteKernel*> lost;
  for (auto it = in_flight.begin(); it != in_flight.end();) {
    if (it->second.link == link) {
      lost.push_back(it->second.kernel);
      it = in_flight.erase(it);
    } else {
      ++it;
    }
  }
  if (!lost.empty()) {
    log::warn("cluster", "link lost with kernels in flight: placing them again",
              {{"link", std::to_string(link)}, {"kernels", std::to_string(lost.size())}});
  }
  for (RemoteKernel* k : lost) {
    counters.kernels_recovered.fetch_add(1, std::memory_order_relaxed);
    redispatch(k);
  }
}

void Node::Impl::refuse_kernel(Peer& peer, const KernelMsg& msg, StatusCode code, const std::string& why) {
  // Answered, never run: the sender's principal learns why (or places it again).
  KernelReturnMsg ret;
  ret.id = msg.id;
  ret.job = msg.job;
  ret.status_code = static_cast<uint8_t>(code);
  ret.status_message = why;
  ret.kernel = msg.kernel;
  send_frame(peer, FrameType::kKernelReturn, encode(ret));
}

void Node::Impl::on_kernel(Peer& peer, std::string_view payload) {
  auto msg = decode_kernel(payload);
  if (!msg.ok()) {
    counters.frames_refused.fetch_add(1, std::memory_order_relaxed);
    log::warn("cluster", "refused a KERNEL frame", {{"peer", std::to_string(peer_position(peer))}, {"error", msg.status().to_string()}});
    return;
  }
  if (shutting_down.load(std::memory_order_relaxed)) return;  // the sender places it again when our link closes
  counters.kernels_received.fetch_add(1, std::memory_order_relaxed);
  const uint64_t link = peer_position(peer);
  // An honest sender keeps at most weight × slots kernels on a link (its view of the
  // threads behind it, which is at most what this node reports); refuse floods.
  uint64_t behind = table->self().threads;
  for (const auto& [pos, l] : links) behind += pos == link ? 0 : table->weight(pos);
  const uint64_t limit = std::max<uint64_t>(64, 4 * behind);
  if (inbound_by_link[link] >= limit) {
    counters.frames_refused.fetch_add(1, std::memory_order_relaxed);
    log::warn("cluster", "refused a kernel: too many in flight from this link", {{"peer", std::to_string(link)}});
    return refuse_kernel(peer, *msg, StatusCode::kResourceExhausted, "too many kernels in flight on this link");
  }
  auto child = from_blob(msg->kernel);
  if (!child.ok()) {
    // Never executed: answer with the error so the sender's principal learns why.
    counters.frames_refused.fetch_add(1, std::memory_order_relaxed);
    log::warn("cluster", "refused a kernel", {{"peer", std::to_string(link)}, {"error", child.status().to_string()}});
    return refuse_kernel(peer, *msg, StatusCode::kInvalidArgument, child.status().message());
  }
  if (cancelled(msg->job)) {
    return refuse_kernel(peer, *msg, StatusCode::kCancelled, "job cancelled");
  }
  std::unique_ptr<RemoteKernel> k = std::move(*child);
  NodeAccess::adopt(*k, this, msg->job, link);
  RemoteKernel* received = k.get();
  KernelMsg head;
  head.id = msg->id;
  head.job = msg->job;
  head.origin = msg->origin;
  head.carries_parent = msg->carries_parent;
  head.parent = std::move(msg->parent);
  ++inbound_by_link[link];
  auto root = std::make_unique<Inbound>(*this, link, std::move(head), std::move(k));
  assign(*received, *root);
  runtime->submit(std::move(root), [](std::unique_ptr<kernel::Kernel>) {});
}

void Node::Impl::on_inbound_done(uint64_t link, KernelMsg head, std::unique_ptr<kernel::Kernel> child, bool head_checked) {
  if (!head_checked) {
    if (auto it = inbound_by_link.find(link); it != inbound_by_link.end() && it->second > 0 && --it->second == 0) {
      inbound_by_link.erase(it);
    }
  }
  auto* k = static_cast<RemoteKernel*>(child.get());
  KernelReturnMsg ret;
  ret.id = head.id;
  ret.job = head.job;
  ret.exit_code = k->exit_code();
  ret.status_code = static_cast<uint8_t>(k->result().code());
  ret.status_message = k->result().message();
  ret.kernel = to_blob(*k);
  if (shutting_down.load()) return;  // computed while being cancelled: the sender places it again
  if (Peer* peer = link_peer(link); peer != nullptr && !head_checked) {
    send_frame(*peer, FrameType::kKernelReturn, encode(ret));
    return;
  }
  if (!head.carries_parent) {
    log::warn("cluster", "result of a kernel lost: the link it came from is gone",
              {{"link", std::to_string(link)}, {"job", std::to_string(head.job)}, {"type", ret.kernel.type}});
    return;
  }
  // The link to the principal's node is gone. If that node is alive (the link only moved,
  // or timed out), it places the child again itself; only if it stays unknown for a grace
  // period does the copy of the principal continue here.
  if (!head_checked) {
    auto timer = std::make_shared<asio::steady_timer>(*ctl, std::chrono::milliseconds(2 * options.dead_after_ms));
    auto shared_child = std::make_shared<std::unique_ptr<kernel::Kernel>>(std::move(child));
    auto shared_head = std::make_shared<KernelMsg>(std::move(head));
    timer->async_wait([this, timer, link, shared_head, shared_child](boost::system::error_code ec) {
      if (ec || stopping) return;
      if (table->via(shared_head->origin).has_value() || link_peer(shared_head->origin) != nullptr) {
        log::info("cluster", "principal's node is alive elsewhere: it places the kernel again",
                  {{"job", std::to_string(shared_head->job)}, {"origin", std::to_string(shared_head->origin)}});
        return;
      }
      on_inbound_done(link, std::move(*shared_head), std::move(*shared_child), true);
    });
    return;
  }
  // Rebuild the principal from the copy it sent along and let it continue here, as the
  // job's new main kernel — unless this node already knows the job (a second copy, or a
  // forged id colliding with a job here).
  if (jobs.count(head.job) != 0) {
    log::warn("cluster", "carried parent of a job already known here: dropped", {{"job", std::to_string(head.job)}});
    return;
  }
  auto parent = from_blob(head.parent);
  if (!parent.ok()) {
    log::error("cluster", "cannot rebuild a carried parent", {{"error", parent.status().to_string()}});
    return;
  }
  std::unique_ptr<RemoteKernel> p = std::move(*parent);
  std::unique_ptr<RemoteKernel> c(static_cast<RemoteKernel*>(child.release()));
  NodeAccess::make_main(*p, this, head.job, false);
  NodeAccess::set_resume_child(*p, std::move(c));
  counters.kernels_resumed_parents.fetch_add(1, std::memory_order_relaxed);
  log::warn("cluster", "principal's node lost: its carried copy continues here",
            {{"job", std::to_string(head.job)}, {"from", std::to_string(link)}, {"type", head.parent.type}});
  JobInfo info;
  info.id = head.job;
  info.app = head.parent.type;
  info.home = self_position;
  info.resumed = true;
  info.submitted_ms = info.started_ms = Clock::system().unix_ms();
  // This node is the job's home now: journal it (on the disk pipeline) before it goes on,
  // so a restart of this node resumes it too.
  JournalJob jj;
  jj.job = info.id;
  jj.app = info.app;
  jj.submitted_unix_ms = info.submitted_ms;
  jj.main = head.parent;
  auto shared_main = std::make_shared<std::unique_ptr<RemoteKernel>>(std::move(p));
  auto shared_info = std::make_shared<JobInfo>(std::move(info));
  auto go = [this, jj = std::move(jj), shared_main, shared_info] {
    if (Status st = journal->start(jj); !st.ok()) {
      log::error("cluster", "cannot journal a recovered job", {{"job", std::to_string(jj.job)}, {"error", st.to_string()}});
    }
    asio::post(*ctl, [this, shared_main, shared_info] { start_main(std::move(*shared_main), std::move(*shared_info)); });
  };
  if (!runtime->post(kernel::Device::kDisk, go)) log::warn("cluster", "node stopping: a recovered job is dropped");
}

void Node::Impl::on_kernel_return(Peer& peer, std::string_view payload) {
  auto msg = decode_kernel_return(payload);
  const uint64_t link = peer_position(peer);
  if (!msg.ok()) {
    counters.frames_refused.fetch_add(1, std::memory_order_relaxed);
    log::warn("cluster", "refused a KERNEL_RETURN frame", {{"peer", std::to_string(link)}, {"error", msg.status().to_string()}});
    return;
  }
  auto it = in_flight.find(msg->id);
  if (it == in_flight.end() || it->second.link != link) {
    log::info("cluster", "result for a kernel no longer waited for", {{"peer", std::to_string(link)}});
    return;
  }
  RemoteKernel* k = it->second.kernel;
  in_flight.erase(it);
  scheduler->release(link);
  const auto code = static_cast<StatusCode>(msg->status_code);
  if (code == StatusCode::kResourceExhausted || code == StatusCode::kUnavailable) {
    // The peer had no room (or was stopping): not the kernel's failure — place it again.
    counters.kernels_recovered.fetch_add(1, std::memory_order_relaxed);
    return redispatch(k);
  }
  Status result;
  if (msg->kernel.type != k->wire_type()) {
    result = Status::invalid_argument("returned kernel has type " + msg->kernel.type + ", sent " + std::string(k->wire_type()));
  } else {
    // k is suspended (not running anywhere): reading its returned state here is safe.
    ByteReader in(msg->kernel.body);
    result = k->read(in);
    if (result.ok()) result = in.status();
    if (result.ok() && msg->status_code != 0) result = Status(code, msg->status_message);
  }
  finish_remote(*k, std::move(result), msg->exit_code);
}

void Node::Impl::cancel_job_local(uint64_t job, bool propagate) {
  {
    std::lock_guard lock(cancel_mu);
    if (!cancelled_jobs.insert(job).second) return;
    cancelled_order.push_back(job);
    if (cancelled_order.size() > 100'000) {  // forget the oldest cancellations
      cancelled_jobs.erase(cancelled_order.front());
      cancelled_order.pop_front();
    }
  }
  for (auto& d : scheduler->cancel_job(job)) d(kPlaceCancelled);
  if (propagate) broadcast(FrameType::kCancelJob, encode(CancelJobMsg{job}), 0);
}

// ---------------------------------------------------------------- jobs

uint64_t Node::Impl::next_job_id() {
  // position in the high bits keeps ids unique across the cluster; the counter continues
  // after the largest id in the journal.
  return (self_position << 32) | (job_seq.fetch_add(1, std::memory_order_relaxed) + 1);
}

Result<JobInfo> Node::Impl::submit_job(const std::string& app_name, const std::vector<std::string>& args) {
  const App* app = find_app(app_name);
  if (app == nullptr) return Status::not_found("unknown app '" + app_name + "' (GET /api/v1/apps lists them)");
  JobSpec spec;
  spec.job_id = next_job_id();
  spec.args = args;
  spec.work_dir = options.data / "jobs" / std::to_string(spec.job_id);
  auto main = app->make_main(spec);
  if (!main.ok()) return std::move(main).status();
  std::error_code ec;
  std::filesystem::create_directories(spec.work_dir, ec);
  JobInfo info;
  info.id = spec.job_id;
  info.app = app_name;
  info.args = args;
  info.submitted_ms = Clock::system().unix_ms();
  info.home = self_position;
  JournalJob jj;
  jj.job = info.id;
  jj.app = app_name;
  jj.args = args;
  jj.submitted_unix_ms = info.submitted_ms;
  jj.main = to_blob(**main);
  if (Status st = journal->start(jj); !st.ok()) return st.context("journal");
  start_main(std::move(*main), info);
  return jobs[info.id];
}

void Node::Impl::start_main(std::unique_ptr<RemoteKernel> main, JobInfo info) {
  const uint64_t id = info.id;
  if (!info.resumed) NodeAccess::make_main(*main, this, id, false);
  info.state = "running";
  if (info.started_ms == 0) info.started_ms = Clock::system().unix_ms();
  info.trace_from_us = steady_us() - trace_origin_us;
  jobs[id] = std::move(info);
  refresh_self(true);
  runtime->submit(std::move(main), [this, id](std::unique_ptr<kernel::Kernel> done) {
    const Status result = done->result();
    const int exit_code = done->exit_code() != 0 ? done->exit_code() : (result.ok() ? 0 : 1);
    const int64_t ended = Clock::system().unix_ms();
    asio::post(*ctl, [this, id, exit_code, result, ended] {
      auto it = jobs.find(id);
      if (it == jobs.end()) return;
      JobInfo& j = it->second;
      j.exit_code = exit_code;
      j.ended_ms = ended;
      j.trace_to_us = steady_us() - trace_origin_us;
      if (result.code() == StatusCode::kCancelled || cancelled(id)) {
        j.state = "cancelled";
      } else {
        j.state = exit_code == 0 ? "succeeded" : "failed";
      }
      if (!result.ok()) j.error = result.to_string();
      if (shutting_down.load()) {
        // Interrupted by the node's stop: the journal keeps it unfinished, so it resumes.
        j.state = "interrupted";
        return;
      }
      const std::string summary_now = j.summary.empty() ? j.error : j.summary;
      // Journaled on the disk pipeline (fsync), never on the control thread.
      auto journal_end = [this, id, exit_code, summary_now, ended] {
        if (Status st = journal->end(id, exit_code, summary_now, ended); !st.ok()) {
          log::error("cluster", "journal end failed", {{"job", std::to_string(id)}, {"error", st.to_string()}});
        }
      };
      if (!runtime->post(kernel::Device::kDisk, journal_end)) journal_end();  // stopping: write it here
      log::info("cluster", "job finished", {{"job", std::to_string(id)}, {"state", j.state}, {"summary", summary_now}});
      refresh_self(true);
    });
  });
}

void Node::Impl::resume_journal() {
  uint64_t max_seq = 0;
  for (const JournalJob& jj : journal->jobs()) {
    if ((jj.job >> 32) == self_position) max_seq = std::max<uint64_t>(max_seq, jj.job & 0xffffffffULL);
  }
  job_seq.store(max_seq, std::memory_order_relaxed);
  std::promise<void> done;
  asio::post(*ctl, [this, &done] {
    for (const JournalJob& jj : journal->jobs()) {
      JobInfo info;
      info.id = jj.job;
      info.app = jj.app;
      info.args = jj.args;
      info.submitted_ms = jj.submitted_unix_ms;
      info.home = self_position;
      if (jj.exit_code) {
        info.state = *jj.exit_code == 0 ? "succeeded" : "failed";
        info.exit_code = *jj.exit_code;
        info.summary = jj.summary;
        info.ended_ms = jj.ended_unix_ms;
        jobs[info.id] = info;
        continue;
      }
      auto main = from_blob(jj.main);
      if (!main.ok()) {
        info.state = "failed";
        info.error = "cannot resume: " + main.status().to_string();
        jobs[info.id] = info;
        log::error("cluster", "cannot resume a job from the journal", {{"job", std::to_string(jj.job)}, {"error", info.error}});
        continue;
      }
      info.resumed = true;
      NodeAccess::make_main(**main, this, info.id, true);
      log::info("cluster", "resuming a job from the journal",
                {{"job", std::to_string(jj.job)}, {"app", jj.app}, {"checkpoints", std::to_string(jj.checkpoints)}});
      start_main(std::move(*main), std::move(info));
    }
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace chiron::cluster
