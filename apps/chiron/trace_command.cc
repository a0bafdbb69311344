#include <CLI/CLI.hpp>
#include <cstdio>

#include "chiron/commands.h"
#include "common/common.h"
#include "kernel/kernel.h"

namespace chiron::app {
namespace {

struct TraceArgs {
  std::string input;
  std::string output;
};

}  // namespace

void add_trace_command(CLI::App& app) {
  auto args = std::make_shared<TraceArgs>();
  auto* cmd = app.add_subcommand("trace", "Draw the event plot (one lane per pipeline thread) of a kernel event log");
  cmd->add_option("FILE", args->input, "Event log written by the runtime (JSON lines)")->required()->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", args->output, "SVG file to write (default: FILE with .svg)");
  cmd->callback([args] {
    std::string out = args->output;
    if (out.empty()) {
      out = args->input;
      auto dot = out.rfind('.');
      if (dot != std::string::npos && out.find('/', dot) == std::string::npos) out.resize(dot);
      out += ".svg";
    }
    Status st = kernel::render_trace_svg(args->input, out);
    if (!st.ok()) {
      std::fprintf(stderr, "chiron trace: %s\n", st.to_string().c_str());
      set_exit_code(1);
      return;
    }
    std::printf("wrote %s\n", out.c_str());
  });
}

}  // namespace chiron::app
