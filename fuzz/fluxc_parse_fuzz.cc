// libFuzzer target: JavaScript parsing (src/fluxc/parse.h) and scope analysis (src/fluxc/scope.h)
// on arbitrary bytes. Invariants: never crashes; errors are located ("file:line:col: ...") with
// the documented codes; an analysis has a module scope 0 covering the source, scopes nested in
// their parents, every binding and reference index in range and inside the source, references
// in source order and listed by the binding they resolve to.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fluxc/scope.h"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

bool located(const std::string& msg) { return msg.rfind("in.js:", 0) == 0; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chiron::fluxc;
  std::string src(reinterpret_cast<const char*>(data), size);
  auto tree = SyntaxTree::parse(src, "in.js");
  if (!tree.ok()) {
    require(tree.status().code() == chiron::StatusCode::kInvalidArgument);
    require(located(tree.status().message()));
    return 0;
  }
  require(tree->source() == src);
  const uint32_t n = static_cast<uint32_t>(src.size());
  require(node_end(tree->root()) <= n);
  auto sa = analyze_scopes(*tree);
  if (!sa.ok()) {
    auto code = sa.status().code();
    require(code == chiron::StatusCode::kUnimplemented || code == chiron::StatusCode::kInvalidArgument);
    require(located(sa.status().message()));
    return 0;
  }
  require(!sa->scopes.empty());
  require(sa->scopes[0].kind == ScopeKind::kModule && sa->scopes[0].parent == -1);
  require(sa->scopes[0].begin == 0 && sa->scopes[0].end == n);
  for (const Scope& s : sa->scopes) {
    require(s.begin <= s.end && s.end <= n);
    if (s.id != 0) {
      require(s.parent >= 0 && static_cast<uint32_t>(s.parent) < s.id);
      const Scope& p = sa->scopes[static_cast<size_t>(s.parent)];
      require(p.begin <= s.begin && s.end <= p.end);
    }
    for (uint32_t c : s.children) require(c < sa->scopes.size() && sa->scopes[c].parent == static_cast<int32_t>(s.id));
    for (uint32_t b : s.bindings) require(b < sa->bindings.size() && sa->bindings[b].scope == s.id);
  }
  for (const Binding& b : sa->bindings) {
    require(b.scope < sa->scopes.size());
    require(b.decl_begin <= b.decl_end && b.decl_end <= n);
    require(b.node_begin <= b.node_end && b.node_end <= n);
    require(b.init_begin <= b.init_end && b.init_end <= n);
    if (b.kind != BindingKind::kArguments) require(tree->text(b.decl_begin, b.decl_end) == b.name);
    for (uint32_t r : b.refs) require(r < sa->refs.size() && sa->refs[r].binding == static_cast<int32_t>(b.id));
  }
  uint32_t last = 0;
  for (const Reference& r : sa->refs) {
    require(r.begin >= last && r.begin < r.end && r.end <= n);
    last = r.begin;
    require(r.binding < static_cast<int32_t>(sa->bindings.size()));
    require(r.scope < sa->scopes.size());
    require(tree->text(r.begin, r.end) == r.name);
    if (r.binding >= 0) require(sa->bindings[static_cast<size_t>(r.binding)].name == r.name);
    require(sa->scope_at(r.begin) < sa->scopes.size());
  }
  return 0;
}
