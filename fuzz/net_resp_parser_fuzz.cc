// libFuzzer target for the RESP command parser (src/net/resp.h). The first
// input byte picks the chunk size and limits; the rest is one connection's
// byte stream. Checks the parser's promises: it always makes progress or
// fails, commands are non-empty and within the limits, and an error is final.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/check.h"
#include "net/resp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const size_t step = (mode & 0x0F) == 0 ? SIZE_MAX : (mode & 0x0F);
  chiron::net::RespLimits limits;
  if (mode & 0x10) limits = {.max_args = 3, .max_bulk_bytes = 16, .max_inline_bytes = 24};
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);

  chiron::net::RespParser parser(limits);
  for (size_t pos = 0; pos < in.size();) {
    std::string_view chunk = in.substr(pos, std::min(step, in.size() - pos));
    std::optional<chiron::net::RespCommand> cmd;
    auto used = parser.parse(chunk, cmd);
    if (!used.ok()) {
      CHIRON_CHECK(!cmd, "command reported together with an error");
      CHIRON_CHECK(!parser.parse("PING\r\n", cmd).ok(), "parser recovered after an error");
      return 0;
    }
    CHIRON_CHECK(*used <= chunk.size(), "parser consumed more than it was given");
    CHIRON_CHECK(*used > 0 || chunk.empty(), "parser made no progress");
    if (cmd) {
      CHIRON_CHECK(!cmd->args.empty(), "empty command reported");
      if (!cmd->is_inline) {
        CHIRON_CHECK(cmd->args.size() <= limits.max_args, "too many args");
        for (const auto& a : cmd->args) CHIRON_CHECK(a.size() <= limits.max_bulk_bytes, "bulk over the limit");
      }
    }
    pos += *used;
  }
  return 0;
}
