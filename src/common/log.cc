#include "common/log.h"

#include "common/clock.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <mutex>

#include "common/strings.h"

namespace chiron::log {
namespace detail {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
}  // namespace detail

namespace {

std::atomic<bool> g_json{false};
std::mutex g_sink_mu;
std::function<void(std::string_view)> g_sink;  // Guarded by g_sink_mu.
std::atomic<bool> g_has_sink{false};


bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) return true;
  return false;
}

}  // namespace

void append_timestamp(std::string& out) { out += format_utc_ms(Clock::system().unix_ms()); }

Result<Level> parse_level(std::string_view name) {
  static constexpr Level kAll[] = {Level::kTrace, Level::kDebug, Level::kInfo, Level::kWarn, Level::kError, Level::kOff};
  for (Level l : kAll)
    if (iequals(name, level_name(l))) return l;
  if (iequals(name, "warning")) return Level::kWarn;
  return Status::invalid_argument("unknown log level '" + std::string(name) +
                                  "' (expected trace, debug, info, warn, error or off)");
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kTrace: return "trace";
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
    case Level::kOff: return "off";
  }
  return "?";
}

void set_level(Level l) { detail::g_level.store(static_cast<int>(l), std::memory_order_relaxed); }
Level level() { return static_cast<Level>(detail::g_level.load(std::memory_order_relaxed)); }
void set_json(bool json) { g_json.store(json, std::memory_order_relaxed); }

void set_sink(std::function<void(std::string_view)> sink) {
  std::lock_guard lock(g_sink_mu);
  g_has_sink.store(static_cast<bool>(sink), std::memory_order_relaxed);
  g_sink = std::move(sink);
}

void write(Level lvl, std::string_view component, std::string_view message, std::initializer_list<Field> fields) {
  std::string line;
  line.reserve(128);
  if (g_json.load(std::memory_order_relaxed)) {
    line += "{\"ts\":\"";
    append_timestamp(line);
    line += "\",\"level\":\"";
    line += level_name(lvl);
    line += "\",\"component\":";
    line += json_quote(component);
    line += ",\"msg\":";
    line += json_quote(message);
    for (const auto& f : fields) {
      line += ',';
      line += json_quote(f.key);
      line += ':';
      line += json_quote(f.value);
    }
    line += "}\n";
  } else {
    append_timestamp(line);
    static constexpr const char* kNames[] = {"TRACE", "DEBUG", "INFO ", "WARN ", "ERROR", "OFF  "};
    line += ' ';
    line += kNames[static_cast<int>(lvl)];
    line += ' ';
    line += component;
    line += ": ";
    line += message;
    for (const auto& f : fields) {
      line += ' ';
      line += f.key;
      line += '=';
      if (needs_quotes(f.value)) {
        line += json_quote(f.value);
      } else {
        line += f.value;
      }
    }
    line += '\n';
  }
  if (g_has_sink.load(std::memory_order_relaxed)) {
    std::lock_guard lock(g_sink_mu);
    if (g_sink) {
      g_sink(line);
      return;
    }
  }
  // One write(2) per line keeps lines whole across threads.
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace chiron::log
