// chiron — one binary, many subcommands. This file only wires modules together.

#include <CLI/CLI.hpp>
#include <cstdio>

#include "chiron/commands.h"
#include "common/common.h"

int main(int argc, char** argv) {
  CLI::App app{"Chiron: live coding with interactive code review, and the runtime it runs on"};
  app.set_version_flag("--version", std::string(chiron::kVersion));
  app.require_subcommand(1);
  chiron::app::add_serve_command(app);
  chiron::app::add_trace_command(app);
  chiron::app::add_demo_command(app);
  chiron::app::add_ns_command(app);
  chiron::app::add_chat_command(app);
  chiron::app::add_user_command(app);
  chiron::app::add_push_command(app);
  chiron::app::add_node_command(app);
  chiron::app::add_job_command(app);
  chiron::app::add_fluxc_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return chiron::app::exit_code();
}
