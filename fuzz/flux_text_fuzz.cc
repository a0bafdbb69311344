// libFuzzer target: fluxional text and the JSON form (src/flux/graph.h). Invariants: never
// crashes; a rejected input is invalid_argument with "line:col: " (text); an accepted text is a
// valid Program whose canonical text reads back to the same Program and writes identically, and
// whose JSON form reads back to it too. The same bytes are fed to read_json: an accepted document
// is valid and round-trips through its JSON form.
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "flux/graph.h"

namespace {

using chiron::flux::Program;

bool has_position_prefix(std::string_view m) {
  size_t i = 0;
  for (int part = 0; part < 2; ++part) {
    const size_t start = i;
    while (i < m.size() && m[i] >= '0' && m[i] <= '9') ++i;
    if (i == start || i >= m.size() || m[i] != ':') return false;
    ++i;
  }
  return i < m.size() && m[i] == ' ';
}

void check_json_round_trip(const Program& p) {
  chiron::Result<Program> back = chiron::flux::read_json(boost::json::serialize(chiron::flux::to_json(p)));
  if (!back.ok() || *back != p) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  chiron::Result<Program> text = chiron::flux::read_text(input);
  if (!text.ok()) {
    if (text.status().code() != chiron::StatusCode::kInvalidArgument) std::abort();
    if (!has_position_prefix(text.status().message())) std::abort();
  } else {
    if (!chiron::flux::validate(*text).ok()) std::abort();
    const std::string written = chiron::flux::write_text(*text);
    chiron::Result<Program> again = chiron::flux::read_text(written);
    if (!again.ok() || *again != *text) std::abort();
    if (chiron::flux::write_text(*again) != written) std::abort();
    check_json_round_trip(*text);
  }

  chiron::Result<Program> doc = chiron::flux::read_json(input);
  if (!doc.ok()) {
    if (doc.status().code() != chiron::StatusCode::kInvalidArgument) std::abort();
  } else {
    if (!chiron::flux::validate(*doc).ok()) std::abort();
    check_json_round_trip(*doc);
  }
  return 0;
}
