#pragma once
// Structured logging: one line per event, either human text
//   2026-11-21T19:55:01.123Z INFO  http: listening addr=127.0.0.1:8080
// or JSON lines
//   {"ts":"2026-11-21T19:55:01.123Z","level":"info","component":"http","msg":"listening","addr":"..."}
// Each line is formatted off-lock and written with one write(2), so lines from
// different threads never interleave. Thread-safe.

#include <atomic>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

#include "common/result.h"

namespace chiron::log {

enum class Level : unsigned char { kTrace, kDebug, kInfo, kWarn, kError, kOff };

Result<Level> parse_level(std::string_view name);  // "trace".."error", "off"
std::string_view level_name(Level level);

void set_level(Level level);
Level level();
inline bool enabled(Level l);
void set_json(bool json);
// Redirects output (tests); an empty function restores stderr.
void set_sink(std::function<void(std::string_view line)> sink);

struct Field {
  std::string_view key;
  std::string value;
  Field(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  template <class N, class = std::enable_if_t<std::is_arithmetic_v<N>>>
  Field(std::string_view k, N n) : key(k), value(std::to_string(n)) {}
};

void write(Level level, std::string_view component, std::string_view message,
           std::initializer_list<Field> fields = {});

// Appends the current UTC time as log lines carry it: "2026-11-21T19:55:01.123Z".
void append_timestamp(std::string& out);

namespace detail {
extern std::atomic<int> g_level;
}
inline bool enabled(Level l) { return static_cast<int>(l) >= detail::g_level.load(std::memory_order_relaxed); }

inline void trace(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::kTrace)) write(Level::kTrace, c, m, f);
}
inline void debug(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::kDebug)) write(Level::kDebug, c, m, f);
}
inline void info(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::kInfo)) write(Level::kInfo, c, m, f);
}
inline void warn(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::kWarn)) write(Level::kWarn, c, m, f);
}
inline void error(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::kError)) write(Level::kError, c, m, f);
}

}  // namespace chiron::log
