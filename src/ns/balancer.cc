#include "ns/balancer.h"

#include <array>

#include "common/strings.h"
#include "ns/chash_bounded.h"
#include "ns/edf_wrr.h"
#include "ns/least_load.h"
#include "ns/maglev.h"
#include "ns/pool.h"
#include "ns/random.h"
#include "ns/round_robin.h"
#include "ns/smooth_wrr.h"
#include "ns/weighted_random.h"

namespace chiron::ns {
namespace {

constexpr std::array<std::string_view, 8> kNames = {"rr", "random", "wrandom", "swrr", "edf", "least", "chash", "maglev"};

struct Alias {
  std::string_view alias;
  std::string_view name;
};
constexpr Alias kAliases[] = {
    {"roundrobin", "rr"},      {"round_robin", "rr"},        {"round-robin", "rr"},
    {"rand", "random"},        {"weighted_random", "wrandom"}, {"weighted-random", "wrandom"},
    {"wrand", "wrandom"},      {"wrr", "swrr"},              {"smooth_wrr", "swrr"},
    {"smooth-wrr", "swrr"},    {"edf_wrr", "edf"},           {"edf-wrr", "edf"},
    {"least_load", "least"},   {"least-load", "least"},      {"leastload", "least"},
    {"least_assigned", "least"}, {"leastconn", "least"},     {"p2c", "least"},
    {"consistent", "chash"},   {"consistent_hash", "chash"}, {"ring", "chash"},
    {"ring_hash", "chash"},    {"chash_bounded", "chash"},
};

bool is_prime(uint32_t n) {
  if (n < 2) return false;
  for (uint32_t d = 2; uint64_t{d} * d <= n; ++d)
    if (n % d == 0) return false;
  return true;
}

}  // namespace

Result<ServerIndex> Balancer::pick(const Pool& pool, const PickContext& ctx) {
  if (pool.eligible().empty()) return Status::unavailable("no eligible server");
  if (built_for_ != &pool || built_version_ != pool.version()) {
    rebuild(pool);
    built_for_ = &pool;
    built_version_ = pool.version();
  }
  return pick_eligible(pool, ctx);
}

std::span<const std::string_view> algorithm_names() { return kNames; }

std::string_view algorithm_description(std::string_view name) {
  if (name == "rr") return "Round robin: each eligible server in turn (weights ignored)";
  if (name == "random") return "Uniform random (weights ignored)";
  if (name == "wrandom") return "Weighted random: chance proportional to weight";
  if (name == "swrr") return "Smooth weighted round robin (nginx): exact weight shares, evenly interleaved; small pools";
  if (name == "edf") return "Earliest-deadline-first weighted round robin (Envoy): exact shares, O(log n); large pools";
  if (name == "least") return "Least load: reported load + picks since the report, best of two random choices";
  if (name == "chash") return "Consistent hashing on the REQ key with bounded loads (c = 1.25)";
  if (name == "maglev") return "Maglev hashing on the REQ key: even spread, minimal disruption";
  return "";
}

Result<std::unique_ptr<Balancer>> make_balancer(std::string_view name, const BalancerOptions& options) {
  std::string lower = to_lower(trim(name));
  std::string_view canonical = lower;
  for (const Alias& a : kAliases)
    if (a.alias == lower) canonical = a.name;
  if (canonical == "rr") return std::unique_ptr<Balancer>(new RoundRobin());
  if (canonical == "random") return std::unique_ptr<Balancer>(new RandomBalancer(options.seed));
  if (canonical == "wrandom") return std::unique_ptr<Balancer>(new WeightedRandom(options.seed));
  if (canonical == "swrr") return std::unique_ptr<Balancer>(new SmoothWrr());
  if (canonical == "edf") return std::unique_ptr<Balancer>(new EdfWrr());
  if (canonical == "least") return std::unique_ptr<Balancer>(new LeastLoad(options.seed));
  if (canonical == "chash") {
    if (options.ring_max_points == 0 || options.ring_max_points < options.ring_min_points)
      return Status::invalid_argument("chash ring needs ring_min_points <= ring_max_points, max > 0");
    if (options.hash_balance_factor_percent != 0 && options.hash_balance_factor_percent < 100)
      return Status::invalid_argument("chash balance factor must be >= 100% (or 0 for unbounded)");
    return std::unique_ptr<Balancer>(new ChashBounded(options));
  }
  if (canonical == "maglev") {
    if (!is_prime(options.maglev_table_size))
      return Status::invalid_argument("maglev table size " + std::to_string(options.maglev_table_size) +
                                      " is not prime");
    return std::unique_ptr<Balancer>(new Maglev(options.maglev_table_size, options.seed));
  }
  std::string known;
  for (std::string_view n : kNames) known += (known.empty() ? "" : ", ") + std::string(n);
  return Status::invalid_argument("unknown algorithm '" + std::string(name) + "' (known: " + known + ")");
}

}  // namespace chiron::ns
