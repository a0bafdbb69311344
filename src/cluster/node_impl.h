#pragma once
// Internals of Node (node.h), shared by node.cc (lifecycle, kernels, jobs), node_peers.cc
// (links, discovery, records) and node_http.cc (API). Everything marked [ctl] is touched
// only on the control thread (the runtime's single net thread).

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cluster/cluster.h"
#include "cluster/discovery.h"
#include "cluster/journal.h"
#include "cluster/messages.h"
#include "cluster/node.h"
#include "cluster/scheduler.h"
#include "cluster/tree.h"
#include "cluster/wire.h"
#include "kernel/runtime.h"
#include "net/http_server.h"

namespace chiron::cluster {

// Gives node code access to RemoteKernel's private placement fields.
struct NodeAccess {
  static void adopt(RemoteKernel& k, Placement* p, uint64_t job, uint64_t exclude) {
    k.placement_ = p;
    k.placeable_ = true;
    k.job_id_ = job;
    k.exclude_link_ = exclude;
  }
  static void make_main(RemoteKernel& k, Placement* p, uint64_t job, bool resumed) {
    k.placement_ = p;
    k.placeable_ = false;
    k.job_id_ = job;
    k.resumed_ = resumed;
  }
  static void set_resume_child(RemoteKernel& parent, std::unique_ptr<RemoteKernel> child) {
    parent.resume_child_ = std::move(child);
  }
  static uint64_t exclude(const RemoteKernel& k) { return k.exclude_link_; }
  static void set_holds_local_slot(RemoteKernel& k, bool on) { k.holds_local_slot_ = on; }
  static void set_returned(RemoteKernel& k, Status st, int exit_code) {
    k.returned_status_ = std::move(st);
    k.returned_exit_ = exit_code;
  }
  static void commit_returned(RemoteKernel& k) {
    if (!k.returned_status_.ok()) {
      k.commit(std::move(k.returned_status_));
    } else if (k.returned_exit_ != 0) {
      k.commit(k.returned_exit_);
    } else {
      k.commit();
    }
  }
  static void suspend(RemoteKernel& k) { k.suspend(); }
  static void cancel_suspend(RemoteKernel& k) { k.cancel_suspend(); }
  static void resume(RemoteKernel& k) { k.kernel::Kernel::resume(); }  // not RemoteKernel::resume(child)
  static bool holds_local_slot(const RemoteKernel& k) { return k.holds_local_slot_; }
  static std::shared_ptr<const KernelBlob> carried_parent(const RemoteKernel& k) { return k.carried_parent_; }
  static std::atomic<uint64_t>& place_state(RemoteKernel& k) { return k.place_state_; }
};

struct Peer;

struct Counters {
  std::atomic<uint64_t> kernels_sent{0};
  std::atomic<uint64_t> kernels_received{0};
  std::atomic<uint64_t> kernels_recovered{0};
  std::atomic<uint64_t> kernels_resumed_parents{0};
  std::atomic<uint64_t> frames_refused{0};
  std::atomic<uint64_t> superior_changes{0};
  std::atomic<uint64_t> local_acts{0};
};

struct JobInfo {
  uint64_t id = 0;
  std::string app;
  std::vector<std::string> args;
  std::string state = "running";  // running | succeeded | failed | cancelled
  int64_t submitted_ms = 0, started_ms = 0, ended_ms = 0;
  std::optional<int> exit_code;
  std::string summary;
  std::string error;
  uint64_t done = 0, total = 0;
  uint64_t home = 0;
  bool resumed = false;
  int64_t trace_from_us = 0, trace_to_us = 0;  // window in the runtime's event log
};

// A kernel sent over a link, kept until its result returns. [ctl]
struct InFlight {
  RemoteKernel* kernel = nullptr;  // owned by the runtime (waiting for our commit)
  uint64_t link = 0;
  uint64_t job = 0;
};

struct Node::Impl final : Placement {
  explicit Impl(NodeOptions o);
  ~Impl() override;

  // ---- Placement (runtime threads)
  void assign(RemoteKernel& k, const kernel::Kernel& principal) override;
  void place(RemoteKernel& k) override;
  bool cancelled(uint64_t job) const override;
  void checkpoint(const RemoteKernel& main) override;
  void progress(uint64_t job, uint64_t done, uint64_t total) override;
  void summary(uint64_t job, std::string s) override;
  uint64_t position() const override { return self_position; }
  void finished_here(RemoteKernel& k) override;

  // ---- lifecycle (node.cc)
  Status start();
  void stop();

