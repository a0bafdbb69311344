#pragma once
// CONTRACT (owner: lead) — kernels that travel between nodes, and the batch-job apps.
//
// A RemoteKernel is a kernel::Kernel that can be written to bytes and read back on another
// node (stable type name + write()/read(), no pointers, no unsafe deserialisation). A
// principal hands one to the cluster with cluster::upstream(*this, std::move(child)); when
// the child is due, the node's scheduler runs it here or sends it over a tree link to the
// least-loaded part of the cluster (scheduler.h). Either way the principal's react()
// receives the same child object back — for a remote run, with the state the remote act()
// and its subtree left (read() of the returned bytes) and the remote result/exit code.
// Without a cluster node (a plain kernel::Runtime: unit tests, the 1-process benchmarks)
// cluster::upstream is simply principal.upstream(child).
//
// Failure recovery: a node keeps every kernel it sent until its result returns; when the
// link dies (connection error or missed heartbeats) the kernel is placed again (another
// link or here) — exactly once per failure, so act() must be idempotent (re-running it from
// the state it was sent with must give the same result). A kernel marked
// carries_parent() is sent together with its principal's state; if the principal's node
// is gone when it finishes, the principal is rebuilt where the child ran and continues
// there (resume(child)) — one subordinate at a time, as in the paper.
//
// A kernel's device is part of its type: set it in the default constructor (the receiving
// node builds the kernel with it and read()s the state; the device is not on the wire).
// Paths in a job's arguments should be absolute and exist on every node that may run its
// kernels (a shared file system, as in the paper); they are resolved on the node.
//
// Jobs: an App makes the main kernel of a job from its arguments. The node journals the
// job (journal.h) and the main kernel's checkpoint()s, so after a full-cluster restart the
// main kernel is rebuilt from its last checkpoint and run again with resumed() == true.
//
// Thread-safety: registries are filled at start-up (register_*), then read-only.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/messages.h"
#include "cluster/wire.h"
#include "common/result.h"
#include "common/status.h"
#include "kernel/kernel.h"

namespace chiron::cluster {

class RemoteKernel;

// Implemented by the node (node.h): decides where a placeable kernel runs. A runtime without
// one runs everything locally. Methods are called from runtime threads (thread-safe).
class Placement {
 public:
  virtual ~Placement() = default;
  // The kernel is being upstreamed (on its principal's thread, before the runtime has it):
  // take a slot for it here or on a link, or queue it — the scheduler's capacity counts
  // kernels from this moment, so kernels waiting in the runtime's queues count as load.
  virtual void assign(RemoteKernel& k, const kernel::Kernel& principal) = 0;
  // The kernel is due (its run()): act() here now, send it, or wait for its slot.
  virtual void place(RemoteKernel& k) = 0;
  virtual bool cancelled(uint64_t job) const = 0;
  virtual void checkpoint(const RemoteKernel& main) = 0;
  virtual void progress(uint64_t job, uint64_t done, uint64_t total) = 0;
  virtual void summary(uint64_t job, std::string summary) = 0;
  virtual uint64_t position() const = 0;
  // A kernel that ran here holding a local slot is done (with its whole subtree).
  virtual void finished_here(RemoteKernel& k) = 0;
};
// Registers the node of a runtime (nullptr to remove). Kernels upstreamed from a plain
// kernel::Kernel principal find their node here.
void attach_placement(const kernel::Runtime& runtime, Placement* placement);
Placement* placement_of(const kernel::Runtime& runtime);

class RemoteKernel : public kernel::Kernel {
 public:
  using Kernel::Kernel;

  // The name this type was registered under (register_kernel_type).
  virtual std::string_view wire_type() const = 0;
  // The whole state act() needs going out, and react() needs coming back. read() gets
  // untrusted bytes: check every size/count and fail with a Status, never crash.
  virtual void write(ByteWriter& out) const = 0;
  virtual Status read(ByteReader& in) = 0;

  // A principal rebuilt from its carried copy after its node died: called instead of act()
  // with the child that finished. Default: react(child).
  virtual void resume(std::unique_ptr<RemoteKernel> child);

  // Send the principal's state with this kernel (set before cluster::upstream).
  void set_carries_parent(bool on) { carries_parent_ = on; }
  bool carries_parent() const { return carries_parent_; }

