// The emitter (emit.h; research §7; docs/fluxc.md "Running compiled apps"). Code is produced
// by slicing the original source and applying non-overlapping edits:
//   - each nested callback → a placeholder `function (__flx_0, …) { return rt.send("dest",
//     arguments, {get v() {…}, set v(x) {…}}); }` that keeps the callback's arity (express
//     tells error handlers by it) while the asynchronous call itself stays upstream;
//   - a reference to a variable in the fluxion's ctx → `ctx.v` (shorthand `{v}` → `v: ctx.v`);
//   - a reference to a variable carried on the fluxion's incoming edge → `msg.vars.v`. The
//     vars object of a same-thread message holds accessors onto the sender's binding, so a
//     downstream rebind (a per-request variable tagged grp_<v>) is seen upstream, like the
//     closure it replaces; across threads the accessors are read once (structured clone);
//   - in main, each persistent variable held in some ctx records its initial value in main's
//     ctx: `count = 0` → `count = (ctx.count = 0)`, a function declaration adds `ctx.f = f;`
//     at the top. The runtime snapshots main's ctx after main's synchronous run to initialise
//     the workers' ctxs.
// Imports (`require('M')`, `require('M').p`) are re-declared in each module with a require()
// created for the original file (createRequire), __filename/__dirname are pinned to it, and
// copyable functions (Variable::copyable_function) are copied as source into the modules that
// use them. Unresolved globals stay globals. `ctx`, `rt` and `msg` become `__flx_ctx` … when
// the program itself uses those names.

#include "fluxc/emit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <numeric>
#include <set>
#include <system_error>
#include <unordered_map>
#include <unordered_set>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>

#include "common/strings.h"
#include "fluxc/flx_runtime_js.h"

