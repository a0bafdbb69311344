#include "fluxc/scope.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace chiron::fluxc {
namespace {

struct Analyzed {
  SyntaxTree tree;
  ScopeAnalysis sa;

  // The n-th (0-based) reference named `name`.
  const Reference& ref(const std::string& name, int n = 0) const {
    for (const Reference& r : sa.refs) {
      if (r.name == name && n-- == 0) return r;
    }
    ADD_FAILURE() << "no reference #" << n << " to " << name;
    static Reference none;
    return none;
  }
  int count_refs(const std::string& name) const {
    int c = 0;
    for (const Reference& r : sa.refs) c += r.name == name;
    return c;
  }
  // The binding a reference resolves to, or nullptr for a global.
  const Binding* target(const Reference& r) const {
    return r.binding < 0 ? nullptr : &sa.bindings[static_cast<size_t>(r.binding)];
  }
  // The binding declared at the n-th occurrence of `text` in the source.
  const Binding* binding_at(const std::string& text, int n = 0) const {
    size_t at = 0;
    for (;; ++at) {
      at = tree.source().find(text, at);
      if (at == std::string::npos) return nullptr;
      if (n-- == 0) break;
    }
    for (const Binding& b : sa.bindings) {
      if (b.decl_begin == at && b.kind != BindingKind::kArguments) return &b;
    }
    return nullptr;
  }
  // The only binding named `name`.
  const Binding* binding_named(const std::string& name) const {
    const Binding* found = nullptr;
    for (const Binding& b : sa.bindings) {
      if (b.name != name) continue;
      EXPECT_EQ(found, nullptr) << "several bindings named " << name;
      found = &b;
    }
    return found;
  }
  std::vector<std::string> names_in_scope(uint32_t scope) const {
    std::vector<std::string> out;
    for (uint32_t b : sa.scopes[scope].bindings) out.push_back(sa.bindings[b].name);
    return out;
  }
};

Analyzed analyze(const std::string& src) {
  auto tree = SyntaxTree::parse(src, "t.js");
  EXPECT_TRUE(tree.ok()) << tree.status().to_string();
  auto sa = analyze_scopes(*tree);
  EXPECT_TRUE(sa.ok()) << sa.status().to_string();
  return Analyzed{std::move(tree).value(), std::move(sa).value()};
}

Status analyze_error(const std::string& src) {
  auto tree = SyntaxTree::parse(src, "t.js");
  EXPECT_TRUE(tree.ok()) << tree.status().to_string();
  auto sa = analyze_scopes(*tree);
  EXPECT_FALSE(sa.ok());
  return sa.status();
}

using V = std::vector<std::string>;

TEST(ScopeTest, VarHoistsToFunctionAndResolvesBeforeDeclaration) {
  auto a = analyze("use(x);\nfunction f() { if (c) { var y = 1; } return y; }\nvar x = 1;\n");
  EXPECT_EQ(a.names_in_scope(0), (V{"f", "x"}));
  const Binding* x = a.binding_at("x =");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->kind, BindingKind::kVar);
  EXPECT_EQ(a.target(a.ref("x")), x);  // use before the declaration
  const Binding* y = a.binding_at("y =");
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(a.sa.scopes[y->scope].kind, ScopeKind::kFunction);
  EXPECT_EQ(a.target(a.ref("y", 1)), y);
  EXPECT_EQ(a.target(a.ref("c")), nullptr);  // global
  EXPECT_EQ(a.target(a.ref("use")), nullptr);
}

TEST(ScopeTest, LetConstAreBlockScopedAndVisibleBeforeDeclarationInTheBlock) {
  auto a = analyze("let a = 1;\n{ use(a); let a = 2; const b = a; }\na; b;\n");
  const Binding* outer = a.binding_at("a = 1");
  const Binding* inner = a.binding_at("a = 2");
  ASSERT_TRUE(outer && inner);
  EXPECT_EQ(outer->kind, BindingKind::kLet);
  EXPECT_EQ(a.sa.scopes[inner->scope].kind, ScopeKind::kBlock);
  EXPECT_EQ(a.target(a.ref("a", 1)), inner);  // use(a) in the block, before `let a`
  EXPECT_EQ(a.target(a.ref("a", 3)), inner);  // const b = a
  EXPECT_EQ(a.target(a.ref("a", 4)), outer);  // after the block
  EXPECT_EQ(a.target(a.ref("b", 1)), nullptr);
  EXPECT_EQ(a.binding_at("b =")->kind, BindingKind::kConst);
}

