// The fluxion compiler (research §6; paper §3): require-provenance → rupture points →
// fluxions (main + one per in-situ callback) → ownership and uses of every name → placement
// (placement.cc) → models with bodies, placeholders and placed references for the emitter.
//
// Everything is ordered by byte offsets of the source, so the output is a pure function of the
// input (deterministic). Walks recurse once per tree level; parse() bounds the depth.
#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "fluxc/compile_internal.h"

namespace chiron::fluxc {
namespace {

using flux::StreamType;

// research §6.6: names never placed.
const std::unordered_set<std::string_view>& builtins() {
  static const std::unordered_set<std::string_view> k = {
      // CommonJS and Node
      "require", "module", "exports", "__filename", "__dirname", "console", "process", "Buffer", "global",
      "globalThis", "setTimeout", "setInterval", "setImmediate", "clearTimeout", "clearInterval",
      "clearImmediate", "queueMicrotask", "structuredClone", "URL", "URLSearchParams", "TextEncoder",
      "TextDecoder", "AbortController", "AbortSignal", "EventTarget", "Event", "atob", "btoa", "fetch",
      "performance", "WebAssembly", "arguments",
      // ECMAScript
      "undefined", "NaN", "Infinity", "Object", "Function", "Array", "String", "Number", "Boolean", "Symbol",
      "BigInt", "Math", "JSON", "Date", "RegExp", "Error", "TypeError", "RangeError", "SyntaxError",
      "ReferenceError", "EvalError", "URIError", "AggregateError", "Promise", "Map", "Set", "WeakMap", "WeakSet",
      "WeakRef", "FinalizationRegistry", "Proxy", "Reflect", "ArrayBuffer", "SharedArrayBuffer", "DataView",
      "Atomics", "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array",
      "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array", "Intl", "isNaN",
      "isFinite", "parseInt", "parseFloat", "encodeURI", "encodeURIComponent", "decodeURI",
      "decodeURIComponent", "escape", "unescape", "eval"};
  return k;
}

bool is_function_node(std::string_view t) {
  return t == "function_expression" || t == "arrow_function" || t == "function";
}

// Methods that never mutate their receiver (placement W, research §6.7): `v.trim()`,
// `m.get(k)`, `a.map(f)`. scope.cc still marks the receiver member_mutate (as eslint-scope
// does); the whitelist applies when compile.cc computes writers.
bool non_mutating_method(std::string_view m) {
  static const std::unordered_set<std::string_view> k = {
      "toString", "toUpperCase", "toLowerCase", "toLocaleUpperCase", "toLocaleLowerCase", "trim", "trimStart",
      "trimEnd", "slice", "split", "substring", "substr", "includes", "indexOf", "lastIndexOf", "startsWith",
      "endsWith", "join", "map", "filter", "reduce", "reduceRight", "some", "every", "find", "findIndex",
      "findLast", "findLastIndex", "forEach", "keys", "values", "entries", "get", "has", "at", "concat",
      "padStart", "padEnd", "replace", "replaceAll", "match", "matchAll", "search", "test", "charAt",
      "charCodeAt", "codePointAt", "toFixed", "toPrecision", "toExponential", "toISOString", "toJSON",
      "toUTCString", "toDateString", "toTimeString", "toLocaleString", "toLocaleDateString",
      "toLocaleTimeString", "getTime", "getFullYear", "getMonth", "getDate", "getDay", "getHours",
      "getMinutes", "getSeconds", "getMilliseconds", "getUTCFullYear", "getUTCMonth", "getUTCDate",
      "getUTCDay", "getUTCHours", "getUTCMinutes", "getUTCSeconds", "getTimezoneOffset", "valueOf",
      "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "localeCompare", "normalize", "repeat",
      "flat", "flatMap", "toSorted", "toReversed", "toSpliced", "with", "format", "formatToParts"};
  return k.count(m) > 0;
}

// Builtin constructors whose instances structured clone keeps intact (a data copy is fine).
bool clonable_constructor(std::string_view c) {
  static const std::unordered_set<std::string_view> k = {
      "Map", "Set", "Date", "Array", "Object", "RegExp", "Error", "TypeError", "RangeError", "ArrayBuffer",
      "DataView", "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array",
      "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array", "String", "Number",
      "Boolean"};
  return k.count(c) > 0;
}

// Node core modules whose functions never mutate their arguments (`fs.writeFile(p, data)`).
bool core_module(std::string_view m) {
  if (m.substr(0, 5) == "node:") m.remove_prefix(5);
  static const std::unordered_set<std::string_view> k = {
      "fs", "fs/promises", "path", "util", "crypto", "os", "url", "querystring", "zlib", "http", "https",
      "net", "dns", "buffer", "string_decoder", "timers", "assert", "child_process", "stream", "events"};
  return k.count(m) > 0;
}

std::vector<TSNode> named_children(TSNode n) {
  std::vector<TSNode> out;
  for_each_named_child(n, [&](TSNode c) {
    if (node_type(c) != "comment") out.push_back(c);
  });
  return out;
}

TSNode unparen(TSNode n) {
  while (!ts_node_is_null(n) && node_type(n) == "parenthesized_expression") {
    auto kids = named_children(n);
    if (kids.size() != 1) break;
    n = kids[0];
  }
  return n;
}

// The base of a member chain: `a.b.c` → `a` (and `a[k].c` → `a` with subscripts).
TSNode member_base(TSNode n, bool through_subscripts = false) {
  n = unparen(n);
  while (!ts_node_is_null(n) && (node_type(n) == "member_expression" ||
                                 (through_subscripts && node_type(n) == "subscript_expression"))) {
    n = unparen(child_by_field(n, "object"));
  }
  return n;
}

// The callee as written, without whitespace ("app.get"), at most 80 bytes.
std::string compact(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') out += c;
    if (out.size() > 80) {
      out += "...";
      break;
    }
  }
  return out;
}

struct Callback {
  uint32_t begin = 0, end = 0;  // the function node
  TSNode fn{};
  std::string name;             // "" when anonymous
  std::string callee;           // "app.get"
  uint32_t line = 0;
  StreamType type = StreamType::kPost;
  int parent = 0;               // fluxion index
  std::vector<std::string> params;
};

struct VarRec {
  std::string name;
  int32_t binding = -1;
  bool builtin = false;
  bool import = false;
  bool persistent = false;
  int owner = -1;  // fluxion index, -1 for a global
  std::map<int, detail::PlaceUse> uses;
  std::vector<uint32_t> refs;   // reference indices (declarations excluded)
  int32_t decl_ref = -1;        // the declarator's own reference (init), if any
  bool function_valued = false;
  uint32_t fn_begin = 0, fn_end = 0;
  bool copyable = false;
  bool pinned_object = false;   // persistent `new X(..)` that structured clone would not keep
  bool param = false;           // a function parameter (req, res, next, cb …)
  detail::Placement placement;
  int32_t index = -1;           // in Compilation::variables
};

class Compiler {
 public:
  Compiler(const SyntaxTree& tree, const ScopeAnalysis& scopes, const CompileOptions& options)
      : tree_(tree), s_(scopes), index_(options.callees) {}

