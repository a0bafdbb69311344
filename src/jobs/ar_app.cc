// Placeholder until the app lands (owner: see /work/notes/team-brief-7.md).
#include "jobs/jobs.h"

namespace chiron::jobs {

void register_ar_waves() {}

}  // namespace chiron::jobs
