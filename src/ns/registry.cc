#include "ns/registry.h"

#include <utility>

namespace chiron::ns {
namespace {

Status unknown_service(std::string_view service) {
  return Status::not_found("unknown service '" + std::string(service) + "'");
}

}  // namespace

Registry::Registry(const Clock& clock, RegistryOptions options) : clock_(clock), options_(std::move(options)) {}

Registry::~Registry() = default;

Result<Pool*> Registry::find_locked(std::string_view service) const {
  auto it = pools_.find(service);
  if (it == pools_.end()) return unknown_service(service);
  return it->second.get();
}

Status Registry::register_server(std::string_view service, std::string_view id, uint32_t weight) {
  if (weight > kMaxWeight) return Status::invalid_argument("weight out of range");
  std::lock_guard lock(mu_);
  auto it = pools_.find(service);
  if (it == pools_.end()) {
    PoolOptions opts = options_.pool;
    // Each service gets its own PRNG stream so replicas and services do not herd in lock-step.
    opts.balancer.seed ^= std::hash<std::string_view>{}(service) * 0x9e3779b97f4a7c15ULL;
    auto pool = Pool::create(clock_, std::move(opts));
    if (!pool.ok()) return std::move(pool).status().context("new service");
    it = pools_.emplace(std::string(service), std::move(pool).value()).first;
  }
  Pool& pool = *it->second;
  if (pool.find(id) != nullptr) return pool.set_weight(id, weight);
  return pool.add(id, ServerSpec{.weight = weight, .admin = AdminState::kReady, .health = Health::kUp});
}

Result<bool> Registry::remove_server(std::string_view service, std::string_view id) {
  std::lock_guard lock(mu_);
  auto pool = find_locked(service);
  if (!pool.ok()) return std::move(pool).status();
  if ((*pool)->find(id) == nullptr) return false;
  if (Status st = (*pool)->remove(id); !st.ok()) return st;
  return true;
}

Status Registry::heartbeat(std::string_view service, std::string_view id, const Heartbeat& hb) {
  if (hb.weight_percent && *hb.weight_percent > kMaxWeightPercent)
    return Status::invalid_argument("weight percent out of range");
  std::lock_guard lock(mu_);
  auto pool = find_locked(service);
  if (!pool.ok()) return std::move(pool).status();
  Pool& p = **pool;
  if (p.find(id) == nullptr) return Status::not_found("unknown server '" + std::string(id) + "'");
  // Validated above and the server exists, so none of these can fail half-way.
  Status st;
  if (hb.load) st = p.report_load(id, *hb.load);
  if (st.ok() && hb.weight_percent) st = p.set_weight_percent(id, *hb.weight_percent);
  if (st.ok() && hb.drain) st = p.set_admin(id, AdminState::kDrain);
  return st;
}

Status Registry::set_admin(std::string_view service, std::string_view id, AdminState state) {
  std::lock_guard lock(mu_);
  auto pool = find_locked(service);
  if (!pool.ok()) return std::move(pool).status();
  if ((*pool)->find(id) == nullptr) return Status::not_found("unknown server '" + std::string(id) + "'");
  return (*pool)->set_admin(id, state);
}

Status Registry::set_algorithm(std::string_view service, std::string_view algorithm) {
  std::lock_guard lock(mu_);
  auto pool = find_locked(service);
  if (!pool.ok()) return std::move(pool).status();
  return (*pool)->set_algorithm(algorithm);
}

Result<std::string> Registry::pick(std::string_view service, std::string_view key) {
  std::lock_guard lock(mu_);
  auto pool = find_locked(service);
  if (!pool.ok()) return std::move(pool).status();
  auto server = (*pool)->pick(key);
  if (!server.ok()) return std::move(server).status();
  return (*server)->id;
}

Result<std::vector<Server>> Registry::list(std::string_view service) const {
  std::lock_guard lock(mu_);
  auto pool = find_locked(service);
  if (!pool.ok()) return std::move(pool).status();
  std::vector<Server> out;
  out.reserve((*pool)->size());
  (*pool)->for_each([&out](const Server& s) { out.push_back(s); });
  return out;
}

Result<std::string> Registry::algorithm(std::string_view service) const {
  std::lock_guard lock(mu_);
  auto pool = find_locked(service);
  if (!pool.ok()) return std::move(pool).status();
  return std::string((*pool)->algorithm());
}

size_t Registry::service_count() const {
  std::lock_guard lock(mu_);
  return pools_.size();
}

}  // namespace chiron::ns