  Status run();

  std::vector<CompiledFluxion> fluxions;
  std::vector<Variable> variables;
  std::vector<std::string> requires_;
  std::vector<Skipped> skipped;

 private:
  int32_t ref_at(uint32_t begin) const;
  bool is_global_ref(TSNode ident, std::string_view name) const;
  std::optional<std::string> string_value(TSNode n) const;
  std::optional<std::string> require_module(TSNode call) const;
  std::optional<std::string> prov(TSNode n);
  std::optional<std::string> prov_step(TSNode n);
  std::optional<std::string> binding_prov(int32_t b);
  bool binding_rebound(int32_t b) const { return rebound_[static_cast<size_t>(b)]; }
  TSNode binding_init(int32_t b) const;

  void walk(TSNode n);
  bool is_shorthand(uint32_t begin) const {
    return std::binary_search(shorthands_.begin(), shorthands_.end(), begin);
  }
  void visit_call(TSNode call);
  std::string describe_arg(TSNode arg) const;
  bool is_function_binding_ref(TSNode arg) const;

  int fluxion_at(uint32_t offset) const;
  void build_fluxions();
  void collect_uses();
  void find_copyable_functions();
  void place_all();
  Status check_names() const;
  Status check_list_sizes() const;
  void build_outputs();
  std::string body_of(size_t f) const;
  std::vector<std::string> params_of(TSNode fn) const;
  bool persistent_scope(uint32_t scope) const;
  std::optional<std::string> import_module(TSNode init) const;

