// libFuzzer target: the fluxion compiler (src/fluxc/compile.h) on arbitrary bytes, plus the
// --callees reader when the input looks like JSON. Invariants: never crashes; errors carry the
// documented codes and are located; a compiled program is valid (flux::validate), its text and
// its JSON read back to the same program, placeholders and placed references lie inside their
// fluxion's code and index existing streams and variables.
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fluxc/compile.h"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chiron;
  std::string src(reinterpret_cast<const char*>(data), size);
  if (!src.empty() && src[0] == '{') {
    auto t = fluxc::read_callees(src);
    require(t.ok() || t.status().code() == StatusCode::kInvalidArgument);
  }
  fluxc::CompileOptions o;
  o.filename = "in.js";
  auto c = fluxc::compile(src, o);
  if (!c.ok()) {
    StatusCode code = c.status().code();
    require(code == StatusCode::kInvalidArgument || code == StatusCode::kUnimplemented);
    require(c.status().message().rfind("in.js:", 0) == 0);
    return 0;
  }
  const flux::Program p = c->program();
  require(flux::validate(p).ok());
  require(!c->fluxions.empty() && c->fluxions[0].root);
  for (const auto& f : c->fluxions) {
    for (const auto& ph : f.placeholders) require(ph.begin >= f.begin && ph.end <= f.end && ph.stream < f.model.streams.size());
    for (const auto& r : f.refs) require(r.begin >= f.begin && r.end <= f.end && r.variable < c->variables.size());
  }
  auto back = flux::read_text(fluxc::to_text(*c));
  // The reader refuses bodies over 1 MiB (a fuzz input never gets there).
  require(back.ok() && *back == p);
  auto json = flux::read_json(boost::json::serialize(fluxc::to_json(*c)));
  require(json.ok() && *json == p);
  return 0;
}
