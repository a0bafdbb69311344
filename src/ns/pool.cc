#include "ns/pool.h"

#include <algorithm>

namespace chiron::ns {
namespace {

Status unknown(std::string_view id) { return Status::not_found("no server '" + std::string(id) + "' in pool"); }

// 5% steps, 10% → 100%: at most 18 weight changes (and table rebuilds) per ramp.
constexpr uint32_t kRampStepPercent = 5;

}  // namespace

Result<std::unique_ptr<Pool>> Pool::create(const Clock& clock, PoolOptions options) {
  if (options.slow_start_us < 0) return Status::invalid_argument("slow start window must be >= 0");
  CHIRON_ASSIGN_OR_RETURN(auto balancer, make_balancer(options.algorithm, options.balancer));
  return std::unique_ptr<Pool>(new Pool(clock, std::move(options), std::move(balancer)));
}

Pool::Pool(const Clock& clock, PoolOptions options, std::unique_ptr<Balancer> balancer)
    : clock_(clock), options_(std::move(options)), balancer_(std::move(balancer)) {}

Pool::~Pool() = default;

Server* Pool::find_mut(std::string_view id) {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &slots_[it->second];
}

const Server* Pool::find(std::string_view id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &slots_[it->second];
}

Status Pool::add(std::string_view id, ServerSpec spec) {
  if (id.empty()) return Status::invalid_argument("server id is empty");
  if (spec.weight > kMaxWeight)
    return Status::invalid_argument("weight " + std::to_string(spec.weight) + " exceeds " + std::to_string(kMaxWeight));
  if (index_.contains(id)) return Status::already_exists("server '" + std::string(id) + "' already in pool");
  ServerIndex i;
  if (!free_slots_.empty()) {
    i = free_slots_.back();
    free_slots_.pop_back();
  } else {
    CHIRON_CHECK(slots_.size() < UINT32_MAX, "pool slot index overflow");
    i = static_cast<ServerIndex>(slots_.size());
    slots_.emplace_back();
  }
  Server& s = slots_[i];
  const uint32_t generation = s.generation + 1;
  s = Server{};
  s.id = std::string(id);
  s.weight = spec.weight;
  s.admin = spec.admin;
  s.health = spec.health;
  s.generation = generation;
  s.health_since_us = clock_.steady_us();
  s.live = true;
  recompute_weight(s);
  index_.emplace(s.id, i);
  mark_dirty();
  return ok_status();
}

Status Pool::remove(std::string_view id) {
  auto it = index_.find(id);
  if (it == index_.end()) return unknown(id);
  const ServerIndex i = it->second;
  index_.erase(it);
  Server& s = slots_[i];
  s.live = false;
  s.id.clear();
  s.id.shrink_to_fit();
  std::erase(ramping_, i);
  free_slots_.push_back(i);
  mark_dirty();
  return ok_status();
}

Status Pool::set_weight(std::string_view id, uint32_t weight) {
  if (weight > kMaxWeight)
    return Status::invalid_argument("weight " + std::to_string(weight) + " exceeds " + std::to_string(kMaxWeight));
  Server* s = find_mut(id);
  if (!s) return unknown(id);
  s->weight = weight;
  recompute_weight(*s);
  return ok_status();
}

Status Pool::set_weight_percent(std::string_view id, uint32_t percent) {
  if (percent > kMaxWeightPercent) return Status::invalid_argument("weight percent must be 0..100");
  Server* s = find_mut(id);
  if (!s) return unknown(id);
  s->weight_percent = percent;
  recompute_weight(*s);
  return ok_status();
}

Status Pool::set_admin(std::string_view id, AdminState state) {
  Server* s = find_mut(id);
  if (!s) return unknown(id);
  if (s->admin != state) {
    s->admin = state;
    mark_dirty();
  }
  return ok_status();
}

Status Pool::set_check(std::string_view id, std::string check) {
  Server* s = find_mut(id);
  if (!s) return unknown(id);
  s->check = std::move(check);
  return ok_status();
}

Status Pool::set_health(std::string_view id, Health health, std::string_view detail) {
  auto it = index_.find(id);
  if (it == index_.end()) return unknown(id);
  Server& s = slots_[it->second];
  if (s.health == health) return ok_status();
  s.health_detail = std::string(detail);
  s.health_since_us = clock_.steady_us();
  const bool recovering = s.health == Health::kDown && health == Health::kUp;
  s.health = health;
  if (recovering && options_.slow_start_us > 0) {
    const int64_t now = clock_.steady_us();
    if (s.ramp_start_us < 0) ramping_.push_back(it->second);
    s.ramp_start_us = now;
    s.ramp_percent = kSlowStartMinPercent;
    next_ramp_check_us_ = now;
    recompute_weight(s);
  } else if (health != Health::kUp && s.ramp_start_us >= 0) {
    s.ramp_start_us = -1;
    s.ramp_percent = 100;
    std::erase(ramping_, it->second);
    recompute_weight(s);
  }
  mark_dirty();
  return ok_status();
}

Status Pool::set_lease_deadline(std::string_view id, int64_t deadline_us) {
  Server* s = find_mut(id);
  if (!s) return unknown(id);
  s->lease_deadline_us = deadline_us;
  return ok_status();
}

Status Pool::report_load(std::string_view id, uint64_t load) {
  Server* s = find_mut(id);
  if (!s) return unknown(id);
  if (s->eligible && !dirty_) eligible_load_ = eligible_load_ - s->load() + load;
  s->reported_load = load;
  s->assigned_since_report = 0;
  return ok_status();
}

void Pool::recompute_weight(Server& s) {
  const uint64_t base = uint64_t{s.weight} * s.weight_percent;
  uint64_t w = base * s.ramp_percent / 100;
  if (base > 0 && w == 0) w = 1;
  if (w != s.effective_weight) {
    s.effective_weight = w;
    mark_dirty();
  }
}

void Pool::refresh_ramps(int64_t now_us) {
  const int64_t window = options_.slow_start_us;
  for (size_t k = 0; k < ramping_.size();) {
    Server& s = slots_[ramping_[k]];
    const int64_t elapsed = now_us - s.ramp_start_us;
    uint32_t percent = 100;
    if (elapsed < window) {
      const auto linear = static_cast<uint32_t>(kSlowStartMinPercent + (100 - kSlowStartMinPercent) * elapsed / window);
      percent = std::max(kSlowStartMinPercent, linear / kRampStepPercent * kRampStepPercent);
    }
    if (percent != s.ramp_percent) {
      s.ramp_percent = percent;
      recompute_weight(s);
    }
    if (percent == 100) {
      s.ramp_start_us = -1;
      ramping_[k] = ramping_.back();
      ramping_.pop_back();
    } else {
      ++k;
    }
  }
  // One step is window × 5% / 90%; checking twice per step keeps the ramp within half a step.
  next_ramp_check_us_ = now_us + std::max<int64_t>(1, window * kRampStepPercent / (100 - kSlowStartMinPercent) / 2);
}

void Pool::refresh() const {
  if (!dirty_) return;
  eligible_.clear();
  eligible_weight_ = 0;
  eligible_load_ = 0;
  for (size_t i = 0; i < slots_.size(); ++i) {
    // Safe: a Pool is only ever created non-const (create() returns unique_ptr<Pool>), and the
    // eligible flag is part of the lazily refreshed view, like eligible_.
    auto& s = const_cast<Server&>(slots_[i]);
    s.eligible = s.live && s.admin == AdminState::kReady && s.health == Health::kUp && s.effective_weight > 0;
    if (!s.eligible) continue;
    eligible_.push_back(static_cast<ServerIndex>(i));
    eligible_weight_ += s.effective_weight;
    eligible_load_ += s.load();
  }
  ++version_;
  dirty_ = false;
}

std::span<const ServerIndex> Pool::eligible() const {
  refresh();
  return eligible_;
}

uint64_t Pool::eligible_weight() const {
  refresh();
  return eligible_weight_;
}

uint64_t Pool::eligible_load() const {
  refresh();
  return eligible_load_;
}

uint64_t Pool::version() const {
  refresh();
  return version_;
}

Status Pool::set_algorithm(std::string_view name) {
  BalancerOptions options = options_.balancer;
  // A fresh seed per switch, so switching back does not replay the same sequence.
  options.seed += 0x9e3779b97f4a7c15ULL * ++algorithm_switches_;
  CHIRON_ASSIGN_OR_RETURN(auto balancer, make_balancer(name, options));
  balancer_ = std::move(balancer);
  return ok_status();
}

std::string_view Pool::algorithm() const { return balancer_->name(); }

Result<const Server*> Pool::pick(std::string_view key) {
  const int64_t now = clock_.steady_us();
  if (!ramping_.empty() && now >= next_ramp_check_us_) refresh_ramps(now);
  refresh();
  if (eligible_.empty()) {
    return Status::unavailable("no eligible server (" + std::to_string(size()) +
                               " registered, none both ready and up)");
  }
  CHIRON_ASSIGN_OR_RETURN(ServerIndex i, balancer_->pick(*this, PickContext{key, now}));
  Server& s = slots_[i];
  CHIRON_CHECK(s.eligible, "balancer picked an ineligible server");
  ++s.assigned_since_report;
  ++s.counters.picks;
  ++eligible_load_;
  ++total_picks_;
  return static_cast<const Server*>(&s);
}

}  // namespace chiron::ns
