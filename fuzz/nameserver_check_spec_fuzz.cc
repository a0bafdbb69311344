// libFuzzer target for the active-check spec JSON (src/nameserver/health_checker.h): arbitrary
// bytes into parse_check_spec. Checks that an accepted spec is within the documented bounds and
// that to_json/parse_check_spec round-trip it exactly.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/check.h"
#include "nameserver/health_checker.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using chiron::nameserver::CheckSpec;
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  auto spec = chiron::nameserver::parse_check_spec(json);
  if (!spec.ok()) {
    CHIRON_CHECK(spec.status().code() == chiron::StatusCode::kInvalidArgument, "unexpected error code");
    return 0;
  }
  if (!spec->enabled()) {
    CHIRON_CHECK(*spec == CheckSpec{}, "a disabled spec carries settings");
    CHIRON_CHECK(chiron::nameserver::to_json(*spec).empty(), "to_json of kNone is not empty");
    return 0;
  }
  CHIRON_CHECK(spec->interval_ms >= 100 && spec->interval_ms <= 3'600'000, "interval out of bounds");
  CHIRON_CHECK(spec->timeout_ms >= 50 && spec->timeout_ms <= spec->interval_ms, "timeout out of bounds");
  CHIRON_CHECK(spec->rise >= 1 && spec->rise <= 100 && spec->fall >= 1 && spec->fall <= 100, "rise/fall out of bounds");
  CHIRON_CHECK(!spec->path.empty() && spec->path.front() == '/' && spec->path.size() <= 1024, "bad path accepted");
  auto back = chiron::nameserver::parse_check_spec(chiron::nameserver::to_json(*spec));
  CHIRON_CHECK(back.ok() && *back == *spec, "to_json does not round-trip");
  return 0;
}
