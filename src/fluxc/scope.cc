// Scope analysis over the tree-sitter CST, modelled on eslint-scope 8 (the test oracle) run with
// CommonJS semantics (nodejsScope: the module is a function scope under the global scope).
// One recursive walk (depth bounded by SyntaxTree's kMaxNestingDepth) creates scopes, declares
// bindings where eslint-scope declares them and records references with their flags and the scope
// they occur in; a second pass resolves every reference up the scope chain, so hoisting and
// use-before-declaration resolve the way eslint-scope resolves them (at scope close).
#include "fluxc/scope.h"

#include <algorithm>
#include <unordered_map>

namespace chiron::fluxc {
namespace {

struct Flags {
  bool init = false, rebind = false, member_mutate = false, call = false, read = false;
};

constexpr Flags kRead{false, false, false, false, true};

bool is_identifier(std::string_view type) { return type == "identifier" || type == "undefined"; }

bool is_function_node(std::string_view type) {
  return type == "function_declaration" || type == "generator_function_declaration" ||
         type == "function_expression" || type == "generator_function" || type == "arrow_function" ||
         type == "method_definition";
}

// Strips redundant parentheses: `(a)` → a, `((a.b))` → a.b.
TSNode unwrap_parens(TSNode n) {
  while (!ts_node_is_null(n) && node_type(n) == "parenthesized_expression" && ts_node_named_child_count(n) == 1) {
    TSNode inner = ts_node_named_child(n, 0);
    if (node_type(inner) == "sequence_expression") break;
    n = inner;
  }
  return n;
}

class Analyzer {
 public:
  explicit Analyzer(const SyntaxTree& tree) : tree_(tree) {}

  Result<ScopeAnalysis> run() {
    TSNode root = tree_.root();
    push_scope(ScopeKind::kModule, 0, static_cast<uint32_t>(tree_.source().size()), true, true);
    visit_children(root);
    if (!error_.ok()) return error_;
    resolve();
    return std::move(out_);
  }

 private:
  // ---- scopes and bindings ----
  uint32_t push_scope(ScopeKind kind, uint32_t begin, uint32_t end, bool var_scope, bool has_arguments) {
    Scope s;
    s.id = static_cast<uint32_t>(out_.scopes.size());
    s.kind = kind;
    s.parent = out_.scopes.empty() ? -1 : static_cast<int32_t>(cur_);
    s.begin = begin;
    s.end = end;
    if (s.parent >= 0) out_.scopes[static_cast<size_t>(s.parent)].children.push_back(s.id);
    out_.scopes.push_back(std::move(s));
    names_.emplace_back();
    var_scope_.push_back(var_scope);
    has_arguments_.push_back(has_arguments);
    body_begin_.push_back(0);
    cur_ = out_.scopes.back().id;
    return cur_;
  }
  void pop_scope(uint32_t saved) { cur_ = saved; }

  uint32_t variable_scope(uint32_t s) const {
    while (!var_scope_[s]) s = static_cast<uint32_t>(out_.scopes[s].parent);
    return s;
  }

  // An identifier spelled with a unicode escape (`\u0065val`) names the same variable as its
  // plain spelling, but names are compared by their source text here: refuse it (exit 3) rather
  // than let `\u0065val(..)` slip past the eval refusal or split one variable in two.
  bool escaped_name(TSNode id) {
    if (tree_.text(id).find('\\') == std::string_view::npos) return false;
    fail(id, StatusCode::kUnimplemented,
         "the identifier '" + std::string(tree_.text(id)) +
             "' is written with a unicode escape (not supported: spell the name plainly)");
    return true;
  }