namespace chiron::fluxc {
namespace {

namespace fs = std::filesystem;

// A JS string literal (JSON), with U+2028/U+2029 escaped too, so that it stays one line of
// code and may also be pasted into a `//` comment.
std::string quote(std::string_view s) {
  std::string q = json_quote(s);
  std::string out;
  out.reserve(q.size());
  for (size_t i = 0; i < q.size(); ++i) {
    if (q[i] == '\xE2' && i + 2 < q.size() && q[i + 1] == '\x80' && (q[i + 2] == '\xA8' || q[i + 2] == '\xA9')) {
      out += q[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += q[i];
    }
  }
  return out;
}

struct Edit {
  uint32_t begin = 0, end = 0;
  std::string text;
};

// Names the generated code introduces. `prefix` starts no name of the program, so the
// placeholder parameters (prefix + "0", …) and the setter parameter (prefix + "x") capture
// nothing; ctx/rt/msg keep their short names unless the program uses them.
struct Names {
  std::string ctx = "ctx", rt = "rt", msg = "msg";
  std::string prefix = "__flx_";
};

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Groups: connected components of "shares a tag"; main's component runs on the main thread,
// replicable fluxions on the pool, every other component on its own worker.
struct Group {
  std::string name, thread;
  std::vector<std::string> tags, fluxions, ctx;
};

class Emitter {
 public:
  Emitter(const Compilation& c, const EmitOptions& o) : c_(c), original_(o.original) {}

  Status run(const fs::path& outdir);

 private:
  void choose_names();
  void build_groups();
  void index_bindings();
  void index_fluxions();
  const CompiledFluxion* fluxion(std::string_view id) const;
  size_t index_of(const CompiledFluxion& f) const { return static_cast<size_t>(&f - c_.fluxions.data()); }
  size_t arity(const CompiledFluxion& f) const;
  std::string var_expr(const CompiledFluxion& f, const std::string& name) const;
  std::string placeholder(const CompiledFluxion& f, const Placeholder& p) const;
  std::string apply_edits(uint32_t begin, uint32_t end, std::vector<Edit> edits) const;
  std::vector<Edit> edits_for(const CompiledFluxion& f) const;
  // Module-level bindings referenced in [begin, end) outside `skip` ranges.
  std::vector<int32_t> module_refs(uint32_t begin, uint32_t end, const std::vector<Placeholder>& skip) const;
  void collect_support(const CompiledFluxion& f, std::vector<size_t>& imports, std::vector<size_t>& functions) const;
  std::string module_header() const;
  std::string emit_module(const CompiledFluxion& f) const;
  std::string placement_json() const;
  bool strict() const;

  const Compilation& c_;
  fs::path original_;
  Names n_;
  std::vector<Group> groups_;
  std::map<std::string, size_t> group_of_;       // fluxion id → index in groups_
  std::map<int32_t, size_t> var_by_binding_;     // binding id → index in c_.variables
  std::set<uint32_t> call_at_;                   // offsets of references that are plain calls
  std::unordered_map<std::string, size_t> by_id_;  // fluxion id → index in c_.fluxions
  // Per fluxion (index in c_.fluxions): names read through ctx, names carried on its incoming
  // edge (its own parameters excluded). Computed once: var_expr() runs per reference.
  std::vector<std::unordered_set<std::string>> ctx_names_, incoming_;
  std::unordered_set<std::string> copied_;       // persistent copyable functions (not in ctx)
  std::vector<size_t> refs_by_pos_;              // indices into c_.scopes.refs, by begin
};

void Emitter::choose_names() {
  std::set<std::string> used;
  // Names are as the engine sees them: scope analysis refuses identifiers with `\\` escapes.
  for (const auto& b : c_.scopes.bindings) used.insert(b.name);
  for (const auto& r : c_.scopes.refs) used.insert(r.name);
  // The shortest "__flx_", "__flx__", … that starts no name of the program.
  auto starts_some = [&](const std::string& p) {
    auto it = used.lower_bound(p);
    return it != used.end() && it->compare(0, p.size(), p) == 0;
  };
  while (starts_some(n_.prefix)) n_.prefix += '_';
  for (std::string* s : {&n_.ctx, &n_.rt, &n_.msg})
    if (used.count(*s)) *s = n_.prefix + *s;
}

void Emitter::index_fluxions() {
  const size_t n = c_.fluxions.size();
  for (size_t i = 0; i < n; ++i) by_id_.emplace(c_.fluxions[i].model.id, i);
  std::unordered_set<std::string> in_ctx;  // persistent, not copied: read through ctx
  for (const auto& v : c_.variables) {
    if (!v.persistent) continue;
    if (v.copyable_function) copied_.insert(v.name);
    else in_ctx.insert(v.name);
  }
  ctx_names_.resize(n);
  incoming_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const CompiledFluxion& f = c_.fluxions[i];
    for (const auto& v : f.model.ctx)
      if (in_ctx.count(v)) ctx_names_[i].insert(v);
    const CompiledFluxion* parent = f.parent.empty() ? nullptr : fluxion(f.parent);
    if (parent == nullptr) continue;
    std::unordered_set<std::string> params(f.params.begin(), f.params.end());
    for (const auto& s : parent->model.streams)
      if (contains(s.dest, f.model.id))
        for (const auto& v : s.vars)
          if (!params.count(v)) incoming_[i].insert(v);
  }
  refs_by_pos_.resize(c_.scopes.refs.size());
  std::iota(refs_by_pos_.begin(), refs_by_pos_.end(), size_t{0});
  std::stable_sort(refs_by_pos_.begin(), refs_by_pos_.end(),
                   [&](size_t a, size_t b) { return c_.scopes.refs[a].begin < c_.scopes.refs[b].begin; });
}

void Emitter::index_bindings() {
  for (size_t i = 0; i < c_.variables.size(); ++i)
    if (c_.variables[i].binding >= 0) var_by_binding_[c_.variables[i].binding] = i;
  for (const auto& r : c_.scopes.refs)
    if (r.call) call_at_.insert(r.begin);
}

const CompiledFluxion* Emitter::fluxion(std::string_view id) const {
  auto it = by_id_.find(std::string(id));
  return it == by_id_.end() ? nullptr : &c_.fluxions[it->second];
}

void Emitter::build_groups() {
  const size_t n = c_.fluxions.size();
  std::vector<size_t> parent(n);
  std::iota(parent.begin(), parent.end(), size_t{0});
  auto find = [&](size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  std::map<std::string, size_t> first_with_tag;
  for (size_t i = 0; i < n; ++i)
    for (const auto& t : c_.fluxions[i].model.tags) {
      auto [it, fresh] = first_with_tag.emplace(t, i);
      if (!fresh) parent[find(i)] = find(it->second);
    }
  std::map<size_t, size_t> by_root;  // component root → group index
  std::map<size_t, std::unordered_set<std::string>> ctx_seen;  // group index → its ctx names
  int workers = 0;
  for (size_t i = 0; i < n; ++i) {
    const CompiledFluxion& f = c_.fluxions[i];
    size_t root = find(i);
    bool pool = !f.root && f.replicable && f.model.tags.empty() && find(0) != root;
    size_t gi;
    if (pool) {
      auto it = std::find_if(groups_.begin(), groups_.end(), [](const Group& g) { return g.thread == "pool"; });
      if (it == groups_.end()) {
        groups_.push_back({"pool", "pool", {}, {}, {}});
        it = groups_.end() - 1;
      }
      gi = static_cast<size_t>(it - groups_.begin());
    } else if (auto it = by_root.find(root); it != by_root.end()) {
      gi = it->second;
    } else {
      Group g;
      if (root == find(0)) {
        g.name = "main";
        g.thread = "main";
      } else {
        g.name = f.model.tags.empty() ? "solo_" + f.model.id : f.model.tags.front();
        g.thread = "worker:" + std::to_string(++workers);
      }
      groups_.push_back(std::move(g));
      gi = by_root[root] = groups_.size() - 1;
    }
    Group& g = groups_[gi];
    g.fluxions.push_back(f.model.id);
    for (const auto& t : f.model.tags)
      if (!contains(g.tags, t)) g.tags.push_back(t);
    for (const auto& v : f.model.ctx)
      if (!copied_.count(v) && ctx_seen[gi].insert(v).second) g.ctx.push_back(v);
    group_of_[f.model.id] = gi;
  }
  // main's group first, whatever the order the fluxions came in.
  std::stable_partition(groups_.begin(), groups_.end(), [](const Group& g) { return g.thread == "main"; });
  for (size_t gi = 0; gi < groups_.size(); ++gi)
    for (const auto& id : groups_[gi].fluxions) group_of_[id] = gi;
  for (auto& g : groups_) std::sort(g.tags.begin(), g.tags.end());
}

// Function.length of the callback: parameters before the first default or rest.
size_t Emitter::arity(const CompiledFluxion& f) const {
  TSNode fn = c_.tree.node_at(f.begin, f.end);
  TSNode params = child_by_field(fn, "parameters");
  if (ts_node_is_null(params)) {
    TSNode one = child_by_field(fn, "parameter");
    return ts_node_is_null(one) ? f.params.size() : 1;
  }
  size_t n = 0;
  for (uint32_t i = 0; i < ts_node_named_child_count(params); ++i) {
    std::string_view t = node_type(ts_node_named_child(params, i));
    if (t == "comment") continue;
    if (t == "assignment_pattern" || t == "rest_pattern") break;
    ++n;
  }
  return n;
}

std::string Emitter::var_expr(const CompiledFluxion& f, const std::string& name) const {
  size_t i = index_of(f);
  if (ctx_names_[i].count(name)) return n_.ctx + "." + name;
  if (incoming_[i].count(name)) return n_.msg + ".vars." + name;
  return name;
}

std::string Emitter::placeholder(const CompiledFluxion& f, const Placeholder& p) const {
  const flux::Stream& s = f.model.streams.at(p.stream);
  const std::string& dest = s.dest.at(0);
  const CompiledFluxion* d = fluxion(dest);
  std::string params;
  size_t n = d ? arity(*d) : 0;
  for (size_t i = 0; i < n; ++i) params += (i ? ", " : "") + n_.prefix + std::to_string(i);
  std::string vars;
  for (const auto& v : s.vars) {
    if (d && contains(d->params, v)) continue;  // a listener's own parameter arrives in the args
    std::string e = var_expr(f, v);
    if (!vars.empty()) vars += ", ";
    const std::string x = n_.prefix + "x";
    vars += "get " + v + "() { return " + e + "; }, set " + v + "(" + x + ") { " + e + " = " + x + "; }";
  }
  return "function (" + params + ") { return " + n_.rt + ".send(" + quote(dest) + ", arguments, {" +
         (vars.empty() ? "" : " " + vars + " ") + "}); }";
}

std::vector<Edit> Emitter::edits_for(const CompiledFluxion& f) const {
  std::vector<Edit> edits;
  for (const auto& p : f.placeholders) edits.push_back({p.begin, p.end, placeholder(f, p)});
  for (const auto& r : f.refs) {
    if (r.declaration || r.variable >= c_.variables.size()) continue;
    const Variable& v = c_.variables[r.variable];
    if (v.binding < 0) continue;  // globals stay globals
    const Binding& b = c_.scopes.bindings.at(static_cast<size_t>(v.binding));
    if (b.decl_begin == r.begin) continue;
    // A binding declared inside this fluxion is its own (a shadowing local, or the owner's).
    bool own = b.decl_begin >= f.begin && b.decl_end <= f.end && !f.root;
    if (own) continue;
    std::string e = var_expr(f, v.name);
    if (e == v.name) continue;
    // `v()` stays a plain call: `ctx.v()` would call it with this = ctx.
    if (auto it = call_at_.find(r.begin); it != call_at_.end()) e = "(0, " + e + ")";
    edits.push_back({r.begin, r.end, r.shorthand ? v.name + ": " + e : e});
  }
  if (f.root) {
    // Initial values of persistent variables held in some ctx land in main's ctx.
    for (const auto& v : c_.variables) {
      if (!v.persistent || v.binding < 0 || v.copyable_function) continue;
      if (v.cls != VarClass::kScope && v.cls != VarClass::kStream && v.cls != VarClass::kShare) continue;
      const Binding& b = c_.scopes.bindings.at(static_cast<size_t>(v.binding));
      if (b.kind == BindingKind::kClass) {
        edits.push_back({b.node_end, b.node_end, "\n" + n_.ctx + "." + v.name + " = " + v.name + ";"});
      } else if (b.kind != BindingKind::kFunction && b.init_end > b.init_begin) {
        edits.push_back({b.init_begin, b.init_begin, "(" + n_.ctx + "." + v.name + " = "});
        edits.push_back({b.init_end, b.init_end, ")"});
      }
    }
  }
  return edits;
}

std::string Emitter::apply_edits(uint32_t begin, uint32_t end, std::vector<Edit> edits) const {
  std::stable_sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::string out;
  uint32_t at = begin;
  for (const Edit& e : edits) {
    if (e.begin < at || e.end > end) continue;  // overlapping or outside: keep the source
    out += c_.tree.text(at, e.begin);
    out += e.text;
    at = e.end;
  }
  out += c_.tree.text(at, end);
  return out;
}

// `skip` is in source order and non-overlapping (CompiledFluxion::placeholders): both lookups
// are binary searches, so the cost is the references inside [begin, end), not the whole file.
std::vector<int32_t> Emitter::module_refs(uint32_t begin, uint32_t end,
                                          const std::vector<Placeholder>& skip) const {
  std::vector<int32_t> out;
  std::unordered_set<int32_t> seen;
  auto first = std::lower_bound(refs_by_pos_.begin(), refs_by_pos_.end(), begin,
                                [&](size_t i, uint32_t at) { return c_.scopes.refs[i].begin < at; });
  for (auto it = first; it != refs_by_pos_.end() && c_.scopes.refs[*it].begin < end; ++it) {
    const auto& r = c_.scopes.refs[*it];
    if (r.end > end || r.binding < 0) continue;
    auto p = std::upper_bound(skip.begin(), skip.end(), r.begin,
                              [](uint32_t at, const Placeholder& x) { return at < x.begin; });
    if (p != skip.begin() && r.begin >= std::prev(p)->begin && r.end <= std::prev(p)->end) continue;
    if (c_.scopes.bindings.at(static_cast<size_t>(r.binding)).scope != 0) continue;
    if (seen.insert(r.binding).second) out.push_back(r.binding);
  }
  return out;
}

// Imports and copyable functions a non-root fluxion needs (transitively through the copies),
// as indices into c_.variables, in source order.
void Emitter::collect_support(const CompiledFluxion& f, std::vector<size_t>& imports,
                              std::vector<size_t>& functions) const {
  std::vector<int32_t> todo = module_refs(f.begin, f.end, f.placeholders);
  std::set<int32_t> seen;
  while (!todo.empty()) {
    int32_t b = todo.back();
    todo.pop_back();
    if (!seen.insert(b).second) continue;
    auto it = var_by_binding_.find(b);
    if (it == var_by_binding_.end()) continue;
    const Variable& v = c_.variables[it->second];
    if (v.cls == VarClass::kImport) {
      imports.push_back(it->second);
    } else if (v.copyable_function) {
      functions.push_back(it->second);
      const Binding& bd = c_.scopes.bindings.at(static_cast<size_t>(b));
      for (int32_t x : module_refs(bd.node_begin, bd.node_end, {})) todo.push_back(x);
    }
  }
  auto by_pos = [&](size_t a, size_t b) {
    return c_.scopes.bindings[static_cast<size_t>(c_.variables[a].binding)].node_begin <
           c_.scopes.bindings[static_cast<size_t>(c_.variables[b].binding)].node_begin;
  };
  std::sort(imports.begin(), imports.end(), by_pos);
  std::sort(functions.begin(), functions.end(), by_pos);
}

bool Emitter::strict() const {
  TSNode root = c_.tree.root();
  for (uint32_t i = 0; i < ts_node_named_child_count(root); ++i) {
    TSNode s = ts_node_named_child(root, i);
    std::string_view t = node_type(s);
    if (t == "comment" || t == "hash_bang_line") continue;
    if (t != "expression_statement") return false;
    std::string_view text = c_.tree.text(s);
    return text.rfind("'use strict'", 0) == 0 || text.rfind("\"use strict\"", 0) == 0;
  }
  return false;
}

std::string Emitter::module_header() const {
  std::string orig = original_.string();
  std::string out = strict() ? "'use strict';\n" : "";
  out += "var require = require('module').createRequire(" + quote(orig) + ");\n";
  out += "var __filename = " + quote(orig) + ", __dirname = " + quote(original_.parent_path().string()) + ";\n";
  return out;
}

std::string json_list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + quote(v[i]);
  return out + "]";
}

std::string Emitter::emit_module(const CompiledFluxion& f) const {
  const Group& g = groups_[group_of_.at(f.model.id)];
  std::string out = "// Fluxion " + f.model.id + " of " + quote(original_.filename().string()) +
                    ", generated by chiron fluxc; do not edit.\n" + module_header();
  std::string body;
  if (f.root) {
    uint32_t begin = 0;
    TSNode root = c_.tree.root();
    if (ts_node_named_child_count(root) > 0 && node_type(ts_node_named_child(root, 0)) == "hash_bang_line")
      begin = node_end(ts_node_named_child(root, 0));
    body += "var module = require.main || { exports: {} }, exports = module.exports;\n";
    for (const auto& v : c_.variables) {
      if (!v.persistent || v.binding < 0 || v.copyable_function) continue;
      if (v.cls != VarClass::kScope && v.cls != VarClass::kStream && v.cls != VarClass::kShare) continue;
      if (c_.scopes.bindings.at(static_cast<size_t>(v.binding)).kind == BindingKind::kFunction)
        body += n_.ctx + "." + v.name + " = " + v.name + ";\n";
    }
    body += apply_edits(begin, static_cast<uint32_t>(c_.tree.source().size()), edits_for(f));
    body += "\n";
  } else {
    std::vector<size_t> imports, functions;
    collect_support(f, imports, functions);
    for (size_t i : imports) {
      const Binding& b = c_.scopes.bindings.at(static_cast<size_t>(c_.variables[i].binding));
      out += "var " + std::string(c_.tree.text(b.node_begin, b.node_end)) + ";\n";
    }
    for (size_t i : functions) {
      const Binding& b = c_.scopes.bindings.at(static_cast<size_t>(c_.variables[i].binding));
      std::string src(c_.tree.text(b.node_begin, b.node_end));
      // Declarations are copied as they are (`var class Rec {}` would not parse); a
      // declarator (`f = function …`, `Rec = class …`) gets its `var`.
      bool declaration = b.kind == BindingKind::kFunction || b.kind == BindingKind::kClass;
      out += (declaration ? src : "var " + src + ";") + "\n";
    }
    body = "return (" + apply_edits(f.begin, f.end, edits_for(f)) + ").apply(undefined, " + n_.msg + ".args);\n";
  }
  out += "module.exports = {\n  id: " + quote(f.model.id) + ", tags: " + json_list(f.model.tags) +
         ", group: " + quote(g.name) + ", params: " + json_list(f.params) + ",\n  run: function (" + n_.msg + ", " +
         n_.ctx + ", " + n_.rt + ") {\n" + body + "}\n};\n";
  return out;
}

std::string Emitter::placement_json() const {
  boost::json::object doc;
  doc["version"] = 1;
  doc["source"] = original_.string();
  boost::json::object fl;
  for (const auto& f : c_.fluxions) {
    const Group& g = groups_[group_of_.at(f.model.id)];
    fl[f.model.id] = {{"group", g.name}, {"thread", g.thread}};
  }
  doc["fluxions"] = std::move(fl);
  boost::json::array gs;
  for (const auto& g : groups_) {
    gs.push_back(boost::json::object{{"name", g.name},
                                     {"thread", g.thread},
                                     {"tags", boost::json::value_from(g.tags)},
                                     {"fluxions", boost::json::value_from(g.fluxions)},
                                     {"ctx", boost::json::value_from(g.ctx)}});
  }
  doc["groups"] = std::move(gs);
  return boost::json::serialize(doc) + "\n";
}

constexpr const char* kMarker = ".fluxc-output";
constexpr std::string_view kMarkerText = "chiron fluxc output directory: rewritten by each `chiron fluxc -o`\n";

bool is_link(const fs::path& p) {
  std::error_code ec;
  return fs::is_symlink(fs::symlink_status(p, ec));
}

// Writes `data` to a fresh temporary file beside `p`, then renames it over `p`: a reader never
// sees half a file, and an existing `p` is replaced, never written through (a symlink there is
// refused before).
Status write_file(const fs::path& p, std::string_view data) {
  if (is_link(p)) return Status::failed_precondition(p.string() + ": is a symbolic link; refusing to write through it");
  fs::path tmp = p;
  tmp += ".tmp-" + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return Status::from_errno(tmp.string() + ": cannot create", errno);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::from_errno(tmp.string() + ": write error", err);
    }
    done += static_cast<size_t>(w);
  }
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Status::from_errno(tmp.string() + ": write error", err);
  }
  if (::rename(tmp.c_str(), p.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Status::from_errno(p.string() + ": cannot replace", err);
  }
  return Status();
}

