#pragma once
// CHIRON_CHECK(cond, why): aborts with file:line and the reason when a broken
// invariant is detected. Not for expected failures: those return Status.

#include <string_view>

namespace chiron::detail {
[[noreturn]] void check_failed(const char* file, int line, std::string_view cond, std::string_view why);
}  // namespace chiron::detail

#define CHIRON_CHECK(cond, why)                                                      \
  do {                                                                               \
    if (!(cond)) [[unlikely]]                                                        \
      ::chiron::detail::check_failed(__FILE__, __LINE__, #cond, (why));              \
  } while (0)
