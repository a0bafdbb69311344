#pragma once
// The fluxion compiler (paper §3; spec in docs/fluxc.md): parse → scope analysis → rupture
// points → fluxions → variable placement (scope / stream / share) → a flux::Program plus the
// facts the emitter needs. Deterministic: the same input gives byte-identical output.
//
// Rupture points are found by require-provenance (`x = require('M')` → M, `x = require('M')()`
// or `y = x()` with x of provenance M → `M()`, `require('M').f` → `M.f`) against the callee
// table (default_callees(), extended or replaced by --callees FILE). Each in-situ function or
// arrow argument of a matching call becomes a downstream fluxion; other arguments are listed
// in `skipped` with a reason. Ids: the function's name, else anonymous_<1000+k> (k counts
// anonymous callbacks in source order); clashes get _2, _3, …
//
// Variable placement, first match wins (W = users that rebind or member-mutate v):
//   R-scope   persistent v with |users| = 1, or W = ∅  → v ∈ ctx(each user)
//   R-stream  persistent v, W = {X}, all other users strictly downstream of X → v ∈ ctx(X) and
//             on every edge of the paths from X to them
//   R-share   any other persistent v → tag grp_<v> on every user, v ∈ ctx(each user)
//   per-request v → on every edge of the paths from owner(v) to each user; if a user D ≠ owner
//             mutates or rebinds v, tag grp_<v> on owner(v) and on each such D
// Builtins, imports (`require('M')` / `require('M').p`, never rebound) and locals are not placed.
// Before those rules: a persistent function (declaration, or `const f = function/arrow/class`,
// never rebound) that is not copyable_function and is used by a fluxion other than main gets
// grp_<f> on its owner and every user, f ∈ ctx(each user) (class share) — its closure over
// module state stays in one group. Ownership: a start listener's parameters belong to the
// fluxion making the start call; a global's owner is "" (main for the locality test).
//
// Errors: syntax → kInvalidArgument "file:line:col: ..." (CLI exit 1); eval/with →
// kUnimplemented (exit 3); a bad callee table → kInvalidArgument (exit 2).
// Thread-compatible.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/result.h"
#include "flux/graph.h"
#include "fluxc/parse.h"
#include "fluxc/scope.h"

namespace chiron::fluxc {

// One recognised asynchronous callee. `provenance` is what the callee expression resolves to:
// "express()" for methods of an express app, "fs" for the fs module, "" for a global function
// (setTimeout); `method` is the called name ("get", "readFile", "setTimeout"); for a module
// that is itself called (`getRawBody(req, cb)` with getRawBody = require('raw-body')) the
// provenance is "raw-body" and method is "". `event` restricts `.on(event, cb)` matches
// ("request"); empty = any call.
struct Callee {
  std::string provenance;
  std::string method;
  std::string event;
  flux::StreamType type = flux::StreamType::kPost;
};
struct CalleeTable {
  std::vector<Callee> callees;
};
CalleeTable default_callees();
// --callees FILE: {"replace": false, "start": ["raw-body", "fs.readFile", "express().get",
// "setInterval", "http.createServer().on:request"], "post": [...]} — strings are
// `<provenance>[.<method>][:<event>]`; an entry with the same provenance+method+event as a
// default one overrides its type; "replace": true drops the defaults.
Result<CalleeTable> read_callees(std::string_view json_text, CalleeTable base = default_callees());

enum class VarClass { kScope, kStream, kShare, kLocal, kImport, kBuiltin };
std::string_view var_class_name(VarClass c);  // "scope", "stream", "share", "local", "import", "builtin"

struct Variable {
  std::string name;
  VarClass cls = VarClass::kLocal;
  int32_t binding = -1;             // ScopeAnalysis binding, -1 for an unresolved global
  bool persistent = false;          // module-level binding or unresolved non-builtin global
  std::string owner;                // fluxion id holding the binding ("" for a global)
  std::vector<std::string> users;   // fluxion ids, in graph order
  std::vector<std::string> writers; // users that rebind or member-mutate it
  std::string tag;                  // grp_<name> when tagged
  std::vector<std::string> path;    // R-stream: fluxions whose outgoing edges carry it
  // Function-valued persistent variable whose free names are all imports, builtins or other
  // copyable functions: the emitter copies its source into each user's module.
  bool copyable_function = false;
};

// A nested callback replaced by a placeholder in its parent's code.
struct Placeholder {
  uint32_t begin = 0, end = 0;  // byte range of the callback argument (function/arrow node)
  size_t stream = 0;            // index into the parent fluxion's model.streams
};

// A reference inside a fluxion's own code (nested callbacks excluded) to a variable of class
// scope, stream, share or import — including references to a per-request variable inside its
// owner (a plain local there) and a start listener's uses of its own parameters. The declaring
// identifier of such a var/let/const/function/class binding is listed too (declaration = true)
// when it lies in its owner's code (`var count = 0` in main); parameters never are.
struct PlacedRef {
  uint32_t begin = 0, end = 0;  // the identifier
  size_t variable = 0;          // index into Compilation::variables
  bool shorthand = false;       // `{v}` in an object literal (rewrite as `v: <expr>`)
  bool declaration = false;     // the declaring identifier itself (in the owner)
};

struct CompiledFluxion {
  flux::Fluxion model;          // id, tags (sorted), ctx, streams, body (with placeholders)
  bool root = false;            // `main`: the whole program
  uint32_t begin = 0, end = 0;  // the callback's function node (root: the whole file)
  std::vector<std::string> params;   // the callback's parameter names (implicit message args)
  std::string callee;                // "app.get", "fs.readFile" — the call that feeds it
  uint32_t line = 0;                 // of that call
  flux::StreamType type = flux::StreamType::kPost;  // of the stream feeding it
  std::string parent;                // upstream fluxion id ("" for main)
  std::vector<Placeholder> placeholders;  // in source order
  std::vector<PlacedRef> refs;            // in source order
  // Untagged and every ctx variable is read-only (never written by anyone): may be replicated.
  bool replicable = false;
};

struct Skipped {
  std::string callee;  // "app.post"
  uint32_t line = 0;
  uint32_t column = 0;
  std::string reason;  // "argument 2 is not a function written in place (bodyParser(...))"
};

struct Compilation {
  std::string filename;
  SyntaxTree tree;
  ScopeAnalysis scopes;
  std::vector<CompiledFluxion> fluxions;  // source order; fluxions[0] is main
  // Every name considered except per-request locals (module-level locals, imports and the
  // builtins used are listed), sorted by name, then by declaration offset (globals first).
  std::vector<Variable> variables;
  std::vector<std::string> requires_;     // module names required, in source order, unique
  std::vector<Skipped> skipped;
  flux::Program program() const;          // the models, in order
};

struct CompileOptions {
  std::string filename = "input.js";  // used in messages and in the JSON "source"
  CalleeTable callees = default_callees();
};

Result<Compilation> compile(std::string source, const CompileOptions& options);

// The fluxional text: flux::write_text(program()).
std::string to_text(const Compilation& c);
// The JSON of docs/fluxc.md: {version:1, source, fluxions:[{id, root, tags, ctx, span:[b,e],
// streams:[{type, dest, vars, args, callee, line}], body}], variables:[{name, class, owner,
// users, writers, tag?, path?}], requires, skipped:[{callee, line, column, reason}]}.
// flux::from_json reads it back to program().
boost::json::object to_json(const Compilation& c);

}  // namespace chiron::fluxc