// OUTDIR is either new, empty, or a previous output of ours (it holds the marker file): we never
// overwrite main.js / package.json of, or delete *.js in, a folder fluxc did not create.
Status prepare_outdir(const fs::path& outdir) {
  std::error_code ec;
  fs::file_status st = fs::status(outdir, ec);
  if (fs::exists(st)) {
    if (!fs::is_directory(st)) return Status::io_error(outdir.string() + ": exists and is not a directory");
    bool empty = fs::is_empty(outdir, ec);
    if (ec) return Status::io_error(outdir.string() + ": cannot read: " + ec.message());
    if (!empty) {
      fs::path marker = outdir / kMarker;
      if (is_link(marker) || !fs::is_regular_file(fs::status(marker, ec)))
        return Status::failed_precondition(outdir.string() +
                                           ": exists, is not empty and was not written by chiron fluxc (no " +
                                           kMarker + "); choose a new or empty directory");
    }
  } else {
    fs::create_directories(outdir, ec);
    if (ec) return Status::io_error(outdir.string() + ": cannot create: " + ec.message());
  }
  if (Status w = write_file(outdir / kMarker, kMarkerText); !w.ok()) return w;
  fs::path dir = outdir / "fluxions";
  fs::file_status ds = fs::symlink_status(dir, ec);
  if (fs::is_symlink(ds)) return Status::failed_precondition(dir.string() + ": is a symbolic link; refusing to write through it");
  if (fs::exists(ds) && !fs::is_directory(ds)) return Status::io_error(dir.string() + ": exists and is not a directory");
  if (!fs::exists(ds)) {
    fs::create_directory(dir, ec);
    if (ec) return Status::io_error(dir.string() + ": cannot create: " + ec.message());
  }
  // Stale modules of an earlier run (the directory is ours and not a link: removing a link
  // entry removes the link, never its target).
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".js") fs::remove(entry.path(), ec);
  return Status();
}

