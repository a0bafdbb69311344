// chiron user: operator tools for accounts. `chiron user add NAME` creates a user and its channel
// (first-run setup, scripts, tests) and prints the channel's secrets one per line:
//   stream_key=...
//   push_token=...
//   password=...      (only when generated)
// Exit codes: 0 ok, 1 the user exists (or the database failed), 2 bad arguments.
// `chiron user list` prints "NAME<TAB>DISPLAY NAME" lines.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "chiron/commands.h"
#include "common/common.h"
#include "review/review_service.h"
#include "service/db.h"
#include "service/http.h"
#include "service/live.h"

namespace chiron::app {
namespace {

// The CLI opens the database next to a possibly running server: it must not end that server's
// live sessions or flush chat counts.
review::ReviewOptions cli_options() {
  review::ReviewOptions o;
  o.serving = false;
  return o;
}

struct UserArgs {
  std::string name;
  std::string password;
  bool password_given = false;
  std::string display_name;
  std::string data = "./chiron-data";
  std::string postgres;
};

Result<std::unique_ptr<service::Db>> open_db(const UserArgs& a) {
  if (!a.postgres.empty()) return service::Db::open_postgres(a.postgres);
  return service::Db::open_sqlite((std::filesystem::path(a.data) / "platform.db").string());
}

int run_add(const UserArgs& a) {
  if (a.name.empty()) {
    std::fprintf(stderr, "chiron user add: NAME is required\n");
    return 2;
  }
  auto db = open_db(a);
  if (!db.ok()) {
    std::fprintf(stderr, "chiron user add: %s\n", db.status().to_string().c_str());
    return 1;
  }
  service::NullLiveHub hub;
  auto svc = review::ReviewService::open(**db, hub, cli_options());
  if (!svc.ok()) {
    std::fprintf(stderr, "chiron user add: %s\n", svc.status().to_string().c_str());
    return 1;
  }
  std::optional<std::string> password;
  if (a.password_given) password = a.password;
  auto user = (*svc)->add_user(a.name, password, a.display_name);
  if (!user.ok()) {
    const std::string msg(service::api_message_of(user.status()));
    std::fprintf(stderr, "chiron user add: %s\n", msg.c_str());
    return user.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::printf("stream_key=%s\npush_token=%s\n", user->stream_key.c_str(), user->push_token.c_str());
  if (!user->password.empty()) std::printf("password=%s\n", user->password.c_str());
  std::fflush(stdout);
  return 0;
}

int run_list(const UserArgs& a) {
  auto db = open_db(a);
  if (!db.ok()) {
    std::fprintf(stderr, "chiron user list: %s\n", db.status().to_string().c_str());
    return 1;
  }
  service::NullLiveHub hub;
  auto svc = review::ReviewService::open(**db, hub, cli_options());  // migrates an empty database
  if (!svc.ok()) {
    std::fprintf(stderr, "chiron user list: %s\n", svc.status().to_string().c_str());
    return 1;
  }
  Status st = (*db)->read([](service::Tx& tx) -> Status {
    auto rows = tx.query("SELECT name, display_name FROM users ORDER BY name");
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) std::printf("%s\t%s\n", r.text(0).c_str(), r.text(1).c_str());
    return {};
  });
  if (!st.ok()) {
    std::fprintf(stderr, "chiron user list: %s\n", st.to_string().c_str());
    return 1;
  }
  return 0;
}

void add_db_flags(CLI::App* cmd, UserArgs& a) {
  cmd->add_option("--data", a.data, "Data directory (holds platform.db)")->envname("CHIRON_DATA")->capture_default_str();
  cmd->add_option("--postgres", a.postgres, "PostgreSQL URL instead of the data dir's SQLite")
      ->envname("CHIRON_POSTGRES");
}

}  // namespace

void add_user_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("user", "Accounts: chiron user add NAME | chiron user list");
  cmd->require_subcommand(1);
  auto args = std::make_shared<UserArgs>();

  auto* add = cmd->add_subcommand("add", "Create a user and its channel; prints stream_key= and push_token= lines");
  add->add_option("name", args->name, "Login name (also the channel name): ^[a-z0-9][a-z0-9_-]{1,31}$");
  add->add_option("--password", args->password, "Password (8..1024 bytes; default: generated and printed)")
      ->each([args](const std::string&) { args->password_given = true; });
  add->add_option("--display-name", args->display_name, "Display name (default: the name)");
  add_db_flags(add, *args);
  add->callback([args] { set_exit_code(run_add(*args)); });

  auto* list = cmd->add_subcommand("list", "List users (name, display name)");
  add_db_flags(list, *args);
  list->callback([args] { set_exit_code(run_list(*args)); });
}

}  // namespace chiron::app