  uint32_t declare(uint32_t scope, TSNode id, BindingKind kind, TSNode decl_node, TSNode init = TSNode{}) {
    escaped_name(id);
    std::string name(tree_.text(id));
    auto it = names_[scope].find(name);
    if (it != names_[scope].end()) return it->second;  // a redeclaration: the first one names it
    Binding b;
    b.id = static_cast<uint32_t>(out_.bindings.size());
    b.name = name;
    b.kind = kind;
    b.scope = scope;
    b.decl_begin = node_begin(id);
    b.decl_end = node_end(id);
    b.node_begin = node_begin(decl_node);
    b.node_end = node_end(decl_node);
    if (!ts_node_is_null(init)) {
      b.init_begin = node_begin(init);
      b.init_end = node_end(init);
    }
    names_[scope].emplace(std::move(name), b.id);
    out_.scopes[scope].bindings.push_back(b.id);
    out_.bindings.push_back(std::move(b));
    return out_.bindings.back().id;
  }

  void add_ref(TSNode id, Flags f) {
    escaped_name(id);
    Reference r;
    r.begin = node_begin(id);
    r.end = node_end(id);
    r.name = std::string(tree_.text(id));
    r.scope = cur_;
    r.init = f.init;
    r.rebind = f.rebind;
    r.member_mutate = f.member_mutate;
    r.call = f.call;
    r.read = f.read;
    out_.refs.push_back(std::move(r));
  }

  void fail(TSNode at, StatusCode code, const std::string& what) {
    if (error_.ok()) error_ = Status(code, location_prefix(tree_, node_begin(at)) + what);
  }

  // ---- generic traversal ----
  void visit_children(TSNode n) {
    for_each_named_child(n, [&](TSNode c) { visit(c); });
  }

  void visit(TSNode n) {
    if (ts_node_is_null(n) || !error_.ok()) return;
    std::string_view type = node_type(n);
    if (is_identifier(type)) return add_ref(n, kRead);
    if (type == "shorthand_property_identifier") return add_ref(n, kRead);
    if (type == "comment" || type == "hash_bang_line" || type == "string" || type == "number" ||
        type == "regex" || type == "true" || type == "false" || type == "null" || type == "this" ||
        type == "super" || type == "property_identifier" || type == "private_property_identifier" ||
        type == "statement_identifier" || type == "import" || type == "empty_statement" ||
        type == "debugger_statement" || type == "break_statement" || type == "continue_statement" ||
        type == "optional_chain" || type == "string_fragment" || type == "escape_sequence" ||
        type == "html_comment") {
      return;
    }
    if (type == "meta_property") {
      if (tree_.text(n).rfind("import", 0) == 0) {
        fail(n, StatusCode::kInvalidArgument, "ES module syntax is not supported (CommonJS only): import.meta");
      }
      return;
    }
    if (type == "import_statement" || type == "export_statement") {
      return fail(n, StatusCode::kInvalidArgument,
                  std::string("ES module syntax is not supported (CommonJS only): `") +
                      (type == "import_statement" ? "import" : "export") + "` statement");
    }
    if (type == "with_statement") {
      return fail(n, StatusCode::kUnimplemented, "`with` is not supported (fluxc cannot resolve names inside it)");
    }
    if (type == "statement_block") return visit_block(n);
    if (type == "variable_declaration") return visit_declaration(n, BindingKind::kVar);
    if (type == "lexical_declaration") {
      TSNode kind = child_by_field(n, "kind");
      return visit_declaration(n, tree_.text(kind) == "const" ? BindingKind::kConst : BindingKind::kLet);
    }
    if (is_function_node(type)) return visit_function(n);
    if (type == "class_declaration" || type == "class") return visit_class(n);
    if (type == "for_statement") return visit_for(n);
    if (type == "for_in_statement") return visit_for_in(n);
    if (type == "switch_statement") return visit_switch(n);
    if (type == "catch_clause") return visit_catch(n);
    if (type == "labeled_statement") return visit(child_by_field(n, "body"));
    if (type == "assignment_expression") return visit_assignment(n);
    if (type == "augmented_assignment_expression") return visit_target(child_by_field(n, "left"), true, child_by_field(n, "right"));
    if (type == "update_expression") return visit_target(child_by_field(n, "argument"), true, TSNode{});
    if (type == "unary_expression") return visit_unary(n);
    if (type == "call_expression") return visit_call(n);
    if (type == "member_expression") return visit_member_object(child_by_field(n, "object"));
    if (type == "subscript_expression") {
      visit(child_by_field(n, "object"));
      return visit(child_by_field(n, "index"));
    }
    if (type == "pair") {
      visit_key(child_by_field(n, "key"));
      return visit(child_by_field(n, "value"));
    }
    if (type == "computed_property_name") return visit_children(n);
    if (type == "field_definition") {
      visit_key(child_by_field(n, "property"));
      return visit(child_by_field(n, "value"));
    }
    if (type == "class_static_block") {
      uint32_t saved = cur_;
      push_scope(ScopeKind::kFunction, node_begin(n), node_end(n), true, false);
      visit_children(child_by_field(n, "body"));
      return pop_scope(saved);
    }
    visit_children(n);
  }