Status Emitter::run(const fs::path& outdir) {
  if (c_.fluxions.empty() || !c_.fluxions[0].root) return Status::invalid_argument("emit: the compilation has no main fluxion");
  for (const auto& f : c_.fluxions)
    if (!flux::is_identifier(f.model.id)) return Status::invalid_argument("emit: bad fluxion id '" + f.model.id + "'");
  choose_names();
  index_bindings();
  index_fluxions();
  build_groups();
  if (Status st = prepare_outdir(outdir); !st.ok()) return st;
  for (const auto& f : c_.fluxions) {
    Status st = write_file(outdir / "fluxions" / (f.model.id + ".js"), emit_module(f));
    if (!st.ok()) return st;
  }
  std::string main_js = "#!/usr/bin/env node\n// " + quote(original_.filename().string()) +
                        " compiled into fluxions by chiron fluxc; run: node main.js (docs/fluxc.md).\n"
                        "require('./flx-runtime.js').boot(__dirname);\n";
  std::string placement = placement_json();
  for (auto [name, data] : {std::pair<const char*, std::string_view>{"main.js", main_js},
                            {"placement.json", placement},
                            {"flx-runtime.js", kFlxRuntimeJs},
                            {"package.json", "{ \"type\": \"commonjs\" }\n"}}) {
    Status st = write_file(outdir / name, data);
    if (!st.ok()) return st;
  }
  return Status();
}

}  // namespace

Status emit(const Compilation& c, const fs::path& outdir, const EmitOptions& options) {
  EmitOptions o = options;
  if (o.original.empty()) o.original = fs::absolute(c.filename);
  if (o.original.is_relative()) o.original = fs::absolute(o.original);
  return Emitter(c, o).run(outdir);
}

}  // namespace chiron::fluxc