  const SyntaxTree& tree_;
  const ScopeAnalysis& s_;
  detail::CalleeIndex index_;
  std::vector<bool> rebound_;
  std::vector<int8_t> prov_state_;  // 0 unknown, 1 computing, 2 done
  std::vector<std::optional<std::string>> prov_memo_;
  std::vector<Callback> callbacks_;  // source order after build_fluxions (index + 1 = fluxion)
  std::vector<int> parent_;          // per fluxion
  std::vector<std::vector<size_t>> children_;
  std::vector<VarRec> vars_;
  std::vector<int32_t> var_of_binding_;
  std::unordered_map<std::string, int32_t> var_of_global_;
  std::vector<detail::PlacedFluxion> placed_;
  static constexpr int kMaxProvenanceDepth = 256;
  int prov_depth_ = 0;
  // Identifiers passed directly as an argument (or spread) of a call or `new`, by begin offset.
  struct ArgUse {
    TSNode callee{};
    size_t index = 0;
  };
  std::unordered_map<uint32_t, ArgUse> args_;
  // Receivers of a method call `v.m(..)` / `v.a.m(..)`, by begin offset → the method name.
  std::unordered_map<uint32_t, std::string_view> receivers_;
  void note_call_roles(TSNode call);
  bool pure_builtin_callee(TSNode callee, size_t index) const;
  bool argument_mutated(const ArgUse& a) const;
  bool immutable_primitive(int32_t binding) const;
  int32_t var_of_ref_node(TSNode ident) const;
  std::vector<uint32_t> shorthands_;  // begin of every `{v}` identifier, ascending (walk order)
};

int32_t Compiler::ref_at(uint32_t begin) const {
  auto it = std::lower_bound(s_.refs.begin(), s_.refs.end(), begin,
                             [](const Reference& r, uint32_t b) { return r.begin < b; });
  if (it == s_.refs.end() || it->begin != begin) return -1;
  return static_cast<int32_t>(it - s_.refs.begin());
}

bool Compiler::is_global_ref(TSNode ident, std::string_view name) const {
  if (node_type(ident) != "identifier" || tree_.text(ident) != name) return false;
  int32_t r = ref_at(node_begin(ident));
  return r >= 0 && s_.refs[static_cast<size_t>(r)].binding < 0;
}

std::optional<std::string> Compiler::string_value(TSNode n) const {
  n = unparen(n);
  std::string_view t = node_type(n);
  if (t != "string" && t != "template_string") return std::nullopt;
  std::string_view text = tree_.text(n);
  if (text.size() < 2 || text.find('\\') != std::string_view::npos) return std::nullopt;
  if (t == "template_string" && text.find("${") != std::string_view::npos) return std::nullopt;
  return std::string(text.substr(1, text.size() - 2));
}

std::optional<std::string> Compiler::require_module(TSNode call) const {
  if (node_type(call) != "call_expression") return std::nullopt;
  if (!is_global_ref(child_by_field(call, "function"), "require")) return std::nullopt;
  TSNode args = child_by_field(call, "arguments");
  if (ts_node_is_null(args) || node_type(args) != "arguments") return std::nullopt;
  auto kids = named_children(args);
  if (kids.size() != 1) return std::nullopt;
  auto m = string_value(kids[0]);
  if (m && m->rfind("node:", 0) == 0) m = m->substr(5);
  return m;
}

TSNode Compiler::binding_init(int32_t b) const {
  const Binding& bd = s_.bindings[static_cast<size_t>(b)];
  if (bd.init_end <= bd.init_begin) return TSNode{};
  return unparen(tree_.node_at(bd.init_begin, bd.init_end));
}

std::optional<std::string> Compiler::binding_prov(int32_t b) {
  size_t i = static_cast<size_t>(b);
  if (prov_state_[i] == 2) return prov_memo_[i];
  if (prov_state_[i] == 1) return std::nullopt;  // a cycle: x = y, y = x
  prov_state_[i] = 1;
  std::optional<std::string> p;
  const Binding& bd = s_.bindings[i];
  if ((bd.kind == BindingKind::kVar || bd.kind == BindingKind::kLet || bd.kind == BindingKind::kConst) &&
      !binding_rebound(b)) {
    TSNode init = binding_init(b);
    if (!ts_node_is_null(init)) p = prov(init);
  }
  prov_state_[i] = 2;
  prov_memo_[i] = p;
  return p;
}

// require-provenance (research §6.3): require('M') → M; E() → prov(E)(); E.f → prov(E).f;
// an identifier → its binding's initializer (never rebound), or the global's own name.
std::optional<std::string> Compiler::prov(TSNode n) {
  // Chains of `var b = a` can be as long as the file: bound the recursion.
  if (prov_depth_ >= kMaxProvenanceDepth) return std::nullopt;
  ++prov_depth_;
  auto p = prov_step(n);
  --prov_depth_;
  return p;
}

std::optional<std::string> Compiler::prov_step(TSNode n) {
  n = unparen(n);
  if (ts_node_is_null(n)) return std::nullopt;
  std::string_view t = node_type(n);
  if (t == "identifier") {
    int32_t r = ref_at(node_begin(n));
    if (r < 0) return std::nullopt;
    const Reference& ref = s_.refs[static_cast<size_t>(r)];
    if (ref.binding < 0) return ref.name;
    return binding_prov(ref.binding);
  }
  if (t == "call_expression") {
    if (auto m = require_module(n)) return m;
    TSNode args = child_by_field(n, "arguments");
    if (ts_node_is_null(args) || node_type(args) != "arguments") return std::nullopt;
    auto f = prov(child_by_field(n, "function"));
    if (!f) return std::nullopt;
    return *f + "()";
  }
  if (t == "member_expression") {
    TSNode prop = child_by_field(n, "property");
    if (ts_node_is_null(prop) || node_type(prop) != "property_identifier") return std::nullopt;
    auto o = prov(child_by_field(n, "object"));
    if (!o) return std::nullopt;
    return *o + "." + std::string(tree_.text(prop));
  }
  return std::nullopt;
}

std::string Compiler::describe_arg(TSNode arg) const {
  arg = unparen(arg);
  if (node_type(arg) == "call_expression") {
    return compact(tree_.text(child_by_field(arg, "function"))) + "(...)";
  }
  return compact(tree_.text(arg));
}

bool Compiler::is_function_binding_ref(TSNode arg) const {
  arg = unparen(arg);
  if (node_type(arg) != "identifier") return false;
  int32_t r = ref_at(node_begin(arg));
  if (r < 0 || s_.refs[static_cast<size_t>(r)].binding < 0) return false;
  int32_t b = s_.refs[static_cast<size_t>(r)].binding;
  const Binding& bd = s_.bindings[static_cast<size_t>(b)];
  if (bd.kind == BindingKind::kFunction) return true;
  TSNode init = binding_init(b);
  return !ts_node_is_null(init) && is_function_node(node_type(init));
}

std::vector<std::string> Compiler::params_of(TSNode fn) const {
  std::vector<std::string> out;
  TSNode single = child_by_field(fn, "parameter");
  if (!ts_node_is_null(single)) {
    out.emplace_back(tree_.text(single));
    return out;
  }
  TSNode params = child_by_field(fn, "parameters");
  if (ts_node_is_null(params)) return out;
  for (TSNode p : named_children(params)) out.push_back(compact(tree_.text(p)));
  return out;
}

void Compiler::visit_call(TSNode call) {
  TSNode fn = child_by_field(call, "function");
  TSNode args = child_by_field(call, "arguments");
  if (ts_node_is_null(args) || node_type(args) != "arguments") return;
  auto path = prov(fn);
  if (!path) return;
  auto kids = named_children(args);
  std::optional<std::string> first;
  if (!kids.empty()) first = string_value(kids[0]);
  const Callee* callee = index_.match(*path, first);
  if (callee == nullptr) return;
  const std::string callee_text = compact(tree_.text(fn));
  const SourcePos pos = tree_.position(node_begin(call));
  std::string reason;
  bool any_in_situ = false;
  for (TSNode a : kids) any_in_situ = any_in_situ || is_function_node(node_type(unparen(a)));
  for (size_t i = 0; i < kids.size(); ++i) {
    TSNode a = unparen(kids[i]);
    std::string_view t = node_type(a);
    if (is_function_node(t)) {
      Callback cb;
      cb.begin = node_begin(a);
      cb.end = node_end(a);
      cb.fn = a;
      TSNode name = child_by_field(a, "name");
      if (!ts_node_is_null(name)) cb.name = std::string(tree_.text(name));
      cb.callee = callee_text;
      cb.line = pos.line;
      cb.type = callee->type;
      cb.params = params_of(a);
      callbacks_.push_back(std::move(cb));
      continue;
    }
    // Literals, option objects and arrays are data, not callbacks.
    static const std::unordered_set<std::string_view> kData = {
        "string", "template_string", "number", "true", "false", "null", "undefined", "regex", "object", "array"};
    if (kData.count(t)) continue;
    if (any_in_situ && !is_function_binding_ref(a)) continue;
    if (!reason.empty()) reason += "; ";
    reason += "argument " + std::to_string(i + 1) + " is not a function written in place (" + describe_arg(a) + ")";
  }
  if (!any_in_situ && reason.empty()) reason = "no function argument";
  if (!reason.empty()) skipped.push_back(Skipped{callee_text, pos.line, pos.column, reason});
}

void Compiler::walk(TSNode n) {
  std::string_view t = node_type(n);
  if (t == "shorthand_property_identifier" || t == "shorthand_property_identifier_pattern") {
    shorthands_.push_back(node_begin(n));
  } else if (t == "call_expression") {
    if (auto m = require_module(n)) {
      if (std::find(requires_.begin(), requires_.end(), *m) == requires_.end()) requires_.push_back(*m);
    }
    note_call_roles(n);
    visit_call(n);
  } else if (t == "new_expression") {
    note_call_roles(n);
  }
  for_each_named_child(n, [this](TSNode c) { walk(c); });
}

void Compiler::note_call_roles(TSNode call) {
  const bool is_new = node_type(call) == "new_expression";
  TSNode fn = unparen(child_by_field(call, is_new ? "constructor" : "function"));
  TSNode args = child_by_field(call, "arguments");
  if (ts_node_is_null(fn)) return;
  if (!ts_node_is_null(args) && node_type(args) == "arguments") {
    auto kids = named_children(args);
    for (size_t i = 0; i < kids.size(); ++i) {
      TSNode a = unparen(kids[i]);
      if (node_type(a) == "spread_element" && ts_node_named_child_count(a) > 0) a = unparen(ts_node_named_child(a, 0));
      if (node_type(a) == "identifier") args_[node_begin(a)] = ArgUse{fn, i};
    }
  }
  if (is_new || node_type(fn) != "member_expression") return;
  TSNode prop = child_by_field(fn, "property");
  if (ts_node_is_null(prop)) return;
  std::string_view method = tree_.text(prop);
  TSNode obj = member_base(child_by_field(fn, "object"), true);
  if (!ts_node_is_null(obj) && node_type(obj) == "identifier") receivers_[node_begin(obj)] = method;
}

// The variable an identifier node refers to, -1 when it is not a reference.
int32_t Compiler::var_of_ref_node(TSNode ident) const {
  int32_t r = ref_at(node_begin(ident));
  if (r < 0) return -1;
  const Reference& ref = s_.refs[static_cast<size_t>(r)];
  if (ref.binding >= 0) return var_of_binding_[static_cast<size_t>(ref.binding)];
  auto it = var_of_global_.find(ref.name);
  return it == var_of_global_.end() ? -1 : it->second;
}

// `String(v)`, `JSON.stringify(v)`, `console.log(v)`, `Math.max(..v)`: a global builtin that
// neither keeps nor changes its argument. Object/Reflect mutators (assign, defineProperty,
// defineProperties, setPrototypeOf, freeze, seal, preventExtensions, set, deleteProperty) change
// their first argument; `f.call(v, ..)` / `f.apply(v, ..)` hand v to f as `this`.
bool Compiler::pure_builtin_callee(TSNode callee, size_t index) const {
  static const std::unordered_set<std::string_view> mutators = {
      "assign", "defineProperty", "defineProperties", "setPrototypeOf", "freeze", "seal", "preventExtensions",
      "set", "deleteProperty", "apply", "construct"};
  TSNode base = callee;
  std::string_view method;
  if (node_type(callee) == "member_expression") {
    TSNode prop = child_by_field(callee, "property");
    method = ts_node_is_null(prop) ? std::string_view{} : tree_.text(prop);
    if (method == "call" || method == "apply") return false;
    base = member_base(child_by_field(callee, "object"));
  }
  if (ts_node_is_null(base) || node_type(base) != "identifier") return false;
  int32_t r = ref_at(node_begin(base));
  if (r < 0 || s_.refs[static_cast<size_t>(r)].binding >= 0) return false;
  std::string_view name = tree_.text(base);
  if (!builtins().count(name)) return false;
  if ((name == "Object" || name == "Reflect") && index == 0 && mutators.count(method)) return false;
  return true;
}

// A `const` initialised by an expression that always yields a primitive (a literal, a template,
// arithmetic, `Number(..)`/`String(..)`/`parseInt(..)`…) cannot be changed through any call:
// primitives are immutable, so handing one to a helper (`burn(seed, ROUNDS)`) is a read.
bool Compiler::immutable_primitive(int32_t binding) const {
  if (binding < 0) return false;
  const Binding& bd = s_.bindings[static_cast<size_t>(binding)];
  if (bd.kind != BindingKind::kConst) return false;
  TSNode init = binding_init(binding);
  if (ts_node_is_null(init)) return false;
  std::string_view t = node_type(init);
  if (t == "number" || t == "string" || t == "template_string" || t == "true" || t == "false" || t == "null") return true;
  if (t == "unary_expression" || t == "update_expression") return true;
  if (t == "binary_expression") {
    TSNode op = child_by_field(init, "operator");
    std::string_view o = ts_node_is_null(op) ? std::string_view() : tree_.text(op);
    return o != "||" && o != "&&" && o != "??";  // logical operators return an operand
  }
  if (t == "call_expression") {
    TSNode fn = unparen(child_by_field(init, "function"));
    if (ts_node_is_null(fn) || node_type(fn) != "identifier") return false;
    int32_t r = ref_at(node_begin(fn));
    if (r < 0 || s_.refs[static_cast<size_t>(r)].binding >= 0) return false;  // shadowed
    static const std::unordered_set<std::string_view> kToPrimitive = {"Number", "String", "Boolean", "parseInt",
                                                                      "parseFloat", "BigInt", "Symbol"};
    return kToPrimitive.count(tree_.text(fn)) > 0;
  }
  return false;
}

// Item W for a persistent argument: the callee may change it unless it is a pure builtin, a
// method of a per-request value (`res.send(v)`), or a function of a Node core module.
bool Compiler::argument_mutated(const ArgUse& a) const {
  if (pure_builtin_callee(a.callee, a.index)) return false;
  if (node_type(a.callee) != "member_expression") return true;
  TSNode prop = child_by_field(a.callee, "property");
  if (!ts_node_is_null(prop) && (tree_.text(prop) == "call" || tree_.text(prop) == "apply")) return a.index == 0;
  TSNode base = member_base(child_by_field(a.callee, "object"));
  if (ts_node_is_null(base) || node_type(base) != "identifier") return true;
  int32_t vi = var_of_ref_node(base);
  if (vi < 0) return true;
  const VarRec& bv = vars_[static_cast<size_t>(vi)];
  if (!bv.persistent && !bv.builtin) return false;
  if (bv.import && bv.binding >= 0) {
    if (auto m = import_module(binding_init(bv.binding)); m && core_module(*m)) return false;
  }
  return true;
}

// The innermost fluxion whose code (callback node) contains `offset`; main otherwise.
int Compiler::fluxion_at(uint32_t offset) const {
  auto it = std::upper_bound(callbacks_.begin(), callbacks_.end(), offset,
                             [](uint32_t at, const Callback& c) { return at < c.begin; });
  if (it == callbacks_.begin()) return 0;
  int f = static_cast<int>(it - callbacks_.begin());  // fluxion index of the last callback starting ≤ offset
  while (f > 0) {
    const Callback& c = callbacks_[static_cast<size_t>(f - 1)];
    if (offset >= c.begin && offset < c.end) return f;
    f = parent_[static_cast<size_t>(f)];
  }
  return 0;
}

void Compiler::build_fluxions() {
  std::sort(callbacks_.begin(), callbacks_.end(), [](const Callback& a, const Callback& b) { return a.begin < b.begin; });
  // The same function node can only be an argument of one call; drop exact duplicates anyway.
  callbacks_.erase(std::unique(callbacks_.begin(), callbacks_.end(),
                               [](const Callback& a, const Callback& b) { return a.begin == b.begin; }),
                   callbacks_.end());
  const size_t n = callbacks_.size() + 1;
  parent_.assign(n, 0);
  parent_[0] = -1;
  std::vector<int> stack;  // open callbacks (fluxion indices)
  for (size_t i = 0; i < callbacks_.size(); ++i) {
    const Callback& c = callbacks_[i];
    while (!stack.empty() && callbacks_[static_cast<size_t>(stack.back() - 1)].end <= c.begin) stack.pop_back();
    parent_[i + 1] = stack.empty() ? 0 : stack.back();
    callbacks_[i].parent = parent_[i + 1];
    stack.push_back(static_cast<int>(i + 1));
  }
  children_.assign(n, {});
  for (size_t f = 1; f < n; ++f) children_[static_cast<size_t>(parent_[f])].push_back(f);

  fluxions.resize(n);
  std::unordered_set<std::string> used = {"main"};
  fluxions[0].model.id = "main";
  fluxions[0].root = true;
  fluxions[0].begin = 0;
  fluxions[0].end = static_cast<uint32_t>(tree_.source().size());
  int anonymous = 0;
  for (size_t i = 0; i < callbacks_.size(); ++i) {
    const Callback& c = callbacks_[i];
    // Fluxion ids are ASCII identifiers (flux::is_identifier): other names count as anonymous.
    std::string base = c.name.empty() || !flux::is_identifier(c.name) ? "anonymous_" + std::to_string(1000 + anonymous++)
                                                                       : c.name;
    std::string id = base;
    for (int k = 2; used.count(id); ++k) id = base + "_" + std::to_string(k);
    used.insert(id);
    CompiledFluxion& f = fluxions[i + 1];
    f.model.id = id;
    f.begin = c.begin;
    f.end = c.end;
    f.params = c.params;
    f.callee = c.callee;
    f.line = c.line;
    f.type = c.type;
  }
  for (size_t f = 1; f < n; ++f) fluxions[f].parent = fluxions[static_cast<size_t>(parent_[f])].model.id;
}

bool Compiler::persistent_scope(uint32_t scope) const {
  for (int32_t sc = static_cast<int32_t>(scope); sc >= 0; sc = s_.scopes[static_cast<size_t>(sc)].parent) {
    ScopeKind k = s_.scopes[static_cast<size_t>(sc)].kind;
    if (k == ScopeKind::kFunction || k == ScopeKind::kFunctionName) return false;
    if (k == ScopeKind::kModule) return true;
  }
  return true;
}

// `require('M')` or `require('M').p…` (research §6.6).
// The module of an import's initializer: `require('M')` or `require('M').p.q` → "M".
std::optional<std::string> Compiler::import_module(TSNode init) const {
  init = member_base(init);
  if (ts_node_is_null(init)) return std::nullopt;
  return require_module(init);
}

void Compiler::collect_uses() {
  var_of_binding_.assign(s_.bindings.size(), -1);
  // Start listeners' parameters belong to the fluxion that makes the start call (research §6.5).
  std::unordered_map<uint64_t, int> start_fn;  // function node range → fluxion
  for (size_t i = 0; i < callbacks_.size(); ++i) {
    if (callbacks_[i].type == StreamType::kStart) {
      start_fn[(uint64_t{callbacks_[i].begin} << 32) | callbacks_[i].end] = static_cast<int>(i + 1);
    }
  }
  for (size_t b = 0; b < s_.bindings.size(); ++b) {
    const Binding& bd = s_.bindings[b];
    VarRec v;
    v.name = bd.name;
    v.binding = static_cast<int32_t>(b);
    v.persistent = persistent_scope(bd.scope);
    // A block-scoped binding of a nested module-level block (`for (let j ..)`, `{ let x }`) is a
    // fresh binding per iteration / entry: per-request (carried by value), not a shared global.
    if (v.persistent && (bd.kind == BindingKind::kLet || bd.kind == BindingKind::kConst ||
                         bd.kind == BindingKind::kCatchParam)) {
      ScopeKind k = s_.scopes[bd.scope].kind;
      if (k == ScopeKind::kBlock || k == ScopeKind::kFor || k == ScopeKind::kSwitch || k == ScopeKind::kCatch) {
        v.persistent = false;
      }
    }
    v.param = bd.kind == BindingKind::kParam;
    v.owner = fluxion_at(bd.decl_begin);
    if (bd.kind == BindingKind::kParam && v.owner > 0) {
      const Scope& sc = s_.scopes[bd.scope];
      auto it = start_fn.find((uint64_t{sc.begin} << 32) | sc.end);
      if (it != start_fn.end() && it->second == v.owner) v.owner = parent_[static_cast<size_t>(v.owner)];
    }
    if ((bd.kind == BindingKind::kVar || bd.kind == BindingKind::kLet || bd.kind == BindingKind::kConst) &&
        !binding_rebound(static_cast<int32_t>(b))) {
      TSNode init = binding_init(static_cast<int32_t>(b));
      if (!ts_node_is_null(init)) {
        v.import = import_module(init).has_value();
        std::string_view t = node_type(init);
        if (is_function_node(t) || t == "class") {
          v.function_valued = true;
          v.fn_begin = node_begin(init);
          v.fn_end = node_end(init);
        } else if (t == "new_expression") {
          TSNode ctor = unparen(child_by_field(init, "constructor"));
          bool clonable = !ts_node_is_null(ctor) && node_type(ctor) == "identifier" &&
                          clonable_constructor(tree_.text(ctor)) && is_global_ref(ctor, tree_.text(ctor));
          v.pinned_object = !clonable;
        }
      }
    } else if (bd.kind == BindingKind::kFunction || bd.kind == BindingKind::kClass) {
      if (!binding_rebound(static_cast<int32_t>(b))) {
        v.function_valued = true;
        v.fn_begin = bd.node_begin;
        v.fn_end = bd.node_end;
      }
    }
    var_of_binding_[b] = static_cast<int32_t>(vars_.size());
    vars_.push_back(std::move(v));
  }
  for (size_t r = 0; r < s_.refs.size(); ++r) {
    const Reference& ref = s_.refs[r];
    int32_t vi;
    if (ref.binding >= 0) {
      vi = var_of_binding_[static_cast<size_t>(ref.binding)];
    } else {
      auto it = var_of_global_.find(ref.name);
      if (it == var_of_global_.end()) {
        VarRec v;
        v.name = ref.name;
        v.builtin = builtins().count(ref.name) > 0;
        v.persistent = true;
        v.owner = -1;
        it = var_of_global_.emplace(ref.name, static_cast<int32_t>(vars_.size())).first;
        vars_.push_back(std::move(v));
      }
      vi = it->second;
    }
    VarRec& v = vars_[static_cast<size_t>(vi)];
    if (ref.init && ref.binding >= 0 && ref.begin == s_.bindings[static_cast<size_t>(ref.binding)].decl_begin) {
      v.decl_ref = static_cast<int32_t>(r);
      continue;
    }
    int f = fluxion_at(ref.begin);
    v.refs.push_back(static_cast<uint32_t>(r));
    auto [it, fresh] = v.uses.try_emplace(f);
    if (fresh) {
      it->second.fluxion = f;
      it->second.first_ref = ref.begin;
    }
    bool writes = ref.rebind || ref.init;
    if (ref.member_mutate) {
      // `v.trim()`, `m.get(k)`: a method that never mutates its receiver reads it.
      auto rc = receivers_.find(ref.begin);
      writes = writes || rc == receivers_.end() || !non_mutating_method(rc->second);
    }
    auto arg = args_.find(ref.begin);
    if (arg != args_.end()) {
      // A persistent object handed to a function that may change it (`Object.assign(o, ..)`,
      // `helper(o)`, `f.call(o)`) is written by this user (research §6.7 W).
      if (v.persistent && !v.function_valued && !immutable_primitive(v.binding) && argument_mutated(arg->second)) {
        writes = true;
      }
      // A per-request parameter handed on (`sendJson(res, ..)`, `s.pipe(res)`) escapes.
      if (!v.persistent && v.param && !pure_builtin_callee(arg->second.callee, arg->second.index)) {
        it->second.escapes = true;
      }
    }
    if (ref.call && !v.persistent) it->second.escapes = true;  // `next()`, `cb(null, x)`
    if (writes) it->second.writes = true;
  }
}

// A function-valued persistent variable is copyable when its free names are imports, builtins
// or copyable functions (greatest fixpoint, so mutual recursion stays copyable).
void Compiler::find_copyable_functions() {
  std::vector<size_t> candidates;
  for (size_t i = 0; i < vars_.size(); ++i) {
    if (vars_[i].function_valued && vars_[i].persistent) {
      vars_[i].copyable = true;
      candidates.push_back(i);
    }
  }
  std::vector<std::vector<int32_t>> deps(vars_.size());
  for (size_t i : candidates) {
    VarRec& v = vars_[i];
    auto lo = std::lower_bound(s_.refs.begin(), s_.refs.end(), v.fn_begin,
                               [](const Reference& r, uint32_t b) { return r.begin < b; });
    for (auto it = lo; it != s_.refs.end() && it->begin < v.fn_end; ++it) {
      int32_t dep;
      if (it->binding >= 0) {
        const Binding& bd = s_.bindings[static_cast<size_t>(it->binding)];
        if (bd.decl_begin >= v.fn_begin && bd.decl_begin < v.fn_end) continue;  // its own local
        dep = var_of_binding_[static_cast<size_t>(it->binding)];
      } else {
        dep = var_of_global_.at(it->name);
      }
      if (dep == static_cast<int32_t>(i)) continue;
      const VarRec& d = vars_[static_cast<size_t>(dep)];
      if (d.builtin || d.import) continue;
      if (!d.function_valued || !d.persistent) {
        v.copyable = false;
        break;
      }
      deps[i].push_back(dep);
    }
  }
  // Propagate "not copyable" backwards along the dependencies (a worklist: linear).
  std::vector<std::vector<size_t>> users_of(vars_.size());
  std::vector<size_t> work;
  for (size_t i : candidates) {
    for (int32_t d : deps[i]) users_of[static_cast<size_t>(d)].push_back(i);
    if (!vars_[i].copyable) work.push_back(i);
  }
  while (!work.empty()) {
    size_t d = work.back();
    work.pop_back();
    for (size_t u : users_of[d]) {
      if (vars_[u].copyable) {
        vars_[u].copyable = false;
        work.push_back(u);
      }
    }
  }
}

void Compiler::place_all() {
  std::vector<detail::PlaceVar> pv;
  std::vector<detail::Placement> pl;
  for (VarRec& v : vars_) {
    if (v.builtin) {
      v.placement.cls = VarClass::kBuiltin;
    } else if (v.import) {
      v.placement.cls = VarClass::kImport;
    } else {
      detail::PlaceVar p;
      p.name = v.name;
      p.persistent = v.persistent;
      p.owner = v.owner < 0 ? 0 : v.owner;
      for (auto& [f, u] : v.uses) p.uses.push_back(u);
      p.pinned_function = (v.function_valued && v.persistent && !v.copyable) || (v.persistent && v.pinned_object);
      v.placement = detail::place(parent_, p);
      pv.push_back(std::move(p));
      pl.push_back(v.placement);
      continue;
    }
    for (auto& [f, u] : v.uses) {
      v.placement.users.push_back(f);
      if (u.writes) v.placement.writers.push_back(f);
    }
  }
  placed_ = detail::assemble(parent_, pv, pl);
  // A per-request value tagged for being called / passed on (assemble) reports its tag too.
  for (VarRec& v : vars_) {
    detail::Placement& p = v.placement;
    if (p.escapers.empty() || !p.tag.empty()) continue;
    const std::string tag = "grp_" + v.name;
    const auto& owner_tags = placed_[static_cast<size_t>(p.owner)].tags;
    if (std::binary_search(owner_tags.begin(), owner_tags.end(), tag)) p.tag = tag;
  }
}

// A fluxion's code: its node's text with each direct child callback replaced by its stream
// placeholder, "\r\n" and a lone "\r" as "\n", and the lines after the first dedented by their
// common indent.
std::string Compiler::body_of(size_t f) const {
  const CompiledFluxion& fx = fluxions[f];
  std::string raw;
  uint32_t at = fx.begin;
  for (size_t c : children_[f]) {
    const CompiledFluxion& child = fluxions[c];
    raw += tree_.text(at, child.begin);
    raw += std::string(flux::stream_arrow(child.type)) + " " + child.model.id;
    at = child.end;
  }
  raw += tree_.text(at, fx.end);
  std::string text;
  text.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\r') {
      text += raw[i];
    } else if (i + 1 >= raw.size() || raw[i + 1] != '\n') {
      text += '\n';  // a lone CR ends a line in JavaScript too
    }
  }
  // Trailing blank lines are not part of a canonical body (flux::write_text drops them).
  auto trim_end = [](std::string& s) {
    size_t keep = s.size();
    for (size_t i = s.size(); i > 0; --i) {
      char ch = s[i - 1];
      if (ch == '\n') keep = i - 1;
      else if (ch != ' ' && ch != '\t') break;
    }
    s.resize(keep);
  };
  if (fx.root) {
    trim_end(text);
    return text;
  }
  std::vector<std::string_view> lines;
  for (size_t start = 0;;) {
    size_t nl = text.find('\n', start);
    lines.emplace_back(std::string_view(text).substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  size_t indent = SIZE_MAX;
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t k = lines[i].find_first_not_of(" \t");
    if (k != std::string_view::npos) indent = std::min(indent, k);
  }
  if (indent == SIZE_MAX) indent = 0;
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += '\n';
    std::string_view l = lines[i];
    if (i > 0) l = l.substr(std::min(indent, l.find_first_not_of(" \t") == std::string_view::npos ? l.size() : indent));
    out += l;
  }
  trim_end(out);
  return out;
}