  // The job this kernel belongs to (inherited from its principal); 0 outside a job.
  uint64_t job_id() const { return job_id_; }
  // True when the job was cancelled: long act()s should check it and commit early.
  bool cancelled() const;
  // True for a main kernel rebuilt from the journal after a restart (see checkpoint()).
  bool resumed() const { return resumed_; }
  // Main kernel only: journal the current state (write()) so a restart resumes from here.
  // Blocks on the disk (fsync): call it where that is acceptable — a main kernel that
  // checkpoints often belongs on Device::kDisk.
  // No-op outside a node.
  void checkpoint();
  // Main kernel only: progress shown by `chiron job status` and the monitoring page.
  void report_progress(uint64_t done, uint64_t total);
  // Main kernel only: a one-line result ("spectra=1234 checksum=…") kept with the job.
  void set_summary(std::string summary);
  // Where this kernel runs: the node's position (0 outside a node).
  uint64_t node_position() const;

 protected:
  void run() override;
  void finished() override;

 private:
  friend struct NodeAccess;  // node.cc
  friend class Placement;
  friend void upstream(kernel::Kernel& principal, std::unique_ptr<RemoteKernel> child);
  bool carries_parent_ = false;
  bool placeable_ = false;   // set by cluster::upstream: the node may send it elsewhere
  bool resumed_ = false;
  uint64_t job_id_ = 0;
  uint64_t exclude_link_ = 0;  // a received kernel never goes back where it came from
  Placement* placement_ = nullptr;  // the node deciding where it runs
  std::unique_ptr<RemoteKernel> resume_child_;  // carries-parent recovery
  // carries_parent(): the principal's state, written by cluster::upstream on the
  // principal's own thread (it must not be read while the principal runs).
  std::shared_ptr<const KernelBlob> carried_parent_;
  // Where the node put it: 0 = not decided, 1 = run() is waiting for the decision,
  // 2 + place (0 = here, else a link), or kPlaceCancelled / kPlaceNoSlot (see node.cc).
  std::atomic<uint64_t> place_state_{0};
  // It acts here and holds a local slot until it is finished (subtree included), so the
  // scheduler compares like with like: a kernel sent away holds its link's slot as long.
  bool holds_local_slot_ = false;
  // The result of a run elsewhere, committed by the next run() (all commits happen on the
  // kernel's own executor).
  Status returned_status_;
  int returned_exit_ = 0;
};

// Schedules `child` as a subordinate of `principal` anywhere in the cluster (see above).
// Call from the principal's act()/react() like Kernel::upstream.
void upstream(kernel::Kernel& principal, std::unique_ptr<RemoteKernel> child);

// Stable type names ↔ factories. Names: [a-z0-9._-], ≤ 128 bytes, unique.
using KernelFactory = std::unique_ptr<RemoteKernel> (*)();
void register_kernel_type(std::string_view name, KernelFactory factory);
template <class K>
void register_kernel_type(std::string_view name) {
  register_kernel_type(name, +[]() -> std::unique_ptr<RemoteKernel> { return std::make_unique<K>(); });
}
// A fresh kernel of that type, or null for an unknown name.
std::unique_ptr<RemoteKernel> make_kernel(std::string_view name);
// Serialises a kernel (type name + write()).
KernelBlob to_blob(const RemoteKernel& k);
// make_kernel + read(); errors: unknown type, bad bytes (with the type in the message).
Result<std::unique_ptr<RemoteKernel>> from_blob(const KernelBlob& blob);

// What a job's main kernel is made from.
struct JobSpec {
  uint64_t job_id = 0;
  std::vector<std::string> args;  // after the app name
  std::filesystem::path work_dir; // the job's directory on the node that runs main
};

struct App {
  std::string name;   // "ar-waves"
  std::string usage;  // one line: "ar-waves --size T,X,Y --out DIR [--seed N] ..."
  std::string about;  // one sentence
  // The main kernel, or invalid_argument with a message for the user (bad args).
  std::function<Result<std::unique_ptr<RemoteKernel>>(const JobSpec&)> make_main;
};
void register_app(App app);
const App* find_app(std::string_view name);
std::vector<const App*> apps();

}  // namespace chiron::cluster
