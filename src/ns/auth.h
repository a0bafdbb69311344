#pragma once
// Registration auth for the name server (research notes §3): a per-service secret K signs
//
//     mac = HMAC-SHA256(K, verb "|" service "|" ip:port "|" unix_ts "|" nonce)
//
// and the client sends the token "<unix_ts>.<nonce>.<hex mac>" as the last argument of REG,
// HB or REM (verb upper-case in the MAC, so a REG token cannot be replayed as a REM). The
// verifier refuses a token whose timestamp is more than `window_s` away from now, or whose
// nonce it has already accepted for that service within the last 2 × window_s; comparisons are
// constant-time (CRYPTO_memcmp). The admin token (ALG/STATE/REM and the admin HTTP plane) is a
// plain bearer secret compared with admin_token_equal().
//
// Token grammar: unix_ts = 1..12 decimal digits; nonce = 8..64 chars of [A-Za-z0-9_-];
// mac = exactly 64 lower- or upper-case hex digits. Anything else is kInvalidArgument.
//
// Thread-safe: Verifier guards its nonce cache with a mutex (one verification is O(1)
// amortised; the cache holds at most max_nonces entries and evicts the oldest first).

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "common/clock.h"
#include "common/result.h"

namespace chiron::ns {

struct ParsedToken {
  int64_t unix_ts = 0;
  std::string nonce;
  std::string mac_hex;  // lower-case
};

// Parses "<ts>.<nonce>.<mac>"; kInvalidArgument with the reason on bad input.
Result<ParsedToken> parse_token(std::string_view token);

// Lower-case hex HMAC-SHA256(secret, verb|service|id|ts|nonce). verb is upper-cased.
std::string registration_mac(std::string_view secret, std::string_view verb, std::string_view service,
                             std::string_view id, int64_t unix_ts, std::string_view nonce);

// A complete token for clients (`chiron ns sign`, `chiron serve --ns`): uses a fresh random
// 16-char nonce and the given time.
std::string sign_registration(std::string_view secret, std::string_view verb, std::string_view service,
                              std::string_view id, int64_t unix_ts);

// Constant-time equality for secrets of any length (length differences leak only the length).
bool admin_token_equal(std::string_view expected, std::string_view given);

struct VerifierOptions {
  int64_t window_s = 30;        // |now − ts| ≤ window_s
  size_t max_nonces = 1 << 20;  // replay cache bound
};

class Verifier {
 public:
  // The clock is borrowed; its wall time (Clock::unix_ms) gives "now".
  explicit Verifier(const Clock& clock, VerifierOptions options = {});

  // OK, or kUnauthenticated/kPermissionDenied with a reason that is safe to show the client
  // ("stale timestamp", "replayed nonce", "bad signature", "malformed token: ...").
  // A successful verification records the nonce; a failed one records nothing.
  Status verify(std::string_view secret, std::string_view verb, std::string_view service, std::string_view id,
                std::string_view token);

  size_t nonce_count() const;

 private:
  const Clock& clock_;
  const VerifierOptions options_;
  mutable std::mutex mu_;
  struct Seen {
    int64_t unix_ts;
    std::string key;  // service '\0' nonce
  };
  std::deque<Seen> order_;               // Guarded by mu_; insertion order for eviction
  std::unordered_set<std::string> seen_;  // Guarded by mu_
};

}  // namespace chiron::ns
