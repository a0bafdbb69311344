#include "chat/token.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <optional>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "common/check.h"
#include "common/encoding.h"

namespace chiron::chat {
namespace {

constexpr size_t kMaxSubBytes = 64;
constexpr size_t kMaxNameBytes = 64;
constexpr char kHeader[] = R"({"alg":"HS256","typ":"JWT"})";

// Decodes one base64url part and parses it as a JSON object. Never throws.
Result<boost::json::object> decode_json_object(std::string_view part, std::string_view what) {
  auto bytes = base64url_decode(part);
  if (!bytes) return Status::unauthenticated(std::string(what) + ": bad base64url");
  boost::system::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = 8;
  boost::json::value v = boost::json::parse(*bytes, ec, {}, opts);
  if (ec) return Status::unauthenticated(std::string(what) + ": bad JSON");
  if (!v.is_object()) return Status::unauthenticated(std::string(what) + ": not a JSON object");
  return std::move(v.as_object());
}

// RFC 7519 §2 NumericDate: integral or not; fractions are truncated towards −∞.
std::optional<int64_t> numeric_date(const boost::json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    const double d = std::floor(v.get_double());
    // ±2^62 keeps the cast defined and far beyond any real date.
    if (!std::isfinite(d) || std::fabs(d) > 4.6e18) return std::nullopt;
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

Status check_header(const boost::json::object& header) {
  const boost::json::value* alg = header.if_contains("alg");
  if (alg == nullptr || !alg->is_string()) return Status::unauthenticated("header: missing alg");
  // RFC 8725 §3.1: the algorithm is fixed by the verifier, never chosen by the token.
  if (alg->get_string() != "HS256") return Status::unauthenticated("header: unsupported alg (want HS256)");
  if (const boost::json::value* typ = header.if_contains("typ")) {
    // RFC 7519 §5.1: "JWT"; media type names compare case-insensitively.
    if (!typ->is_string()) return Status::unauthenticated("header: typ is not JWT");
    std::string t(typ->get_string());
    std::transform(t.begin(), t.end(), t.begin(), [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; });
    if (t != "JWT") return Status::unauthenticated("header: typ is not JWT");
  }
  // RFC 7515 §4.1.11: critical extensions we do not implement must be refused.
  if (header.contains("crit")) return Status::unauthenticated("header: unsupported crit extensions");
  return Status();
}

Result<ChatClaims> parse_claims(const boost::json::object& payload) {
  ChatClaims claims;
  const boost::json::value* sub = payload.if_contains("sub");
  if (sub == nullptr || !sub->is_string()) return Status::unauthenticated("claims: missing sub");
  if (sub->get_string().empty() || sub->get_string().size() > kMaxSubBytes)
    return Status::unauthenticated("claims: sub must be 1..64 bytes");
  claims.user = std::string(sub->get_string());

  if (const boost::json::value* name = payload.if_contains("name"); name != nullptr && !name->is_null()) {
    if (!name->is_string()) return Status::unauthenticated("claims: name is not a string");
    if (name->get_string().size() > kMaxNameBytes) return Status::unauthenticated("claims: name over 64 bytes");
    claims.name = std::string(name->get_string());
  }
  if (claims.name.empty()) claims.name = claims.user;

  if (const boost::json::value* mod = payload.if_contains("mod"); mod != nullptr && !mod->is_null()) {
    if (!mod->is_array()) return Status::unauthenticated("claims: mod is not an array");
    for (const boost::json::value& room : mod->get_array()) {
      if (!room.is_string()) return Status::unauthenticated("claims: mod holds a non-string");
      claims.moderates.emplace_back(room.get_string());
    }
  }

  if (const boost::json::value* post = payload.if_contains("post"); post != nullptr && !post->is_null()) {
    if (!post->is_bool()) return Status::unauthenticated("claims: post is not a boolean");
    claims.can_post = post->get_bool();
  }

  const boost::json::value* exp = payload.if_contains("exp");
  if (exp == nullptr) return Status::unauthenticated("claims: missing exp");
  auto exp_s = numeric_date(*exp);
  if (!exp_s) return Status::unauthenticated("claims: exp is not a NumericDate");
  claims.expires_unix_s = *exp_s;
  return claims;
}

}  // namespace

bool moderates_room(const std::vector<std::string>& moderated, std::string_view room) {
  return std::any_of(moderated.begin(), moderated.end(), [&](const std::string& r) { return r == "*" || r == room; });
}

bool ChatClaims::moderates_room(std::string_view room) const { return chat::moderates_room(moderates, room); }

Result<ChatClaims> verify_chat_token(std::string_view secret, std::string_view token, int64_t now_unix_s,
                                     int64_t leeway_s) {
  if (token.size() > kMaxChatTokenBytes) return Status::unauthenticated("token over 4 KiB");
  // RFC 7515 §7.1 compact serialization: exactly three parts.
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return Status::unauthenticated("not a JWT (want header.payload.signature)");
  const std::string_view header_part = token.substr(0, dot1);
  const std::string_view payload_part = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_part = token.substr(dot2 + 1);

  auto header = decode_json_object(header_part, "header");
  if (!header.ok()) return std::move(header).status();
  if (Status s = check_header(*header); !s.ok()) return s;

  // Check the signature before looking at the claims: unauthenticated input gets no further.
  auto signature = base64url_decode(signature_part);
  if (!signature) return Status::unauthenticated("signature: bad base64url");
  const auto expected = hmac_sha256(secret, token.substr(0, dot2));
  if (signature->size() != kSha256Bytes) return Status::unauthenticated("bad signature");
  if (CRYPTO_memcmp(expected.data(), signature->data(), kSha256Bytes) != 0)
    return Status::unauthenticated("bad signature");

  auto payload = decode_json_object(payload_part, "claims");
  if (!payload.ok()) return std::move(payload).status();
  auto claims = parse_claims(*payload);
  if (!claims.ok()) return claims;

  // exp ≤ now − leeway is expired (RFC 7519 §4.1.4); saturate instead of overflowing.
  int64_t cutoff = 0;
  if (__builtin_sub_overflow(now_unix_s, std::max<int64_t>(leeway_s, 0), &cutoff)) cutoff = INT64_MIN;
  if (claims->expires_unix_s <= cutoff) return Status::unauthenticated("token expired");
  return claims;
}

std::string sign_chat_token(std::string_view secret, const ChatClaims& claims, int64_t now_unix_s) {
  boost::json::object payload;
  payload["sub"] = claims.user;
  if (!claims.name.empty() && claims.name != claims.user) payload["name"] = claims.name;
  if (!claims.moderates.empty()) {
    boost::json::array mod;
    for (const std::string& room : claims.moderates) mod.emplace_back(room);
    payload["mod"] = std::move(mod);
  }
  if (!claims.can_post) payload["post"] = false;
  payload["iat"] = now_unix_s;
  payload["exp"] = claims.expires_unix_s;

  std::string token = base64url_encode(kHeader);
  token.push_back('.');
  token += base64url_encode(boost::json::serialize(payload));
  const auto mac = hmac_sha256(secret, token);
  token.push_back('.');
  token += base64url_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
  return token;
}

}  // namespace chiron::chat
