#pragma once
// DESIGN — flux: the fluxion model of ../shared/papers/fluxions-js-event-loop-pipeline.txt §2.
//
// A program is a list of fluxions. A fluxion has a unique id, optional group tags (fluxions
// sharing a tag run serialised and may share context), a context (the names of the variables
// it keeps between messages), output streams and a body. A stream is a start (`>>`, the
// upstream call registers a listener that fires many times) or post (`->`, fires once)
// rupture point towards one or more destination fluxions, with the variables each message
// carries. This header is the pure model plus its two serialisations:
//
// Fluxional text (the paper's Figure 1 grammar; docs/protocols.md "Fluxional text"):
//   flx <id>[ & <tag>, <tag>][ {<ctx>, <ctx>}]
//   >> <dest>[, <dest>][ [<var>, <var>]]       one line per stream, or the single line `-> null`
//   -> <dest>[ [<var>]]
//     <body, every non-empty line indented by 2 spaces>
//   (one blank line between fluxions)
// Identifiers are JavaScript-like: [A-Za-z_$][A-Za-z0-9_$]*; `null` is not a valid id.
// Writer output is canonical: read_text(write_text(p)) == p and write_text(read_text(t)) == t
// for canonical t. Body lines keep their own indentation beyond the 2 columns; trailing
// blank lines of a body are dropped; "\r\n" is read as "\n".
//
// JSON form: {"version":1,"fluxions":[{"id","tags":[],"ctx":[],"streams":[{"type":"start"|
// "post","dest":[..],"vars":[..]}],"body":"..."}]}. Readers ignore unknown keys (other layers
// add their own: the compiler's spans and variables, the service graph's rates), so a
// richer document reads back to the same Program.
//
// Hostile input: read_text/from_json never crash; errors are Status::invalid_argument with
// "line:col: message" (text) or "fluxions[2].streams[0].dest: ..." (JSON). Limits: 1 MiB
// of text per fluxion body, 64 MiB documents, 100'000 fluxions, 10'000 names per list.
// Duplicate fluxion ids, duplicate names within one list, and unknown stream destinations
// are errors (validate()); the text reader validates.
//
// Pure value types and functions; thread-compatible.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/result.h"
#include "common/status.h"

namespace chiron::flux {

// The limits of the hostile-input paragraph above (both readers enforce them).
inline constexpr size_t kMaxBodyBytes = size_t{1} << 20;      // per fluxion body
inline constexpr size_t kMaxDocumentBytes = size_t{64} << 20;  // text or JSON document
inline constexpr size_t kMaxFluxions = 100'000;
inline constexpr size_t kMaxNamesPerList = 10'000;             // tags, ctx, dest, vars

enum class StreamType { kStart, kPost };
std::string_view stream_type_name(StreamType t);  // "start" / "post"
std::string_view stream_arrow(StreamType t);      // ">>" / "->"

struct Stream {
  StreamType type = StreamType::kPost;
  std::vector<std::string> dest;  // at least one fluxion id
  std::vector<std::string> vars;  // variables carried on each message, in order
  bool operator==(const Stream&) const = default;
};

struct Fluxion {
  std::string id;
  std::vector<std::string> tags;     // kept in the given order (the compiler sorts them)
  std::vector<std::string> ctx;      // context variable names
  std::vector<Stream> streams;       // empty = `-> null`
  std::string body;                  // without the 2-space indentation; may be empty
  bool operator==(const Fluxion&) const = default;
};

struct Program {
  std::vector<Fluxion> fluxions;
  bool operator==(const Program&) const = default;
  const Fluxion* find(std::string_view id) const;
};

bool is_identifier(std::string_view s);
// Structural checks: ids are identifiers and unique, names unique per list, every stream has
// a destination and every destination exists.
Status validate(const Program& program);

std::string write_text(const Program& program);
Result<Program> read_text(std::string_view text);

boost::json::object to_json(const Program& program);
boost::json::object to_json(const Fluxion& fluxion);
Result<Program> from_json(const boost::json::value& doc);
// Parses a JSON document (text) and reads it; errors as above.
Result<Program> read_json(std::string_view json_text);

}  // namespace chiron::flux
