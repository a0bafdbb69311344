#pragma once
// Internal to the fluxion compiler (compile.cc, callees.cc, placement.cc, output.cc) and its
// tests: the callee index and the placement rules as pure functions over a small model of the
// fluxion tree and of each variable's uses, so the rules are testable without parsing.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fluxc/compile.h"

namespace chiron::fluxc::detail {

// ---- callees ----

// The full path a call's callee must resolve to: "express().get", "fs.readFile", "raw-body",
// "setTimeout", "http.createServer().on".
std::string callee_path(const Callee& c);
// "<provenance>[.<method>][:<event>]" → Callee (type left as given). Errors name the entry.
Result<Callee> parse_callee(std::string_view spec, flux::StreamType type);
// The inverse of parse_callee: "http.createServer().on:request".
std::string callee_spec(const Callee& c);

class CalleeIndex {
 public:
  explicit CalleeIndex(const CalleeTable& table);
  // The callee matching a call whose callee expression resolved to `path`; `first_arg` is the
  // first argument when it is a plain string literal. An entry with an event wins over one
  // without; nullptr when nothing matches.
  const Callee* match(const std::string& path, const std::optional<std::string>& first_arg) const;

 private:
  std::unordered_map<std::string, std::vector<Callee>> by_path_;
};

// ---- placement (compile.h: R-scope, R-stream, R-share) ----

// The fluxion tree: parent[i] < i for every i > 0, parent[0] = -1 (main).
struct PlaceUse {
  int fluxion = 0;          // a user
  uint32_t first_ref = 0;   // byte offset of its first reference to the variable
  bool writes = false;      // rebinds or member-mutates it (placement W; see compile.cc)
  // Calls it or passes it as an argument (a per-request value such as express's `next`, a
  // node-style `cb`, or `res` handed to a helper): its user must run with its owner.
  bool escapes = false;
};
struct PlaceVar {
  std::string name;
  bool persistent = false;
  int owner = 0;                 // fluxion holding the binding; a global's owner is main (0)
  std::vector<PlaceUse> uses;    // one per user, any order (the owner's declaration excluded)
  // A function-valued persistent variable whose source cannot be copied (free names beyond
  // imports, builtins and copyable functions): used by a fluxion other than main, it pins its
  // users to its owner's group (grp_<name> on owner and users).
  // Also set for a persistent object that cannot be copied to a worker (a `new X(..)` instance
  // other than Map, Set, Date, arrays, RegExp, typed arrays, errors): pinned the same way.
  bool pinned_function = false;
};
struct Placement {
  VarClass cls = VarClass::kLocal;
  std::string tag;            // grp_<name> or ""
  std::vector<int> tagged;    // fluxions carrying the tag, ascending
  std::vector<int> ctx;       // fluxions holding the variable in their ctx, ascending
  std::vector<int> edges;     // fluxions whose incoming edge carries it, ascending
  std::vector<int> path;      // fluxions whose outgoing edges carry it, ascending
  std::vector<int> users;     // ascending
  std::vector<int> writers;   // ascending
  // Per-request only: users (not the owner) that call the value or pass it as an argument.
  // assemble() tags each of them and the owner with `tag` unless they already share a tag.
  int owner = 0;
  std::vector<int> escapers;  // ascending
};
bool is_descendant(const std::vector<int>& parent, int node, int ancestor);  // strictly below
Placement place(const std::vector<int>& parent, const PlaceVar& v);

struct PlacedFluxion {
  std::vector<std::string> tags;     // sorted, unique
  std::vector<std::string> ctx;      // by first reference in the fluxion
  std::vector<std::string> in_vars;  // carried on its incoming edge, by first reference in its subtree
};
// Per fluxion tags, ctx and incoming-edge variables from the placements of all variables
// (vars[i] ↔ placements[i]).
std::vector<PlacedFluxion> assemble(const std::vector<int>& parent, const std::vector<PlaceVar>& vars,
                                    const std::vector<Placement>& placements);

}  // namespace chiron::fluxc::detail