TEST(ScopeTest, DeclaratorsWithInitializersAreInitReferences) {
  auto a = analyze("var a = 1, b, {c, d: [e] = []} = o;\n");
  EXPECT_EQ(a.count_refs("b"), 0);  // no initializer, no reference
  for (const char* n : {"a", "c", "e"}) {
    const Reference& r = a.ref(n);
    EXPECT_TRUE(r.init) << n;
    EXPECT_FALSE(r.rebind || r.read || r.call || r.member_mutate) << n;
    EXPECT_EQ(a.target(r)->name, n);
  }
  const Binding* c = a.binding_at("c,");
  EXPECT_EQ(a.tree.text(c->init_begin, c->init_end), "o");
  EXPECT_EQ(a.tree.text(c->node_begin, c->node_end), "{c, d: [e] = []} = o");
  EXPECT_EQ(a.tree.text(a.binding_at("a =")->init_begin, a.binding_at("a =")->init_end), "1");
  EXPECT_TRUE(a.ref("o").read);
}

TEST(ScopeTest, ParametersWithPatternsDefaultsAndRest) {
  auto a = analyze("function f(a, b = a, {c, d: [e, ...r] = []} = {}, ...t) { return a + b + c + e + r + t; }\n");
  uint32_t fs = a.binding_at("a,")->scope;
  EXPECT_EQ(a.sa.scopes[fs].kind, ScopeKind::kFunction);
  EXPECT_EQ(a.names_in_scope(fs), (V{"a", "b", "c", "e", "r", "t"}));
  for (const char* n : {"a", "b", "c", "e", "r", "t"}) {
    const Binding* b = a.binding_named(n);
    ASSERT_NE(b, nullptr) << n;
    EXPECT_EQ(b->kind, BindingKind::kParam) << n;
  }
  EXPECT_EQ(a.tree.text(a.binding_named("c")->node_begin, a.binding_named("c")->node_end),
            "{c, d: [e, ...r] = []} = {}");
  EXPECT_TRUE(a.ref("b").init);  // b = a: a default is an init reference
  EXPECT_TRUE(a.ref("a").read);   // the a in `b = a`
  EXPECT_EQ(a.target(a.ref("a")), a.binding_at("a,"));
  EXPECT_TRUE(a.ref("c").init);   // under the pattern's default `= {}`
  EXPECT_EQ(a.count_refs("t"), 1);  // only the use: rest without default is no reference
}

TEST(ScopeTest, DefaultsDoNotSeeBodyOnlyDeclarations) {
  auto a = analyze("var q = 0;\nfunction f(p = q) { var q = 1; return q; }\n");
  EXPECT_EQ(a.target(a.ref("q", 1)), a.binding_at("q = 0"));  // in the default: the outer q
  EXPECT_EQ(a.target(a.ref("q", 3)), a.binding_at("q = 1"));
}

TEST(ScopeTest, FunctionNamesAndNamedFunctionExpressions) {
  auto a = analyze(
      "var fact = function fact(n) { return n ? n * fact(n - 1) : 1; };\n"
      "var g = function h() { return h; };\nh;\n"
      "function decl() { return decl; }\n");
  const Binding* outer = a.binding_at("fact =");
  const Binding* inner = a.binding_at("fact(n)");
  ASSERT_TRUE(outer && inner);
  EXPECT_EQ(inner->kind, BindingKind::kFunctionName);
  EXPECT_EQ(a.sa.scopes[inner->scope].kind, ScopeKind::kFunctionName);
  EXPECT_EQ(a.target(a.ref("fact", 1)), inner);  // the recursive call
  EXPECT_TRUE(a.ref("fact", 1).call);
  EXPECT_EQ(a.target(a.ref("h", 0)), a.binding_at("h()"));
  EXPECT_EQ(a.target(a.ref("h", 1)), nullptr);  // h is not visible outside
  const Binding* d = a.binding_at("decl()");
  EXPECT_EQ(d->kind, BindingKind::kFunction);
  EXPECT_EQ(d->scope, 0u);
  EXPECT_EQ(a.target(a.ref("decl")), d);
}

