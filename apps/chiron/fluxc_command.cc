// chiron fluxc: compile a Node.js (CommonJS) file into fluxions (docs/fluxc.md).
// The arguments are parsed here rather than by CLI11 so that every usage error exits 2
// (research §6.1: 0 ok, 1 unreadable or unparsable input, 2 usage or bad --callees, 3 eval/with).
#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include "chiron/commands.h"
#include "common/common.h"
#include "fluxc/compile.h"
#include "fluxc/emit.h"

namespace chiron::app {
namespace {

constexpr const char* kUsage =
    "usage: chiron fluxc INPUT.js [-f|--flx OUT.flx] [-g|--graph OUT.json] [-o|--emit OUTDIR]\n"
    "                    [--callees FILE] [-v|--verbose]\n"
    "  Compiles a Node.js (CommonJS) file into fluxions. Without -f/-g/-o, prints the fluxional\n"
    "  text on stdout ('-' as a file name also means stdout). Exit codes: 0 ok, 1 unreadable or\n"
    "  unparsable input, 2 usage or bad --callees, 3 eval/with.\n";

struct FluxcArgs {
  std::string input, flx, graph, outdir, callees;
  bool verbose = false;
};

int usage(const std::string& why) {
  std::fprintf(stderr, "chiron fluxc: %s\n%s", why.c_str(), kUsage);
  return 2;
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::from_errno(path + ": cannot read", errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::io_error(path + ": read error");
  return ss.str();
}

Status write_out(const std::string& path, const std::string& data) {
  if (path == "-") {
    std::fwrite(data.data(), 1, data.size(), stdout);
    std::fflush(stdout);
    return Status();
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::from_errno(path + ": cannot write", errno);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return Status::io_error(path + ": write error");
  return Status();
}

// Returns the exit code; parses argv by hand (see the file comment).
int parse_args(const std::vector<std::string>& argv, FluxcArgs& a) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& s = argv[i];
    auto value = [&](std::string& dst) -> bool {
      if (i + 1 >= argv.size()) return false;
      dst = argv[++i];
      return true;
    };
    if (s == "-f" || s == "--flx") {
      if (!value(a.flx)) return usage(s + " needs a file name");
    } else if (s == "-g" || s == "--graph") {
      if (!value(a.graph)) return usage(s + " needs a file name");
    } else if (s == "-o" || s == "--emit") {
      if (!value(a.outdir)) return usage(s + " needs a directory");
    } else if (s == "--callees") {
      if (!value(a.callees)) return usage("--callees needs a file name");
    } else if (s == "-v" || s == "--verbose") {
      a.verbose = true;
    } else if (s == "-h" || s == "--help") {
      std::fputs(kUsage, stdout);
      return -1;
    } else if (s.size() > 1 && s[0] == '-') {
      return usage("unknown option " + s);
    } else if (a.input.empty()) {
      a.input = s;
    } else {
      return usage("more than one input file (" + a.input + ", " + s + ")");
    }
  }
  if (a.input.empty()) return usage("missing INPUT.js");
  return 0;
}

int exit_for(const Status& st) {
  std::fprintf(stderr, "%s\n", st.message().c_str());
  return st.code() == StatusCode::kUnimplemented ? 3 : 1;
}

void print_summary(const fluxc::Compilation& c) {
  size_t ruptures = c.fluxions.empty() ? 0 : c.fluxions.size() - 1;
  std::fprintf(stderr, "fluxc: %s: %zu fluxions, %zu rupture points, %zu skipped\n", c.filename.c_str(),
               c.fluxions.size(), ruptures, c.skipped.size());
  for (const auto& f : c.fluxions) {
    if (f.root) continue;
    std::fprintf(stderr, "  %s %s  %s (line %u)%s\n", std::string(flux::stream_arrow(f.type)).c_str(),
                 f.model.id.c_str(), f.callee.c_str(), f.line, f.replicable ? "  replicable" : "");
  }
  for (const auto& s : c.skipped) {
    std::fprintf(stderr, "  skipped %s at %s:%u:%u: %s\n", s.callee.c_str(), c.filename.c_str(), s.line, s.column,
                 s.reason.c_str());
  }
}

int run_fluxc(const std::vector<std::string>& argv) {
  FluxcArgs a;
  if (int code = parse_args(argv, a); code != 0) return code < 0 ? 0 : code;
  fluxc::CompileOptions opts;
  opts.filename = a.input;
  if (!a.callees.empty()) {
    auto text = read_file(a.callees);
    if (!text.ok()) return usage("--callees " + text.status().message());
    auto table = fluxc::read_callees(*text);
    if (!table.ok()) {
      std::fprintf(stderr, "chiron fluxc: %s: %s\n", a.callees.c_str(), table.status().message().c_str());
      return 2;
    }
    opts.callees = std::move(*table);
  }
  auto source = read_file(a.input);
  if (!source.ok()) return exit_for(source.status());
  auto c = fluxc::compile(std::move(*source), opts);
  if (!c.ok()) return exit_for(c.status());
  if (a.verbose) print_summary(*c);
  bool any = false;
  if (!a.flx.empty()) {
    any = true;
    if (Status st = write_out(a.flx, fluxc::to_text(*c)); !st.ok()) return exit_for(st);
  }
  if (!a.graph.empty()) {
    any = true;
    if (Status st = write_out(a.graph, boost::json::serialize(fluxc::to_json(*c)) + "\n"); !st.ok()) return exit_for(st);
  }
  if (!a.outdir.empty()) {
    any = true;
    fluxc::EmitOptions eo;
    std::error_code ec;
    eo.original = std::filesystem::absolute(a.input, ec);
    if (Status st = fluxc::emit(*c, a.outdir, eo); !st.ok()) return exit_for(st.context("fluxc -o " + a.outdir));
  }
  if (!any) {
    if (Status st = write_out("-", fluxc::to_text(*c)); !st.ok()) return exit_for(st);
  }
  return 0;
}

}  // namespace

void add_fluxc_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("fluxc", "Compile a Node.js file into fluxions: chiron fluxc INPUT.js [-f OUT.flx] "
                                          "[-g OUT.json] [-o OUTDIR] [--callees FILE] [-v]");
  cmd->set_help_flag();
  cmd->prefix_command();
  cmd->callback([cmd] { set_exit_code(run_fluxc(cmd->remaining())); });
}

}  // namespace chiron::app