  void visit_key(TSNode key) {
    if (!ts_node_is_null(key) && node_type(key) == "computed_property_name") visit_children(key);
  }

  // `a.b`: the object is read. Method calls and mutations go through mutate_member_base instead.
  void visit_member_object(TSNode object) { visit(object); }

  void visit_block(TSNode n) {
    uint32_t saved = cur_;
    push_scope(ScopeKind::kBlock, node_begin(n), node_end(n), false, false);
    visit_children(n);
    pop_scope(saved);
  }

  // ---- declarations and patterns ----
  struct PatternName {
    TSNode id;
    bool defaulted;  // under an assignment pattern (a default value)
  };

  // Collects the names a pattern binds (or assigns) and the expressions inside it that are
  // evaluated (default values, computed keys, member targets' objects), as eslint-scope's
  // PatternVisitor does. Member expressions as targets are returned in `members`.
  void collect_pattern(TSNode p, bool defaulted, std::vector<PatternName>& names, std::vector<TSNode>& rhs,
                       std::vector<TSNode>& members) {
    if (ts_node_is_null(p)) return;
    p = unwrap_parens(p);
    std::string_view type = node_type(p);
    if (is_identifier(type) || type == "shorthand_property_identifier_pattern") {
      names.push_back({p, defaulted});
    } else if (type == "object_pattern" || type == "array_pattern") {
      for_each_named_child(p, [&](TSNode c) {
        if (node_type(c) != "comment") collect_pattern(c, defaulted, names, rhs, members);
      });
    } else if (type == "pair_pattern") {
      TSNode key = child_by_field(p, "key");
      if (!ts_node_is_null(key) && node_type(key) == "computed_property_name") rhs.push_back(key);
      collect_pattern(child_by_field(p, "value"), defaulted, names, rhs, members);
    } else if (type == "assignment_pattern" || type == "object_assignment_pattern") {
      collect_pattern(child_by_field(p, "left"), true, names, rhs, members);
      rhs.push_back(child_by_field(p, "right"));
    } else if (type == "rest_pattern" || type == "spread_element") {
      for_each_named_child(p, [&](TSNode c) {
        if (node_type(c) != "comment") collect_pattern(c, defaulted, names, rhs, members);
      });
    } else if (type == "member_expression" || type == "subscript_expression") {
      members.push_back(p);
    } else {
      rhs.push_back(p);  // not a target (an error tree-sitter tolerated): at least read it
    }
  }

  void visit_rhs(const std::vector<TSNode>& rhs) {
    for (TSNode r : rhs) {
      if (node_type(r) == "computed_property_name") visit_children(r);
      else visit(r);
    }
  }

  // Declares every name in `pattern` in `scope`. A name gets an init reference when the
  // declaration has an initializer, when it sits under a default, or when `always_init`
  // (for-in/of heads) — eslint-scope's write references with init=true.
  void declare_pattern(TSNode pattern, uint32_t scope, BindingKind kind, TSNode decl_node, TSNode init,
                       bool always_init) {
    std::vector<PatternName> names;
    std::vector<TSNode> rhs, members;
    collect_pattern(pattern, false, names, rhs, members);
    for (const PatternName& pn : names) {
      declare(scope, pn.id, kind, decl_node, init);
      if (always_init || !ts_node_is_null(init) || pn.defaulted) {
        Flags f;
        f.init = true;
        add_ref(pn.id, f);
      }
    }
    for (TSNode m : members) mutate_member_base(m);
    visit_rhs(rhs);
  }

