#include "kernel/trace_log.h"

#include <cxxabi.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include "common/strings.h"

namespace chiron::kernel::internal {
namespace {

std::atomic<uint64_t> g_next_log_serial{1};

// An external thread's lane, cached per thread for the log it was created in.
struct ExternalLane {
  uint64_t serial = 0;
  TraceBuffer* buffer = nullptr;
};
thread_local ExternalLane t_external_lane;

// CPUID 0x80000007 EDX bit 8: the TSC runs at a constant rate in every P/C-state.
bool invariant_tsc() {
#if defined(__x86_64__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(0x80000000, &a, &b, &c, &d) == 0 || a < 0x80000007) return false;
  if (__get_cpuid(0x80000007, &a, &b, &c, &d) == 0) return false;
  return (d & (1u << 8)) != 0;
#else
  return false;
#endif
}

int64_t read_tsc() {
#if defined(__x86_64__)
  return static_cast<int64_t>(__rdtsc());
#else
  return 0;
#endif
}

}  // namespace

std::string short_type_name(const std::type_info& type) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string name = status == 0 && demangled != nullptr ? demangled : type.name();
  std::free(demangled);
  if (name.find('<') == std::string::npos) {
    size_t colon = name.rfind("::");
    if (colon != std::string::npos) name.erase(0, colon + 2);
  }
  return name;
}

TraceLog::TraceLog(const Clock& clock, bool enabled)
    : clock_(clock),
      enabled_(enabled),
      use_tsc_(&clock == &Clock::system() && invariant_tsc()),
      origin_us_(clock.steady_us()),
      origin_raw_(use_tsc_ ? read_tsc() : origin_us_),
      serial_(g_next_log_serial.fetch_add(1, std::memory_order_relaxed)) {}

TraceLog::~TraceLog() = default;

TraceBuffer* TraceLog::add_lane(std::string lane) {
  std::lock_guard<std::mutex> lock(mu_);
  buffers_.push_back(std::make_unique<TraceBuffer>(std::move(lane)));
  return buffers_.back().get();
}

TraceBuffer* TraceLog::external_buffer() {
  if (t_external_lane.serial == serial_) return t_external_lane.buffer;
  std::lock_guard<std::mutex> lock(mu_);
  buffers_.push_back(std::make_unique<TraceBuffer>("ext/" + std::to_string(external_lanes_++)));
  t_external_lane = {serial_, buffers_.back().get()};
  return t_external_lane.buffer;
}

TraceLog::Calibration TraceLog::calibrate() const {
  Calibration cal;
  if (!use_tsc_) return cal;
  int64_t us = clock_.steady_us();
  while (us - origin_us_ < 2000) us = clock_.steady_us();  // at least 2 ms of baseline
  cal.ticks_per_us = static_cast<double>(read_tsc() - origin_raw_) / static_cast<double>(us - origin_us_);
  if (!(cal.ticks_per_us > 0)) cal.ticks_per_us = 1;
  return cal;
}

uint64_t TraceLog::events() const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t n = 0;
  for (const auto& b : buffers_) {
    const size_t size = b->size();
    n += size;
    for (size_t i = 0; i < size; ++i) {
      TraceKind k = b->at(i).kind();
      if (k == TraceKind::kActEndCommitted || k == TraceKind::kActEndFailed) ++n;  // two lines
    }
  }
  return n;
}

uint64_t TraceLog::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t n = 0;
  for (const auto& b : buffers_) n += b->dropped();
  return n;
}

Status TraceLog::write_jsonl(const std::string& path) const {
  if (!enabled_) return Status::failed_precondition("tracing is off (RuntimeOptions::trace)");
  struct Item {
    const TraceEntry* entry;
    const std::string* lane;
  };
  std::vector<Item> items;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& b : buffers_) {
      const size_t n = b->size();
      for (size_t i = 0; i < n; ++i) items.push_back({&b->at(i), &b->lane()});
    }
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) { return a.entry->ts < b.entry->ts; });
  const Calibration cal = calibrate();
  std::unordered_map<const std::type_info*, std::string> names;
  FILE* f = std::fopen(path.c_str(), "we");
  if (f == nullptr) return Status::from_errno("write trace " + path, errno);
  std::string line;
  for (const Item& it : items) {
    const TraceEntry& e = *it.entry;
    auto [pos, inserted] = names.try_emplace(e.type);
    if (inserted) pos->second = json_quote(short_type_name(*e.type));
    const std::string head = "{\"ts_us\":" +
                             std::to_string(static_cast<int64_t>(static_cast<double>(e.ts) / cal.ticks_per_us)) +
                             ",\"lane\":" + json_quote(*it.lane) + ",\"device\":\"" +
                             std::string(device_name(e.device())) + "\",\"kernel\":" + std::to_string(e.kernel()) +
                             ",\"type\":" + pos->second + ",\"event\":\"";
    const TraceKind kind = e.kind();
    line.clear();
    line += head + trace_kind_name(kind) + "\"";
    if (kind == TraceKind::kReact) line += ",\"child\":" + std::to_string(e.child);
    if (kind == TraceKind::kFailed) line += ",\"code\":\"" + std::string(status_code_name(e.code())) + "\"";
    line += "}\n";
    if (kind == TraceKind::kActEndCommitted) line += head + "committed\"}\n";
    if (kind == TraceKind::kActEndFailed)
      line += head + "failed\",\"code\":\"" + std::string(status_code_name(e.code())) + "\"}\n";
    if (std::fwrite(line.data(), 1, line.size(), f) != line.size()) {
      int err = errno;
      std::fclose(f);
      return Status::from_errno("write trace " + path, err);
    }
  }
  if (std::fclose(f) != 0) return Status::from_errno("close trace " + path, errno);
  return {};
}

}  // namespace chiron::kernel::internal