void Compiler::build_outputs() {
  const size_t n = fluxions.size();
  // Streams and placeholders: one stream per callback, in source order.
  for (size_t c = 1; c < n; ++c) {
    CompiledFluxion& parent = fluxions[static_cast<size_t>(parent_[c])];
    flux::Stream st;
    st.type = fluxions[c].type;
    st.dest = {fluxions[c].model.id};
    st.vars = placed_[c].in_vars;
    parent.placeholders.push_back(Placeholder{fluxions[c].begin, fluxions[c].end, parent.model.streams.size()});
    parent.model.streams.push_back(std::move(st));
  }
  for (size_t f = 0; f < n; ++f) {
    fluxions[f].model.tags = placed_[f].tags;
    fluxions[f].model.ctx = placed_[f].ctx;
    fluxions[f].model.body = body_of(f);
  }
  // Variables: every name that is not a per-request local, sorted by (name, declaration).
  std::vector<size_t> order;
  for (size_t i = 0; i < vars_.size(); ++i) {
    const VarRec& v = vars_[i];
    if (v.placement.cls == VarClass::kLocal && !v.persistent) continue;
    if (v.binding < 0 && v.uses.empty()) continue;
    order.push_back(i);
  }
  auto decl_of = [&](const VarRec& v) -> uint32_t {
    return v.binding < 0 ? 0 : s_.bindings[static_cast<size_t>(v.binding)].decl_begin + 1;
  };
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const VarRec& x = vars_[a];
    const VarRec& y = vars_[b];
    if (x.name != y.name) return x.name < y.name;
    return decl_of(x) < decl_of(y);
  });
  auto id_of = [&](int f) { return fluxions[static_cast<size_t>(f)].model.id; };
  for (size_t i : order) {
    VarRec& v = vars_[i];
    v.index = static_cast<int32_t>(variables.size());
    Variable out;
    out.name = v.name;
    out.cls = v.placement.cls;
    out.binding = v.binding;
    out.persistent = v.persistent;
    out.owner = v.owner < 0 ? "" : id_of(v.owner);
    for (int f : v.placement.users) out.users.push_back(id_of(f));
    for (int f : v.placement.writers) out.writers.push_back(id_of(f));
    out.tag = v.placement.tag;
    if (v.placement.cls == VarClass::kStream) {
      for (int f : v.placement.path) out.path.push_back(id_of(f));
    }
    out.copyable_function = v.function_valued && v.persistent && v.copyable;
    variables.push_back(std::move(out));
  }
  // Placed references: every use of a ctx, stream or share variable or an import inside a
  // fluxion's own code, plus the declaring identifier in its owner.
  auto placed = [](const VarRec& v) {
    VarClass c = v.placement.cls;
    return v.index >= 0 && (c == VarClass::kScope || c == VarClass::kStream || c == VarClass::kShare ||
                            c == VarClass::kImport);
  };
  auto shorthand = [&](uint32_t b, uint32_t) { return is_shorthand(b); };
  for (const VarRec& v : vars_) {
    if (!placed(v)) continue;
    for (uint32_t r : v.refs) {
      const Reference& ref = s_.refs[r];
      PlacedRef pr{ref.begin, ref.end, static_cast<size_t>(v.index), shorthand(ref.begin, ref.end), ref.init};
      fluxions[static_cast<size_t>(fluxion_at(ref.begin))].refs.push_back(pr);
    }
    if (v.binding < 0) continue;
    const Binding& bd = s_.bindings[static_cast<size_t>(v.binding)];
    bool declares = bd.kind == BindingKind::kVar || bd.kind == BindingKind::kLet || bd.kind == BindingKind::kConst ||
                    bd.kind == BindingKind::kFunction || bd.kind == BindingKind::kClass;
    if (!declares || fluxion_at(bd.decl_begin) != v.owner) continue;
    PlacedRef pr{bd.decl_begin, bd.decl_end, static_cast<size_t>(v.index), shorthand(bd.decl_begin, bd.decl_end), true};
    fluxions[static_cast<size_t>(v.owner)].refs.push_back(pr);
  }
  for (size_t f = 0; f < n; ++f) {
    auto& refs = fluxions[f].refs;
    std::sort(refs.begin(), refs.end(), [](const PlacedRef& a, const PlacedRef& b) { return a.begin < b.begin; });
    refs.erase(std::unique(refs.begin(), refs.end(), [](const PlacedRef& a, const PlacedRef& b) { return a.begin == b.begin; }),
               refs.end());
  }
  // Replicable: untagged, not main, and no ctx variable is ever written.
  std::vector<bool> written_ctx(n, false);
  for (const VarRec& v : vars_) {
    if (v.placement.writers.empty()) continue;
    for (int c : v.placement.ctx) written_ctx[static_cast<size_t>(c)] = true;
  }
  for (size_t f = 1; f < n; ++f) fluxions[f].replicable = fluxions[f].model.tags.empty() && !written_ctx[f];
}

