#include "common/check.h"

#include <cstdio>
#include <cstdlib>

namespace chiron::detail {

void check_failed(const char* file, int line, std::string_view cond, std::string_view why) {
  std::fprintf(stderr, "%s:%d: CHECK failed: %.*s: %.*s\n", file, line, static_cast<int>(cond.size()),
               cond.data(), static_cast<int>(why.size()), why.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace chiron::detail