  void visit_declaration(TSNode n, BindingKind kind) {
    uint32_t target = kind == BindingKind::kVar ? variable_scope(cur_) : cur_;
    for_each_named_child(n, [&](TSNode d) {
      if (node_type(d) != "variable_declarator") return visit(d);
      TSNode value = child_by_field(d, "value");
      declare_pattern(child_by_field(d, "name"), target, kind, d, value, false);
      visit(value);
    });
  }

  // Assignment targets: `=` patterns and identifiers (rebind), members (member_mutate on the base).
  void assign_pattern(TSNode target) {
    std::vector<PatternName> names;
    std::vector<TSNode> rhs, members;
    collect_pattern(target, false, names, rhs, members);
    for (const PatternName& pn : names) {
      Flags f;
      f.rebind = true;
      add_ref(pn.id, f);
    }
    for (TSNode m : members) mutate_member_base(m);
    visit_rhs(rhs);
  }

  void visit_assignment(TSNode n) {
    assign_pattern(child_by_field(n, "left"));
    visit(child_by_field(n, "right"));
  }

  // `v op= x`, `v++`: read and rebind; `v.a op= x`, `v.a++`: member_mutate on v.
  void visit_target(TSNode target, bool read, TSNode right) {
    TSNode t = unwrap_parens(target);
    std::string_view type = node_type(t);
    if (is_identifier(type)) {
      Flags f;
      f.rebind = true;
      f.read = read;
      add_ref(t, f);
    } else if (type == "member_expression" || type == "subscript_expression") {
      mutate_member_base(t);
    } else {
      visit(target);
    }
    visit(right);
  }

  // Marks the base identifier of a member chain (`v.a.b`, `v[k].c`, `v?.m`) member_mutate (and
  // read, as eslint-scope counts it); the other parts of the chain are visited normally.
  void mutate_member_base(TSNode m) {
    TSNode n = unwrap_parens(m);
    std::vector<TSNode> indexes;
    for (;;) {
      std::string_view type = node_type(n);
      if (type == "member_expression") {
        n = unwrap_parens(child_by_field(n, "object"));
      } else if (type == "subscript_expression") {
        indexes.push_back(child_by_field(n, "index"));
        n = unwrap_parens(child_by_field(n, "object"));
      } else {
        break;
      }
    }
    if (is_identifier(node_type(n))) {
      Flags f;
      f.member_mutate = true;
      f.read = true;
      add_ref(n, f);
    } else {
      visit(n);
    }
    for (auto it = indexes.rbegin(); it != indexes.rend(); ++it) visit(*it);
  }

  void visit_unary(TSNode n) {
    TSNode op = child_by_field(n, "operator");
    TSNode arg = child_by_field(n, "argument");
    TSNode inner = unwrap_parens(arg);
    std::string_view it = node_type(inner);
    if (tree_.text(op) == "delete" && (it == "member_expression" || it == "subscript_expression")) {
      return mutate_member_base(inner);
    }
    visit(arg);
  }

  void visit_call(TSNode n) {
    TSNode fn = child_by_field(n, "function");
    TSNode args = child_by_field(n, "arguments");
    TSNode callee = unwrap_parens(fn);
    std::string_view type = node_type(callee);
    bool tagged = !ts_node_is_null(args) && node_type(args) == "template_string";
    if (is_identifier(type)) {
      if (tree_.text(callee) == "eval" && !tagged) {
        return fail(n, StatusCode::kUnimplemented,
                    "`eval` is not supported (fluxc cannot resolve the names evaluated code uses or declares)");
      }
      Flags f = kRead;
      f.call = !tagged;  // a tagged template calls the tag too, but only `v(..)` is a call
      add_ref(callee, f);
    } else if (type == "member_expression" || type == "subscript_expression") {
      mutate_member_base(callee);  // a method call may mutate its receiver
    } else {
      visit(fn);
    }
    visit(args);
  }

