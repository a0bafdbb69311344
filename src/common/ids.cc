#include "common/ids.h"

#include <sys/random.h>

#include <cerrno>

#include "common/check.h"
#include "common/encoding.h"

namespace chiron {

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::getrandom(out.data() + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    CHIRON_CHECK(r > 0, "getrandom failed");
    got += static_cast<size_t>(r);
  }
  return out;
}

std::string random_hex(size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string raw = random_bytes(n), out;
  out.reserve(2 * n);
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string random_token(size_t n) { return base64url_encode(random_bytes(n)); }

std::string random_uuid() {
  std::string b = random_bytes(16);
  b[6] = static_cast<char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    auto c = static_cast<unsigned char>(b[i]);
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

}  // namespace chiron