// Placed names end up in the fluxional text, whose identifiers are ASCII.
Status Compiler::check_names() const {
  for (const VarRec& v : vars_) {
    VarClass c = v.placement.cls;
    if (c != VarClass::kScope && c != VarClass::kStream && c != VarClass::kShare) continue;
    if (flux::is_identifier(v.name)) continue;
    uint32_t at = v.refs.empty() ? 0 : s_.refs[v.refs[0]].begin;
    return Status::invalid_argument(location_prefix(tree_, at) + "the name '" + v.name +
                                    "' is placed in a context or a message, and fluxional text only holds ASCII "
                                    "identifiers ([A-Za-z_$][A-Za-z0-9_$]*)");
  }
  return Status();
}

// Fluxional text refuses a tag, ctx or stream-variable list longer than flux::kMaxNamesPerList
// on read-back: refuse to produce one (located at the fluxion's callback, exit 1).
Status Compiler::check_list_sizes() const {
  for (size_t f = 0; f < placed_.size(); ++f) {
    const detail::PlacedFluxion& p = placed_[f];
    const char* what = nullptr;
    size_t n = 0;
    if (p.ctx.size() > flux::kMaxNamesPerList) {
      what = "ctx";
      n = p.ctx.size();
    } else if (p.in_vars.size() > flux::kMaxNamesPerList) {
      what = "incoming stream variable";
      n = p.in_vars.size();
    } else if (p.tags.size() > flux::kMaxNamesPerList) {
      what = "tag";
      n = p.tags.size();
    }
    if (what == nullptr) continue;
    uint32_t at = f == 0 ? 0 : callbacks_[f - 1].begin;
    return Status::invalid_argument(location_prefix(tree_, at) + "fluxion '" + fluxions[f].model.id + "' would have " +
                                    std::to_string(n) + " " + what + " names (the fluxional text allows at most " +
                                    std::to_string(flux::kMaxNamesPerList) + ")");
  }
  return Status();
}