  // ---- functions, classes, statements with scopes ----
  void visit_params(TSNode fn) {
    TSNode single = child_by_field(fn, "parameter");  // `x => ..`
    if (!ts_node_is_null(single)) {
      declare(cur_, single, BindingKind::kParam, single);
      return;
    }
    TSNode params = child_by_field(fn, "parameters");
    if (ts_node_is_null(params)) return;
    for_each_named_child(params, [&](TSNode p) {
      if (node_type(p) != "comment") declare_pattern(p, cur_, BindingKind::kParam, p, TSNode{}, false);
    });
  }

  void visit_function(TSNode n) {
    std::string_view type = node_type(n);
    TSNode name = child_by_field(n, "name");
    uint32_t saved = cur_;
    if (type == "function_declaration" || type == "generator_function_declaration") {
      // Bound in the enclosing block, not hoisted to the function (ES2015 block-level functions,
      // as eslint-scope binds them).
      if (!ts_node_is_null(name)) declare(cur_, name, BindingKind::kFunction, n);
    } else if (type == "method_definition") {
      visit_key(name);
    } else if (!ts_node_is_null(name)) {
      push_scope(ScopeKind::kFunctionName, node_begin(n), node_end(n), false, false);
      declare(cur_, name, BindingKind::kFunctionName, n);
    }
    push_scope(ScopeKind::kFunction, node_begin(n), node_end(n), true, type != "arrow_function");
    TSNode body = child_by_field(n, "body");
    if (!ts_node_is_null(body)) body_begin_[cur_] = node_begin(body);
    visit_params(n);
    if (!ts_node_is_null(body) && node_type(body) == "statement_block") {
      visit_children(body);  // the body block is the function scope itself
    } else {
      visit(body);
    }
    pop_scope(saved);
  }

  void visit_class(TSNode n) {
    TSNode name = child_by_field(n, "name");
    uint32_t saved = cur_;
    if (node_type(n) == "class_declaration" && !ts_node_is_null(name)) {
      declare(cur_, name, BindingKind::kClass, n);
    }
    push_scope(ScopeKind::kClass, node_begin(n), node_end(n), false, false);
    if (!ts_node_is_null(name)) declare(cur_, name, BindingKind::kClass, n);
    for_each_named_child(n, [&](TSNode c) {
      std::string_view ct = node_type(c);
      if (ct == "class_heritage" || ct == "class_body") visit_children(c);
    });
    pop_scope(saved);
  }

  void visit_for(TSNode n) {
    uint32_t saved = cur_;
    TSNode init = child_by_field(n, "initializer");
    if (!ts_node_is_null(init) && node_type(init) == "lexical_declaration") {
      push_scope(ScopeKind::kFor, node_begin(n), node_end(n), false, false);
    }
    visit_children(n);
    pop_scope(saved);
  }

  void visit_for_in(TSNode n) {
    uint32_t saved = cur_;
    TSNode kind = child_by_field(n, "kind");
    TSNode left = child_by_field(n, "left");
    std::string_view k = ts_node_is_null(kind) ? std::string_view() : tree_.text(kind);
    if (k == "let" || k == "const") push_scope(ScopeKind::kFor, node_begin(n), node_end(n), false, false);
    if (!k.empty()) {
      BindingKind bk = k == "var" ? BindingKind::kVar : k == "let" ? BindingKind::kLet : BindingKind::kConst;
      uint32_t target = bk == BindingKind::kVar ? variable_scope(cur_) : cur_;
      declare_pattern(left, target, bk, n, TSNode{}, true);
      visit(child_by_field(n, "value"));  // `for (var x = 1 in o)` (Annex B)
    } else {
      assign_pattern(left);
    }
    visit(child_by_field(n, "right"));
    visit(child_by_field(n, "body"));
    pop_scope(saved);
  }

  void visit_switch(TSNode n) {
    visit(child_by_field(n, "value"));
    TSNode body = child_by_field(n, "body");
    if (ts_node_is_null(body)) return;
    uint32_t saved = cur_;
    push_scope(ScopeKind::kSwitch, node_begin(body), node_end(body), false, false);
    visit_children(body);
    pop_scope(saved);
  }

