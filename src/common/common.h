#pragma once
// DESIGN — common: the vocabulary every Chiron module shares.
//   Status / Result<T>   expected failures as values, with context chaining
//   CHIRON_CHECK         broken invariants abort with file:line
//   log::*               structured logs (text or JSON lines), thread-safe
//   Clock                injectable time (SystemClock, ManualClock for tests)
//   ids                  CSPRNG tokens, UUIDs, process-unique counters
//   CommonOptions        the common command-line flags of ../shared/DESIGN.md
//   strings              JSON escaping, UTF-8 validation, host:port parsing
// Nothing here does I/O except logging (write(2) to stderr) and getrandom(2).

#include "common/check.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/result.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/version.h"
