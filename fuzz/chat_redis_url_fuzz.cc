// libFuzzer target for parse_redis_url (src/chat/redis_client.h) on arbitrary bytes.
// Checks its promises: it never crashes, an accepted URL has a non-empty host of allowed
// characters, a port in 1..65535 and a db in 0..65535, and parsing is deterministic.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "chat/redis_client.h"
#include "common/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = chiron::chat::parse_redis_url(in);
  auto again = chiron::chat::parse_redis_url(in);
  CHIRON_CHECK(r.ok() == again.ok(), "parse_redis_url is not deterministic");
  if (!r.ok()) {
    CHIRON_CHECK(!r.status().message().empty(), "error without a message");
    return 0;
  }
  CHIRON_CHECK(!r->host.empty() && r->host.size() <= 253, "accepted host length");
  for (char c : r->host) CHIRON_CHECK(c > ' ' && c < 0x7f && c != '@' && c != '/', "accepted host character");
  CHIRON_CHECK(r->port >= 1, "accepted port 0");
  CHIRON_CHECK(r->db >= 0 && r->db <= 65535, "accepted db out of range");
  CHIRON_CHECK(r->host == again->host && r->port == again->port && r->db == again->db, "unstable parse");
  return 0;
}