Status Compiler::run() {
  rebound_.assign(s_.bindings.size(), false);
  for (const Reference& r : s_.refs) {
    if (r.binding >= 0 && r.rebind) rebound_[static_cast<size_t>(r.binding)] = true;
  }
  prov_state_.assign(s_.bindings.size(), 0);
  prov_memo_.assign(s_.bindings.size(), std::nullopt);
  walk(tree_.root());
  std::sort(shorthands_.begin(), shorthands_.end());
  build_fluxions();
  collect_uses();
  find_copyable_functions();
  place_all();
  CHIRON_RETURN_IF_ERROR(check_list_sizes());
  CHIRON_RETURN_IF_ERROR(check_names());
  build_outputs();
  return Status();
}

}  // namespace

std::string_view var_class_name(VarClass c) {
  switch (c) {
    case VarClass::kScope: return "scope";
    case VarClass::kStream: return "stream";
    case VarClass::kShare: return "share";
    case VarClass::kLocal: return "local";
    case VarClass::kImport: return "import";
    case VarClass::kBuiltin: return "builtin";
  }
  return "local";
}

flux::Program Compilation::program() const {
  flux::Program p;
  p.fluxions.reserve(fluxions.size());
  for (const CompiledFluxion& f : fluxions) p.fluxions.push_back(f.model);
  return p;
}

Result<Compilation> compile(std::string source, const CompileOptions& options) {
  auto tree = SyntaxTree::parse(std::move(source), options.filename);
  if (!tree.ok()) return std::move(tree).status();
  auto scopes = analyze_scopes(*tree);
  if (!scopes.ok()) return std::move(scopes).status();
  Compiler c(*tree, *scopes, options);
  CHIRON_RETURN_IF_ERROR(c.run());
  Compilation out{options.filename,   std::move(*tree),      std::move(*scopes), std::move(c.fluxions),
                  std::move(c.variables), std::move(c.requires_), std::move(c.skipped)};
  return out;
}

}  // namespace chiron::fluxc