TEST(ScopeTest, Flags) {
  auto a = analyze(
      "var v = {}, f, n = 0, k;\n"
      "v.a = 1; v[k] = 2; v.a.b = 3; v.a += 1; v.a++; delete v.a; v.m(); v?.m(); v.a.m();\n"
      "f(); f?.(); (f)(); new f(); f`t`;\n"
      "n = 1; n += 1; n++; --n; n ?" "?= 2; n;\n");
  // v: init, then 9 member mutations, all reads too.
  EXPECT_TRUE(a.ref("v", 0).init);
  for (int i = 1; i <= 9; ++i) {
    const Reference& r = a.ref("v", i);
    EXPECT_TRUE(r.member_mutate && r.read) << i;
    EXPECT_FALSE(r.rebind || r.call || r.init) << i;
  }
  EXPECT_TRUE(a.ref("k", 0).read);  // the index in v[k] = 2
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(a.ref("f", i).call && a.ref("f", i).read) << i;
  EXPECT_FALSE(a.ref("f", 3).call);  // new f()
  EXPECT_FALSE(a.ref("f", 4).call);  // tag of a template
  EXPECT_TRUE(a.ref("f", 4).read);
  const Reference& assign = a.ref("n", 1);
  EXPECT_TRUE(assign.rebind);
  EXPECT_FALSE(assign.read);
  for (int i = 2; i <= 5; ++i) EXPECT_TRUE(a.ref("n", i).rebind && a.ref("n", i).read) << i;
  EXPECT_TRUE(a.ref("n", 6).read);
  EXPECT_FALSE(a.ref("n", 6).rebind);
}

TEST(ScopeTest, PropertyNamesLabelsThisAreNotReferences) {
  auto a = analyze(
      "var o = { a: 1, b, [c]: 2, m() { return this.x; } };\n"
      "o.a.b; lbl: for (;;) { break lbl; }\n"
      "class K { f = 1; #p = 2; get g() { return super.g; } }\n");
  V names;
  for (const Reference& r : a.sa.refs) names.push_back(r.name);
  EXPECT_EQ(names, (V{"o", "b", "c", "o"}));
  EXPECT_TRUE(a.ref("b").read);  // shorthand
}

TEST(ScopeTest, RefusesEvalWithAndEsModules) {
  Status st = analyze_error("var x;\nfunction f() { return eval('x'); }\n");
  EXPECT_EQ(st.code(), StatusCode::kUnimplemented);
  EXPECT_EQ(st.message(), "t.js:2:23: `eval` is not supported (fluxc cannot resolve the names evaluated code uses or declares)");
  st = analyze_error("with (o) { x; }");
  EXPECT_EQ(st.code(), StatusCode::kUnimplemented);
  EXPECT_EQ(st.message(), "t.js:1:1: `with` is not supported (fluxc cannot resolve names inside it)");
  st = analyze_error("var a;\nimport fs from 'fs';\n");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "t.js:2:1: ES module syntax is not supported (CommonJS only): `import` statement");
  st = analyze_error("module.exports = 1;\nexport const y = 2;\n");
  EXPECT_EQ(st.message(), "t.js:2:1: ES module syntax is not supported (CommonJS only): `export` statement");
  // import() and a non-call use of eval are fine.
  auto ok = analyze("import('./m.js'); var e = eval;");
  EXPECT_EQ(ok.target(ok.ref("eval")), nullptr);
}

}  // namespace
}  // namespace chiron::fluxc