  void visit_catch(TSNode n) {
    uint32_t saved = cur_;
    push_scope(ScopeKind::kCatch, node_begin(n), node_end(n), false, false);
    TSNode param = child_by_field(n, "parameter");
    if (!ts_node_is_null(param)) declare_pattern(param, cur_, BindingKind::kCatchParam, n, TSNode{}, false);
    visit(child_by_field(n, "body"));
    pop_scope(saved);
  }

  // ---- resolution ----
  void resolve() {
    std::stable_sort(out_.refs.begin(), out_.refs.end(),
                     [](const Reference& a, const Reference& b) { return a.begin < b.begin; });
    for (size_t i = 0; i < out_.refs.size(); ++i) {
      Reference& r = out_.refs[i];
      int32_t s = static_cast<int32_t>(r.scope);
      while (s >= 0) {
        auto& names = names_[static_cast<size_t>(s)];
        auto it = names.find(r.name);
        if (it != names.end() && !body_binding_seen_from_params(r, static_cast<uint32_t>(s), it->second)) {
          r.binding = static_cast<int32_t>(it->second);
          break;
        }
        if (r.name == "arguments" && has_arguments_[static_cast<size_t>(s)] &&
            !(body_begin_[static_cast<size_t>(s)] != 0 && r.begin < body_begin_[static_cast<size_t>(s)])) {
          r.binding = static_cast<int32_t>(implicit_arguments(static_cast<uint32_t>(s)));
          break;
        }
        s = out_.scopes[static_cast<size_t>(s)].parent;
      }
      if (r.binding >= 0) out_.bindings[static_cast<size_t>(r.binding)].refs.push_back(static_cast<uint32_t>(i));
    }
  }

  // A reference in a parameter default does not see a binding declared only in the function
  // body (`function f(a = b) { var b; }`: b is the outer one), as eslint-scope's
  // FunctionScope.__isValidResolution rules.
  bool body_binding_seen_from_params(const Reference& r, uint32_t scope, uint32_t binding) const {
    uint32_t body = body_begin_[scope];
    if (body == 0 || r.begin >= body) return false;
    const Binding& b = out_.bindings[binding];
    return b.kind == BindingKind::kArguments || b.decl_begin >= body;  // no declaration: every() holds
  }

  // The implicit `arguments` of a non-arrow function (or of the CommonJS module wrapper),
  // created when first referenced; its declaration range is the function's.
  uint32_t implicit_arguments(uint32_t scope) {
    const Scope& s = out_.scopes[scope];
    Binding b;
    b.id = static_cast<uint32_t>(out_.bindings.size());
    b.name = "arguments";
    b.kind = BindingKind::kArguments;
    b.scope = scope;
    b.decl_begin = b.node_begin = s.begin;
    b.decl_end = b.node_end = s.end;
    names_[scope].emplace(b.name, b.id);
    out_.scopes[scope].bindings.push_back(b.id);
    out_.bindings.push_back(std::move(b));
    return out_.bindings.back().id;
  }

  const SyntaxTree& tree_;
  ScopeAnalysis out_;
  std::vector<std::unordered_map<std::string, uint32_t>> names_;  // per scope
  std::vector<bool> var_scope_;      // per scope: `var` hoists here
  std::vector<bool> has_arguments_;  // per scope: non-arrow function (or module) scope
  std::vector<uint32_t> body_begin_;  // per function scope: where its body starts (0: not a function)
  uint32_t cur_ = 0;
  Status error_;
};

}  // namespace

uint32_t ScopeAnalysis::scope_at(uint32_t at) const {
  if (scopes.empty()) return 0;
  uint32_t s = 0;
  for (;;) {
    bool descended = false;
    for (uint32_t c : scopes[s].children) {
      const Scope& child = scopes[c];
      if (child.begin <= at && at < child.end) {
        s = c;
        descended = true;
        break;
      }
    }
    if (!descended) return s;
  }
}

Result<ScopeAnalysis> analyze_scopes(const SyntaxTree& tree) { return Analyzer(tree).run(); }

}  // namespace chiron::fluxc
