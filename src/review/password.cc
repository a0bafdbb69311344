#include "review/password.h"

#include <argon2.h>

#include <string>

#include "common/ids.h"

namespace chiron::review {

namespace {
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
}  // namespace

Result<std::string> hash_password(std::string_view password, const PasswordParams& params) {
  if (password.size() < kMinPasswordBytes || password.size() > kMaxPasswordBytes)
    return Status::invalid_argument("the password must be " + std::to_string(kMinPasswordBytes) + ".." +
                                    std::to_string(kMaxPasswordBytes) + " bytes");
  const std::string salt = random_bytes(kSaltBytes);
  const size_t len =
      argon2_encodedlen(params.iterations, params.memory_kib, params.parallelism, kSaltBytes, kHashBytes, Argon2_id);
  std::string encoded(len, '\0');
  int rc = argon2id_hash_encoded(params.iterations, params.memory_kib, params.parallelism, password.data(),
                                 password.size(), salt.data(), salt.size(), kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) return Status::internal(std::string("argon2id: ") + argon2_error_message(rc));
  encoded.resize(encoded.find('\0') == std::string::npos ? encoded.size() : encoded.find('\0'));
  return encoded;
}

bool verify_password(std::string_view encoded, std::string_view password) {
  if (encoded.rfind("$argon2id$", 0) != 0 || password.size() > kMaxPasswordBytes) return false;
  const std::string enc(encoded);  // NUL-terminated for libargon2
  return argon2id_verify(enc.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace chiron::review
