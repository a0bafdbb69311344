#include "jobs/jobs.h"

#include <mutex>

namespace chiron::jobs {

void register_all() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_ar_waves();
    register_ndbc_spectra();
    register_checksum();
  });
}

}  // namespace chiron::jobs
