#include "ns/auth.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <climits>

#include "common/check.h"
#include "common/encoding.h"
#include "common/ids.h"

namespace chiron::ns {
namespace {

constexpr size_t kMaxTsDigits = 12;
constexpr size_t kMinNonce = 8;
constexpr size_t kMaxNonce = 64;
constexpr size_t kMacHexLen = 64;  // SHA-256 = 32 bytes
// Bounds window_s so that 2 × window and now ± window cannot overflow (≈ 35,000 years).
constexpr int64_t kMaxWindowS = int64_t{1} << 40;

bool is_nonce_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string to_hex(const unsigned char* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0x0F];
  }
  return out;
}

// The signed message: VERB "|" service "|" id "|" ts "|" nonce (auth.h).
std::string mac_message(std::string_view verb, std::string_view service, std::string_view id, int64_t unix_ts,
                        std::string_view nonce) {
  std::string msg;
  msg.reserve(verb.size() + service.size() + id.size() + nonce.size() + 24);
  for (char c : verb) msg.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  msg.push_back('|');
  msg.append(service);
  msg.push_back('|');
  msg.append(id);
  msg.push_back('|');
  msg.append(std::to_string(unix_ts));
  msg.push_back('|');
  msg.append(nonce);
  return msg;
}

// RFC 2104 HMAC with SHA-256 (FIPS 180-4), lower-case hex.
std::string hmac_sha256_hex(std::string_view key, std::string_view msg) {
  const auto md = hmac_sha256(key, msg);
  return to_hex(md.data(), md.size());
}

}  // namespace

Result<ParsedToken> parse_token(std::string_view token) {
  const size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return Status::invalid_argument("expected <ts>.<nonce>.<mac>");
  const size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return Status::invalid_argument("expected <ts>.<nonce>.<mac>");
  if (token.find('.', dot2 + 1) != std::string_view::npos) return Status::invalid_argument("too many '.' separators");
  const std::string_view ts = token.substr(0, dot1);
  const std::string_view nonce = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view mac = token.substr(dot2 + 1);

  if (ts.empty() || ts.size() > kMaxTsDigits) return Status::invalid_argument("timestamp must be 1..12 digits");
  ParsedToken out;
  for (char c : ts) {
    if (c < '0' || c > '9') return Status::invalid_argument("timestamp must be decimal digits");
    out.unix_ts = out.unix_ts * 10 + (c - '0');  // ≤ 12 digits: no overflow
  }
  if (nonce.size() < kMinNonce || nonce.size() > kMaxNonce)
    return Status::invalid_argument("nonce must be 8..64 characters");
  if (!std::all_of(nonce.begin(), nonce.end(), is_nonce_char))
    return Status::invalid_argument("nonce must be [A-Za-z0-9_-]");
  if (mac.size() != kMacHexLen) return Status::invalid_argument("mac must be 64 hex digits");
  out.mac_hex.resize(kMacHexLen);
  for (size_t i = 0; i < kMacHexLen; ++i) {
    const int v = hex_value(mac[i]);
    if (v < 0) return Status::invalid_argument("mac must be 64 hex digits");
    out.mac_hex[i] = "0123456789abcdef"[v];
  }
  out.nonce = std::string(nonce);
  return out;
}

std::string registration_mac(std::string_view secret, std::string_view verb, std::string_view service,
                             std::string_view id, int64_t unix_ts, std::string_view nonce) {
  return hmac_sha256_hex(secret, mac_message(verb, service, id, unix_ts, nonce));
}

std::string sign_registration(std::string_view secret, std::string_view verb, std::string_view service,
                              std::string_view id, int64_t unix_ts) {
  const std::string nonce = random_token(12);  // 12 bytes → 16 base64url chars, within the grammar
  return std::to_string(unix_ts) + "." + nonce + "." + registration_mac(secret, verb, service, id, unix_ts, nonce);
}

bool admin_token_equal(std::string_view expected, std::string_view given) {
  if (expected.size() != given.size()) {
    // Spend the same time as a same-length comparison so only the length leaks.
    (void)CRYPTO_memcmp(expected.data(), expected.data(), expected.size());
    return false;
  }
  return CRYPTO_memcmp(expected.data(), given.data(), expected.size()) == 0;
}

Verifier::Verifier(const Clock& clock, VerifierOptions options) : clock_(clock), options_(options) {}

Status Verifier::verify(std::string_view secret, std::string_view verb, std::string_view service, std::string_view id,
                        std::string_view token) {
  auto parsed = parse_token(token);
  if (!parsed.ok()) return Status::unauthenticated("malformed token: " + parsed.status().message());

  const int64_t window = std::clamp<int64_t>(options_.window_s, 0, kMaxWindowS);
  // Floor division: a negative wall clock (never in practice) must not round towards zero.
  const int64_t now_ms = clock_.unix_ms();
  const int64_t now_s = now_ms >= 0 ? now_ms / 1000 : -((-now_ms + 999) / 1000);
  const int64_t age = now_s - parsed->unix_ts;
  if (age > window || age < -window) return Status::unauthenticated("stale timestamp");

  const std::string expected = registration_mac(secret, verb, service, id, parsed->unix_ts, parsed->nonce);
  if (CRYPTO_memcmp(expected.data(), parsed->mac_hex.data(), kMacHexLen) != 0)
    return Status::unauthenticated("bad signature");

  std::string key;
  key.reserve(service.size() + 1 + parsed->nonce.size());
  key.append(service);
  key.push_back('\0');
  key.append(parsed->nonce);

  std::lock_guard lock(mu_);
  // Nonces older than 2 × window can never pass the timestamp check again. The deque is in
  // arrival order, not timestamp order, so this trims only the expired prefix; max_nonces
  // bounds the rest.
  while (!order_.empty() && order_.front().unix_ts < now_s - 2 * window) {
    seen_.erase(order_.front().key);
    order_.pop_front();
  }
  if (seen_.contains(key)) return Status::permission_denied("replayed nonce");
  const size_t cap = std::max<size_t>(options_.max_nonces, 1);
  while (order_.size() >= cap) {
    seen_.erase(order_.front().key);
    order_.pop_front();
  }
  seen_.insert(key);
  order_.push_back(Seen{parsed->unix_ts, std::move(key)});
  return Status();
}

size_t Verifier::nonce_count() const {
  std::lock_guard lock(mu_);
  return seen_.size();
}

}  // namespace chiron::ns
