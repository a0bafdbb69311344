// libFuzzer target for the name server's verb executor (src/ns/protocol.h) — the parser of
// weights, heartbeat fields, states, algorithm names and registration tokens. Input: commands
// separated by '\n', arguments by ' '. Against a registry with an admin token and a secret
// service, it checks the executor's promises: it never crashes, every reply is well formed,
// an error reply changes nothing (the registry version stays put), and a REQ only ever
// names a registered, eligible server.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/check.h"
#include "common/clock.h"
#include "common/strings.h"
#include "ns/auth.h"
#include "ns/protocol.h"

namespace {

std::vector<std::string> split_args(std::string_view line) {
  std::vector<std::string> args;
  size_t start = 0;
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == ' ') {
      if (i > start) args.emplace_back(line.substr(start, i - start));
      start = i + 1;
    }
  }
  return args;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chiron;
  using namespace chiron::ns;
  static ManualClock clock;
  Registry registry(clock);
  Verifier verifier(clock);
  Security security{.admin_token = "fuzz-admin", .verifier = &verifier};
  CHIRON_CHECK(registry.set_service("sec", std::nullopt, std::string_view("s3")).ok(), "setup");
  Session session;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t commands = 0;
  for (size_t pos = 0; pos <= in.size() && commands < 256; ++commands) {
    size_t nl = in.find('\n', pos);
    if (nl == std::string_view::npos) nl = in.size();
    std::vector<std::string> args = split_args(in.substr(pos, nl - pos));
    pos = nl + 1;
    const uint64_t before = registry.version();
    Reply r = execute(registry, args, session, security);
    switch (r.kind) {
      case Reply::Kind::kError:
        CHIRON_CHECK(!r.text.empty(), "error reply without text");
        CHIRON_CHECK(registry.version() == before, "an error reply changed the registry");
        break;
      case Reply::Kind::kBulk:
        if (!args.empty() && iequals(args[0], "REQ")) {
          auto servers = registry.list(args[1]);
          CHIRON_CHECK(servers.ok(), "REQ answered for an unknown service");
          bool found = false;
          for (const Server& s : *servers) found |= s.id == r.text && s.health == Health::kUp && s.admin == AdminState::kReady;
          CHIRON_CHECK(found, "REQ named a server that is not registered, up and ready");
        }
        break;
      default:
        break;
    }
    clock.advance(std::chrono::milliseconds(250));
    if (commands % 16 == 0) registry.sweep();
  }
  return 0;
}