  // ---- kernels (node.cc) [ctl unless noted]
  void on_assigned(RemoteKernel& k, uint64_t where);   // any thread (scheduler callback)
  void perform(RemoteKernel& k, uint64_t where);       // in k's run()
  void run_local(RemoteKernel& k, bool holds_slot);    // in k's run()
  void finish_remote(RemoteKernel& k, Status st, int exit_code);  // k suspended: commit in its next run()
  void send_kernel(RemoteKernel* k, uint64_t link, KernelBlob blob, std::shared_ptr<const KernelBlob> parent);
  void on_kernel(Peer& peer, std::string_view payload);
  void refuse_kernel(Peer& peer, const KernelMsg& msg, StatusCode code, const std::string& why);
  void on_kernel_return(Peer& peer, std::string_view payload);
  // head_checked: called again after the grace period for a carried parent.
  void on_inbound_done(uint64_t link, KernelMsg msg_head, std::unique_ptr<kernel::Kernel> child, bool head_checked = false);
  void recover_link(uint64_t link);
  void cancel_job_local(uint64_t job, bool propagate);
  void redispatch(RemoteKernel* k);

  // ---- jobs (node.cc)
  Result<JobInfo> submit_job(const std::string& app, const std::vector<std::string>& args);  // [ctl]
  void start_main(std::unique_ptr<RemoteKernel> main, JobInfo info);                         // [ctl]
  void resume_journal();                                                                      // start()
  uint64_t next_job_id();

  // ---- links (node_peers.cc) [ctl]
  Status start_listener();
  void accept_next();
  void on_tick();
  void drive_discovery();
  void probe(uint64_t position);
  void peer_authenticated(const std::shared_ptr<Peer>& p);
  void peer_frame(const std::shared_ptr<Peer>& p, Frame frame);
  void peer_closed(Peer& p, const std::string& why);
  void link_up(const std::shared_ptr<Peer>& p);
  void link_lost(uint64_t link, bool was_superior);
  void broadcast(FrameType type, const std::string& payload, uint64_t except);
  void refresh_self(bool force);
  void update_link_weights();
  Peer* link_peer(uint64_t link);
  void send_frame(Peer& peer, FrameType type, std::string payload);
  static uint64_t peer_position(const Peer& peer);
  NodeRecord make_self_record() const;

  // ---- HTTP (node_http.cc) [ctl]
  Status start_http();
  std::string cluster_json() const;
  std::string job_json(const JobInfo& j) const;
  // Runs fn on the control thread and waits for it (not from a runtime thread).
  template <class F>
  auto on_ctl(F&& fn) const -> decltype(fn());

  // config
  NodeOptions options;
  Subnet subnet;
  Endpoint listen;
  uint64_t self_position = 0;
  uint64_t uid = 0;
  HelloInfo hello;
  std::string hostname;

  // runtime + services
  std::unique_ptr<kernel::Runtime> runtime;
  boost::asio::io_context* ctl = nullptr;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor;
  std::unique_ptr<boost::asio::steady_timer> ticker;
  std::unique_ptr<net::HttpServer> http;
  std::unique_ptr<ClusterScheduler> scheduler;
  std::unique_ptr<Journal> journal;
  int64_t trace_origin_us = 0;

  // [ctl] state
  std::unique_ptr<Discoverer> discoverer;
  std::unique_ptr<NodeTable> table;
  std::map<uint64_t, std::shared_ptr<Peer>> links;  // superior + subordinates by position
  std::set<std::shared_ptr<Peer>> pending;          // handshaking / probing connections
  std::map<KernelId, InFlight> in_flight;
  std::map<uint64_t, uint64_t> inbound_by_link;     // kernels received and not yet returned
  std::map<uint64_t, JobInfo> jobs;
  int64_t last_self_refresh_us = 0;
  bool stopping = false;

  // shared across threads
  std::atomic<uint64_t> kernel_seq{0};
  std::atomic<uint64_t> job_seq{0};
  mutable std::mutex cancel_mu;
  std::set<uint64_t> cancelled_jobs;  // Guarded by cancel_mu
  std::deque<uint64_t> cancelled_order;  // Guarded by cancel_mu: oldest first
  std::atomic<int64_t> local_running{0};
  // stop() began: kernels finish as cancelled and jobs stay unfinished in the journal.
  std::atomic<bool> shutting_down{false};
  Counters counters;
};

int64_t steady_us();

template <class F>
auto Node::Impl::on_ctl(F&& fn) const -> decltype(fn()) {
  std::packaged_task<decltype(fn())()> task(std::forward<F>(fn));
  auto result = task.get_future();
  boost::asio::post(*ctl, [&task] { task(); });
  return result.get();
}

}  // namespace chiron::cluster
