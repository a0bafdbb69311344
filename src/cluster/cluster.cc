#include "cluster/cluster.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "common/log.h"

namespace chiron::cluster {

namespace {

struct Registry {
  std::shared_mutex mu;
  std::map<std::string, KernelFactory, std::less<>> kernels;
  std::map<std::string, App, std::less<>> apps;
  std::map<const kernel::Runtime*, Placement*> placements;
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: used until the last thread exits
  return *r;
}

bool valid_type_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

}  // namespace

void attach_placement(const kernel::Runtime& runtime, Placement* placement) {
  Registry& r = registry();
  std::unique_lock lock(r.mu);
  if (placement == nullptr) {
    r.placements.erase(&runtime);
  } else {
    r.placements[&runtime] = placement;
  }
}

Placement* placement_of(const kernel::Runtime& runtime) {
  Registry& r = registry();
  std::shared_lock lock(r.mu);
  auto it = r.placements.find(&runtime);
  return it == r.placements.end() ? nullptr : it->second;
}

void RemoteKernel::resume(std::unique_ptr<RemoteKernel> child) { react(std::move(child)); }

bool RemoteKernel::cancelled() const { return placement_ != nullptr && placement_->cancelled(job_id_); }

void RemoteKernel::checkpoint() {
  if (placement_ != nullptr) placement_->checkpoint(*this);
}

void RemoteKernel::report_progress(uint64_t done, uint64_t total) {
  if (placement_ != nullptr) placement_->progress(job_id_, done, total);
}

void RemoteKernel::set_summary(std::string summary) {
  if (placement_ != nullptr) placement_->summary(job_id_, std::move(summary));
}

uint64_t RemoteKernel::node_position() const { return placement_ == nullptr ? 0 : placement_->position(); }

void RemoteKernel::run() {
  if (resume_child_ != nullptr) {
    resume(std::move(resume_child_));
    return;
  }
  if (placeable_ && placement_ != nullptr) {
    placement_->place(*this);
    return;
  }
  act();
}

void RemoteKernel::finished() {
  if (holds_local_slot_ && placement_ != nullptr) {
    holds_local_slot_ = false;
    placement_->finished_here(*this);
  }
}

void upstream(kernel::Kernel& principal, std::unique_ptr<RemoteKernel> child) {
  auto* remote_principal = dynamic_cast<RemoteKernel*>(&principal);
  Placement* placement = remote_principal != nullptr ? remote_principal->placement_ : nullptr;
  if (placement == nullptr) placement = placement_of(principal.runtime());
  if (remote_principal != nullptr) {
    child->job_id_ = remote_principal->job_id_;
    if (child->carries_parent_) child->carried_parent_ = std::make_shared<const KernelBlob>(to_blob(*remote_principal));
  }
  child->placement_ = placement;
  child->placeable_ = placement != nullptr;
  if (placement != nullptr) placement->assign(*child, principal);
  principal.upstream(std::move(child));
}

void register_kernel_type(std::string_view name, KernelFactory factory) {
  if (!valid_type_name(name)) {
    log::error("cluster", "invalid kernel type name", {{"name", std::string(name)}});
    std::abort();  // a programming error caught at start-up
  }
  Registry& r = registry();
  std::unique_lock lock(r.mu);
  r.kernels[std::string(name)] = factory;
}

std::unique_ptr<RemoteKernel> make_kernel(std::string_view name) {
  Registry& r = registry();
  KernelFactory factory = nullptr;
  {
    std::shared_lock lock(r.mu);
    auto it = r.kernels.find(name);
    if (it != r.kernels.end()) factory = it->second;
  }
  return factory == nullptr ? nullptr : factory();
}

KernelBlob to_blob(const RemoteKernel& k) {
  ByteWriter out;
  k.write(out);
  return KernelBlob{std::string(k.wire_type()), out.take()};
}

Result<std::unique_ptr<RemoteKernel>> from_blob(const KernelBlob& blob) {
  std::unique_ptr<RemoteKernel> k = make_kernel(blob.type);
  if (k == nullptr) return Status::invalid_argument("unknown kernel type '" + blob.type.substr(0, 128) + "'");
  ByteReader in(blob.body);
  Status st = k->read(in);
  if (st.ok()) st = in.status();
  if (!st.ok()) return st.context("kernel " + blob.type);
  return k;
}

void register_app(App app) {
  Registry& r = registry();
  std::unique_lock lock(r.mu);
  std::string name = app.name;
  r.apps[name] = std::move(app);
}

const App* find_app(std::string_view name) {
  Registry& r = registry();
  std::shared_lock lock(r.mu);
  auto it = r.apps.find(name);
  return it == r.apps.end() ? nullptr : &it->second;
}

std::vector<const App*> apps() {
  Registry& r = registry();
  std::shared_lock lock(r.mu);
  std::vector<const App*> out;
  for (const auto& [name, app] : r.apps) out.push_back(&app);
  return out;
}

}  // namespace chiron::cluster
