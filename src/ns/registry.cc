#include "ns/registry.h"

#include <algorithm>
#include <utility>

namespace chiron::ns {
namespace {

Status unknown_service(std::string_view service) {
  return Status::not_found("unknown service '" + std::string(service) + "'");
}

Status unknown_server(std::string_view id) { return Status::not_found("unknown server '" + std::string(id) + "'"); }

}  // namespace

Registry::Registry(const Clock& clock, RegistryOptions options) : clock_(clock), options_(std::move(options)) {}

Registry::~Registry() = default;

void Registry::set_observer(ChangeObserver observer) {
  std::lock_guard lock(mu_);
  observer_ = std::move(observer);
}

Result<Registry::Service*> Registry::find_locked(std::string_view service) {
  auto it = services_.find(service);
  if (it == services_.end()) return unknown_service(service);
  return &it->second;
}

// The pool is mutable through a const Registry (it lives behind a unique_ptr): const readers
// still need Pool::eligible() to refresh its lazily built view.
Result<Pool*> Registry::pool_locked(std::string_view service) const {
  auto it = services_.find(service);
  if (it == services_.end()) return unknown_service(service);
  return it->second.pool.get();
}

Result<Registry::Service*> Registry::find_or_create_locked(std::string_view service) {
  auto it = services_.find(service);
  if (it != services_.end()) return &it->second;
  PoolOptions opts = options_.pool;
  // Each service gets its own PRNG stream so replicas and services do not herd in lock-step.
  opts.balancer.seed ^= std::hash<std::string_view>{}(service) * 0x9e3779b97f4a7c15ULL;
  auto pool = Pool::create(clock_, std::move(opts));
  if (!pool.ok()) return std::move(pool).status().context("new service");
  Service svc;
  svc.pool = std::move(pool).value();
  return &services_.emplace(std::string(service), std::move(svc)).first->second;
}

void Registry::emit_server_locked(std::string_view service, const Pool& pool, std::string_view id, bool durable) {
  ++version_;
  if (!observer_) return;
  (void)pool.eligible();  // refresh the eligible flags so the copy is current
  const Server* s = pool.find(id);
  if (s == nullptr) return;
  Change c;
  c.version = version_;
  c.op = Change::Op::kUpsert;
  c.durable = durable;
  c.service = std::string(service);
  c.id = s->id;
  c.server = *s;
  observer_(c);
}

void Registry::emit_remove_locked(std::string_view service, std::string_view id) {
  ++version_;
  if (!observer_) return;
  Change c;
  c.version = version_;
  c.op = Change::Op::kRemove;
  c.durable = true;
  c.service = std::string(service);
  c.id = std::string(id);
  observer_(c);
}

void Registry::emit_service_locked(std::string_view service, const Service& svc) {
  ++version_;
  if (!observer_) return;
  Change c;
  c.version = version_;
  c.op = Change::Op::kService;
  c.durable = true;
  c.service = std::string(service);
  c.algorithm = std::string(svc.pool->algorithm());
  c.secret = svc.secret;
  c.has_secret = !svc.secret.empty();
  observer_(c);
}

Status Registry::register_server(std::string_view service, std::string_view id, const Registration& reg) {
  if (reg.weight > kMaxWeight) return Status::invalid_argument("weight out of range");
  std::lock_guard lock(mu_);
  const bool new_service = !services_.contains(service);
  CHIRON_ASSIGN_OR_RETURN(Service * svc, find_or_create_locked(service));
  if (new_service) emit_service_locked(service, *svc);
  Pool& pool = *svc->pool;
  if (const Server* existing = pool.find(id)) {
    const bool same = existing->weight == reg.weight && (!reg.check || *reg.check == existing->check);
    if (same) return ok_status();  // an idempotent re-REG changes nothing and journals nothing
    CHIRON_RETURN_IF_ERROR(pool.set_weight(id, reg.weight));
    if (reg.check && *reg.check != existing->check) {
      const bool had_check = !existing->check.empty();
      CHIRON_RETURN_IF_ERROR(pool.set_check(id, *reg.check));
      if (reg.check->empty()) {
        // Back to lease-only: the lease starts now; the health stays until it expires.
        CHIRON_RETURN_IF_ERROR(pool.set_lease_deadline(id, clock_.steady_us() + options_.lease_ttl_us));
      } else if (!had_check) {
        CHIRON_RETURN_IF_ERROR(pool.set_lease_deadline(id, 0));
      }
    }
    emit_server_locked(service, pool, id, /*durable=*/true);
    return ok_status();
  }
  CHIRON_RETURN_IF_ERROR(
      pool.add(id, ServerSpec{.weight = reg.weight, .admin = AdminState::kReady, .health = Health::kPending}));
  const std::string check = reg.check.value_or("");
  if (!check.empty()) {
    CHIRON_RETURN_IF_ERROR(pool.set_check(id, check));
  } else {
    CHIRON_RETURN_IF_ERROR(pool.set_lease_deadline(id, clock_.steady_us() + options_.lease_ttl_us));
  }
  emit_server_locked(service, pool, id, /*durable=*/true);
  return ok_status();
}

Result<bool> Registry::remove_server(std::string_view service, std::string_view id) {
  std::lock_guard lock(mu_);
  CHIRON_ASSIGN_OR_RETURN(Pool * pool, pool_locked(service));
  if (pool->find(id) == nullptr) return false;
  CHIRON_RETURN_IF_ERROR(pool->remove(id));
  emit_remove_locked(service, id);
  return true;
}

Status Registry::heartbeat(std::string_view service, std::string_view id, const Heartbeat& hb) {
  if (hb.weight_percent && *hb.weight_percent > kMaxWeightPercent)
    return Status::invalid_argument("weight percent out of range");
  std::lock_guard lock(mu_);
  CHIRON_ASSIGN_OR_RETURN(Pool * pool, pool_locked(service));
  Pool& p = *pool;
  const Server* s = p.find(id);
  if (s == nullptr) return unknown_server(id);
  const Server before = *s;
  // Validated above and the server exists, so none of these can fail half-way.
  if (hb.load) CHIRON_RETURN_IF_ERROR(p.report_load(id, *hb.load));
  if (hb.weight_percent) CHIRON_RETURN_IF_ERROR(p.set_weight_percent(id, *hb.weight_percent));
  if (hb.drain) CHIRON_RETURN_IF_ERROR(p.set_admin(id, AdminState::kDrain));
  if (before.check.empty()) {
    CHIRON_RETURN_IF_ERROR(p.set_lease_deadline(id, clock_.steady_us() + options_.lease_ttl_us));
    if (before.health != Health::kUp) CHIRON_RETURN_IF_ERROR(p.set_health(id, Health::kUp, "heartbeat"));
  }
  const Server& after = *p.find(id);
  // Only a change worth showing is a change: a plain renewal is silent (10k servers × HB every
  // 5 s would otherwise flood every dashboard with no news).
  const bool changed = after.health != before.health || after.admin != before.admin ||
                       after.weight_percent != before.weight_percent || after.reported_load != before.reported_load;
  if (changed) emit_server_locked(service, p, id, /*durable=*/after.admin != before.admin);
  return ok_status();
}

Status Registry::set_admin(std::string_view service, std::string_view id, AdminState state) {
  std::lock_guard lock(mu_);
  CHIRON_ASSIGN_OR_RETURN(Pool * pool, pool_locked(service));
  const Server* s = pool->find(id);
  if (s == nullptr) return unknown_server(id);
  if (s->admin == state) return ok_status();
  CHIRON_RETURN_IF_ERROR(pool->set_admin(id, state));
  emit_server_locked(service, *pool, id, /*durable=*/true);
  return ok_status();
}

Status Registry::set_weight(std::string_view service, std::string_view id, uint32_t weight) {
  if (weight > kMaxWeight) return Status::invalid_argument("weight out of range");
  std::lock_guard lock(mu_);
  CHIRON_ASSIGN_OR_RETURN(Pool * pool, pool_locked(service));
  const Server* s = pool->find(id);
  if (s == nullptr) return unknown_server(id);
  if (s->weight == weight) return ok_status();
  CHIRON_RETURN_IF_ERROR(pool->set_weight(id, weight));
  emit_server_locked(service, *pool, id, /*durable=*/true);
  return ok_status();
}

Status Registry::set_health(std::string_view service, std::string_view id, Health health, std::string_view detail) {
  std::lock_guard lock(mu_);
  CHIRON_ASSIGN_OR_RETURN(Pool * pool, pool_locked(service));
  const Server* s = pool->find(id);
  if (s == nullptr) return unknown_server(id);
  if (s->health == health) return ok_status();
  CHIRON_RETURN_IF_ERROR(pool->set_health(id, health, detail));
  emit_server_locked(service, *pool, id, /*durable=*/false);
  return ok_status();
}

Status Registry::set_algorithm(std::string_view service, std::string_view algorithm) {
  std::lock_guard lock(mu_);
  CHIRON_ASSIGN_OR_RETURN(Service * svc, find_locked(service));
  CHIRON_RETURN_IF_ERROR(svc->pool->set_algorithm(algorithm));
  emit_service_locked(service, *svc);
  return ok_status();
}

Status Registry::set_service(std::string_view service, std::optional<std::string_view> algorithm,
                             std::optional<std::string_view> secret) {
  if (service.empty()) return Status::invalid_argument("empty service name");
  std::lock_guard lock(mu_);
  const bool existed = services_.contains(service);
  CHIRON_ASSIGN_OR_RETURN(Service * svc, find_or_create_locked(service));
  if (algorithm) {
    if (Status st = svc->pool->set_algorithm(*algorithm); !st.ok()) {
      if (!existed) services_.erase(services_.find(service));  // all or nothing
      return st;
    }
  }
  if (secret) svc->secret = std::string(*secret);
  emit_service_locked(service, *svc);
  return ok_status();
}

bool Registry::remove_service(std::string_view service) {
  std::lock_guard lock(mu_);
  auto it = services_.find(service);
  if (it == services_.end()) return false;
  services_.erase(it);
  ++version_;
  if (observer_) {
    Change c;
    c.version = version_;
    c.op = Change::Op::kRemoveService;
    c.durable = true;
    c.service = std::string(service);
    observer_(c);
  }
  return true;
}

Status Registry::pick_into(std::string_view service, std::string_view key, std::string* out) {
  std::lock_guard lock(mu_);
  CHIRON_ASSIGN_OR_RETURN(Service * svc, find_locked(service));
  auto server = svc->pool->pick(key);
  if (!server.ok()) {
    ++svc->errors;
    return std::move(server).status();
  }
  out->append((*server)->id);
  return ok_status();
}

Result<std::string> Registry::pick(std::string_view service, std::string_view key) {
  std::string out;
  CHIRON_RETURN_IF_ERROR(pick_into(service, key, &out));
  return out;
}

Result<std::string> Registry::secret(std::string_view service) const {
  std::lock_guard lock(mu_);
  auto it = services_.find(service);
  if (it == services_.end()) return unknown_service(service);
  return it->second.secret;
}

Result<Server> Registry::server(std::string_view service, std::string_view id) const {
  std::lock_guard lock(mu_);
  CHIRON_ASSIGN_OR_RETURN(Pool * pool, pool_locked(service));
  (void)pool->eligible();  // refresh the eligible flags before copying
  const Server* s = pool->find(id);
  if (s == nullptr) return unknown_server(id);
  return *s;
}

Result<std::vector<Server>> Registry::list(std::string_view service) const {
  std::lock_guard lock(mu_);
  CHIRON_ASSIGN_OR_RETURN(Pool * pool, pool_locked(service));
  std::vector<Server> out;
  out.reserve(pool->size());
  pool->for_each([&out](const Server& s) { out.push_back(s); });
  return out;
}

Result<std::string> Registry::algorithm(std::string_view service) const {
  std::lock_guard lock(mu_);
  CHIRON_ASSIGN_OR_RETURN(Pool * pool, pool_locked(service));
  return std::string(pool->algorithm());
}

ServiceView Registry::view_locked(const std::string& name, const Service& svc) const {
  ServiceView v;
  v.name = name;
  v.algorithm = std::string(svc.pool->algorithm());
  v.has_secret = !svc.secret.empty();
  v.panic = svc.panic;
  v.picks = svc.pool->total_picks();
  v.errors = svc.errors;
  (void)svc.pool->eligible();  // refresh the eligible flags before copying
  v.servers.reserve(svc.pool->size());
  svc.pool->for_each([&v](const Server& s) { v.servers.push_back(s); });
  return v;
}

Result<ServiceView> Registry::service(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = services_.find(name);
  if (it == services_.end()) return unknown_service(name);
  return view_locked(it->first, it->second);
}

std::vector<ServiceView> Registry::snapshot(uint64_t* version) const {
  std::lock_guard lock(mu_);
  std::vector<ServiceView> out;
  out.reserve(services_.size());
  for (const auto& [name, svc] : services_) out.push_back(view_locked(name, svc));
  std::sort(out.begin(), out.end(), [](const ServiceView& a, const ServiceView& b) { return a.name < b.name; });
  if (version) *version = version_;
  return out;
}

std::vector<ServiceStats> Registry::stats(size_t max_per_server_pool) const {
  std::lock_guard lock(mu_);
  std::vector<ServiceStats> out;
  out.reserve(services_.size());
  for (const auto& [name, svc] : services_) {
    ServiceStats st;
    st.name = name;
    st.picks = svc.pool->total_picks();
    st.errors = svc.errors;
    st.servers = svc.pool->size();
    if (st.servers <= max_per_server_pool) {
      st.per_server.reserve(st.servers);
      svc.pool->for_each([&st](const Server& s) {
        st.per_server.push_back(ServerStats{s.id, s.counters.picks, s.load(), s.health});
      });
    }
    out.push_back(std::move(st));
  }
  std::sort(out.begin(), out.end(), [](const ServiceStats& a, const ServiceStats& b) { return a.name < b.name; });
  return out;
}

uint64_t Registry::version() const {
  std::lock_guard lock(mu_);
  return version_;
}

size_t Registry::service_count() const {
  std::lock_guard lock(mu_);
  return services_.size();
}

SweepReport Registry::sweep() {
  SweepReport report;
  std::lock_guard lock(mu_);
  const int64_t now = clock_.steady_us();
  std::vector<std::string> ids;
  for (auto& [name, svc] : services_) {
    Pool& pool = *svc.pool;
    ids.clear();
    pool.for_each([&](const Server& s) {
      if (s.check.empty() && s.lease_deadline_us > 0 && now >= s.lease_deadline_us && s.health != Health::kDown)
        ids.push_back(s.id);
    });
    for (const std::string& id : ids) {
      (void)pool.set_health(id, Health::kDown, "lease expired");
      emit_server_locked(name, pool, id, /*durable=*/false);
      ++report.expired;
    }
    if (options_.deregister_after_us <= 0) continue;
    ids.clear();
    pool.for_each([&](const Server& s) {
      if (s.health != Health::kUp && s.admin != AdminState::kMaint &&
          now - s.health_since_us >= options_.deregister_after_us)
        ids.push_back(s.id);
    });
    // Panic guard: at most half the pool (but always at least one server) per sweep.
    const size_t limit = std::max<size_t>(1, pool.size() / 2);
    const size_t n = std::min(limit, ids.size());
    svc.panic = ids.size() > n;
    report.held_back += ids.size() - n;
    for (size_t k = 0; k < n; ++k) {
      (void)pool.remove(ids[k]);
      emit_remove_locked(name, ids[k]);
      ++report.deregistered;
    }
  }
  return report;
}

Status Registry::restore_service(std::string_view service, std::string_view algorithm, std::string_view secret) {
  std::lock_guard lock(mu_);
  CHIRON_ASSIGN_OR_RETURN(Service * svc, find_or_create_locked(service));
  CHIRON_RETURN_IF_ERROR(svc->pool->set_algorithm(algorithm).context("service '" + std::string(service) + "'"));
  svc->secret = std::string(secret);
  return ok_status();
}

Status Registry::restore_server(std::string_view service, std::string_view id, uint32_t weight, AdminState admin,
                                std::string_view check) {
  std::lock_guard lock(mu_);
  CHIRON_ASSIGN_OR_RETURN(Service * svc, find_or_create_locked(service));
  Pool& pool = *svc->pool;
  if (pool.find(id) != nullptr) return Status::already_exists("server '" + std::string(id) + "' restored twice");
  CHIRON_RETURN_IF_ERROR(pool.add(id, ServerSpec{.weight = weight, .admin = admin, .health = Health::kUp}));
  if (!check.empty()) {
    CHIRON_RETURN_IF_ERROR(pool.set_check(id, std::string(check)));
  } else {
    CHIRON_RETURN_IF_ERROR(pool.set_lease_deadline(id, clock_.steady_us() + options_.lease_ttl_us));
  }
  return ok_status();
}

}  // namespace chiron::ns
