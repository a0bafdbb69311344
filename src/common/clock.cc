#include "common/clock.h"

namespace chiron {

const Clock& Clock::system() {
  static const SystemClock clock;
  return clock;
}

}  // namespace chiron
