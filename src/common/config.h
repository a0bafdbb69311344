#pragma once
// Process configuration shared by every subcommand. Values come from, in
// order of precedence: the command line, environment variables CHIRON_<FLAG>
// (e.g. CHIRON_HTTP, CHIRON_DATA), an optional TOML/INI file given with
// --config, then the built-in defaults below (../shared/DESIGN.md).
// Not thread-safe: fill once in main() before starting services.

#include <string>

#include "common/status.h"

namespace CLI {
class App;
}

namespace chiron {

struct CommonOptions {
  std::string http = "127.0.0.1:8080";
  std::string rtmp = "127.0.0.1:1935";
  std::string data = "./chiron-data";
  std::string redis;     // empty: no Redis
  std::string postgres;  // empty: embedded SQLite
  std::string ns;        // name server to register with; empty: embedded
  std::string log_level = "info";
  bool log_json = false;
};

// Adds --http --rtmp --data --redis --postgres --ns --log-level --log-json.
void add_common_flags(CLI::App& app, CommonOptions& opts);
// Adds only --data --log-level --log-json (subcommands that serve nothing).
void add_logging_flags(CLI::App& app, CommonOptions& opts);
// Adds --config FILE (TOML or INI; keys are the long flag names).
void add_config_flag(CLI::App& app);
// Sets the global log level and format from opts.
Status apply_log_options(const CommonOptions& opts);

}  // namespace chiron
