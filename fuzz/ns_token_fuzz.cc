// libFuzzer target for registration tokens (src/ns/auth.h): the input is one token as a client
// would send it. Checks parse_token's grammar promises, that Verifier::verify never accepts a
// malformed token, and that a token accepted once is refused the second time (replay).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/check.h"
#include "common/clock.h"
#include "ns/auth.h"

namespace {

constexpr int64_t kNowS = 1'700'000'000;

bool is_lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static chiron::ManualClock clock(kNowS * 1000);
  // Shared across inputs with a small bound so eviction is exercised too.
  static chiron::ns::Verifier verifier(clock, {.window_s = 30, .max_nonces = 64});
  const std::string_view token(reinterpret_cast<const char*>(data), size);

  auto parsed = chiron::ns::parse_token(token);
  chiron::Status st = verifier.verify("secret", "REG", "web", "10.0.0.1:80", token);
  if (!parsed.ok()) {
    CHIRON_CHECK(parsed.status().code() == chiron::StatusCode::kInvalidArgument, "parse error code");
    CHIRON_CHECK(!st.ok() && st.code() == chiron::StatusCode::kUnauthenticated, "malformed token verified");
    return 0;
  }
  CHIRON_CHECK(parsed->unix_ts >= 0 && parsed->unix_ts <= 999'999'999'999, "timestamp out of grammar");
  CHIRON_CHECK(parsed->nonce.size() >= 8 && parsed->nonce.size() <= 64, "nonce length out of grammar");
  CHIRON_CHECK(parsed->mac_hex.size() == 64 && is_lower_hex(parsed->mac_hex), "mac not lower-case hex");
  if (st.ok()) CHIRON_CHECK(!verifier.verify("secret", "REG", "web", "10.0.0.1:80", token).ok(), "replay accepted");

  // A correctly signed token with the fuzzed nonce: accepted at most once.
  const std::string good = std::to_string(kNowS) + "." + parsed->nonce + "." +
                           chiron::ns::registration_mac("secret", "HB", "web", "10.0.0.1:80", kNowS, parsed->nonce);
  (void)verifier.verify("secret", "HB", "web", "10.0.0.1:80", good);
  CHIRON_CHECK(!verifier.verify("secret", "HB", "web", "10.0.0.1:80", good).ok(), "signed token replayed");
  return 0;
}
