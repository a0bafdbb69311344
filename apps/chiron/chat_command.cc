// chiron chat: tools for the live chat. `chiron chat token` prints a session token (JWT HS256,
// src/chat/token.h) for scripts, tests and trying the chat page before accounts exist.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "chat/token.h"
#include "chiron/commands.h"
#include "common/common.h"

namespace chiron::app {
namespace {

// Ten years: a longer-lived token is a password, not a session.
constexpr int64_t kMaxTtlS = int64_t{10} * 366 * 24 * 3600;

struct TokenArgs {
  std::string secret;
  std::string user;
  std::string name;
  std::vector<std::string> moderates;
  bool read_only = false;
  int64_t ttl_s = 3600;
};

int run_token(const TokenArgs& a) {
  if (a.secret.empty()) {
    std::fprintf(stderr, "chiron chat token: --secret (or CHIRON_CHAT_SECRET) is required\n");
    return 2;
  }
  if (a.user.empty()) {
    std::fprintf(stderr, "chiron chat token: --user is required\n");
    return 2;
  }
  if (a.ttl_s <= 0 || a.ttl_s > kMaxTtlS) {
    std::fprintf(stderr, "chiron chat token: --ttl must be 1..%lld seconds\n", static_cast<long long>(kMaxTtlS));
    return 2;
  }
  const int64_t now_s = Clock::system().unix_ms() / 1000;
  chat::ChatClaims claims;
  claims.user = a.user;
  claims.name = a.name;
  claims.moderates = a.moderates;
  claims.can_post = !a.read_only;
  claims.expires_unix_s = now_s + a.ttl_s;
  const std::string token = chat::sign_chat_token(a.secret, claims, now_s);
  // Never print a token the chat would refuse (sub/name bounds, size limit).
  if (auto check = chat::verify_chat_token(a.secret, token, now_s); !check.ok()) {
    std::fprintf(stderr, "chiron chat token: %s\n", check.status().message().c_str());
    return 2;
  }
  std::printf("%s\n", token.c_str());
  return 0;
}

}  // namespace

void add_chat_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("chat", "Live chat tools");
  cmd->require_subcommand(1);

  auto args = std::make_shared<TokenArgs>();
  auto* token = cmd->add_subcommand(
      "token", "Print a chat session token (JWT HS256): chiron chat token --secret S --user alice --mod lobby");
  token->add_option("--secret", args->secret, "Key that signs chat tokens (the same as serve --chat-secret)")
      ->envname("CHIRON_CHAT_SECRET");
  token->add_option("--user", args->user, "User id (the \"sub\" claim, 1..64 bytes)");
  token->add_option("--name", args->name, "Display name (≤ 64 bytes; defaults to the user id)");
  token->add_option("--mod", args->moderates, "A room the user moderates ('*' = every room); repeatable")
      ->take_all()
      ->allow_extra_args(false);
  token->add_flag("--read-only", args->read_only, "The user may read but not post");
  token->add_option("--ttl", args->ttl_s, "Seconds until the token expires")->capture_default_str();
  token->callback([args] { set_exit_code(run_token(*args)); });
}

}  // namespace chiron::app
