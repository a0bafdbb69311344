#include "common/clock.h"

#include <cstdio>
#include <ctime>

namespace chiron {

std::string format_utc_ms(int64_t unix_ms) {
  int64_t secs = unix_ms / 1000, ms = unix_ms % 1000;
  if (ms < 0) {  // floor division: times before 1970 still print a valid clock
    ms += 1000;
    --secs;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];  // room for any int the format could print (-Wformat-truncation)
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return std::string(buf, static_cast<size_t>(n));
}

const Clock& Clock::system() {
  static const SystemClock clock;
  return clock;
}

}  // namespace chiron
