#include "common/config.h"

#include <CLI/CLI.hpp>

#include "common/log.h"

namespace chiron {
namespace {

void add_logging(CLI::App& app, CommonOptions& o) {
  app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error or off")
      ->envname("CHIRON_LOG_LEVEL")
      ->capture_default_str();
  app.add_flag("--log-json", o.log_json, "Write logs as JSON lines")->envname("CHIRON_LOG_JSON");
}

}  // namespace

void add_common_flags(CLI::App& app, CommonOptions& o) {
  app.add_option("--http", o.http, "HTTP listen address HOST:PORT (port 0 picks a free port)")
      ->envname("CHIRON_HTTP")
      ->capture_default_str();
  app.add_option("--rtmp", o.rtmp, "RTMP listen address HOST:PORT")->envname("CHIRON_RTMP")->capture_default_str();
  app.add_option("--data", o.data, "Data directory (SQLite + blobs)")->envname("CHIRON_DATA")->capture_default_str();
  app.add_option("--redis", o.redis, "Redis URL for multi-edge chat fan-out")->envname("CHIRON_REDIS");
  app.add_option("--postgres", o.postgres, "PostgreSQL URL instead of embedded SQLite")->envname("CHIRON_POSTGRES");
  app.add_option("--ns", o.ns, "Name server HOST:PORT to register with (default: run one embedded; off: none)")
      ->envname("CHIRON_NS");
  add_logging(app, o);
}

void add_logging_flags(CLI::App& app, CommonOptions& o) {
  app.add_option("--data", o.data, "Data directory")->envname("CHIRON_DATA")->capture_default_str();
  add_logging(app, o);
}

void add_config_flag(CLI::App& app) {
  app.set_config("--config", "", "Read options from a TOML or INI file (keys are long flag names)");
}

Status apply_log_options(const CommonOptions& o) {
  auto level = log::parse_level(o.log_level);
  if (!level.ok()) return level.status();
  log::set_level(*level);
  log::set_json(o.log_json);
  return {};
}

}  // namespace chiron
