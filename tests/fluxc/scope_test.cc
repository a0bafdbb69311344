#include "fluxc/scope.h"
#include "big_stack.h"

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
  st = analyze_error("var u = import.meta.url;");
  EXPECT_EQ(st.message(), "t.js:1:9: ES module syntax is not supported (CommonJS only): import.meta");
  // import() and a non-call use of eval are fine.
  auto ok = analyze("import('./m.js'); var e = eval;");
  EXPECT_EQ(ok.target(ok.ref("eval")), nullptr);
}

TEST(ScopeTest, FunctionDeclarationsInBlocksAreBlockScoped) {
  auto a = analyze("if (x) { g(); function g() {} }\ng;\nfunction top() {}\n");
  const Binding* g = a.binding_named("g");
  EXPECT_EQ(a.sa.scopes[g->scope].kind, ScopeKind::kBlock);
  EXPECT_EQ(a.target(a.ref("g", 0)), g);
  EXPECT_EQ(a.target(a.ref("g", 1)), nullptr);  // as eslint-scope: not visible after the block
  EXPECT_EQ(a.binding_named("top")->scope, 0u);
}

TEST(ScopeTest, ClassNamesBindInClassScopeAndOuterScope) {
  auto a = analyze(
      "class A extends A { m() { return A; } static { var s = A; } }\nA;\n"
      "const E = class N { n() { return N; } };\nN;\n");
  std::vector<const Binding*> as;
  for (const Binding& b : a.sa.bindings) {
    if (b.name == "A") as.push_back(&b);
  }
  ASSERT_EQ(as.size(), 2u);
  EXPECT_EQ(as[0]->scope, 0u);
  EXPECT_EQ(a.sa.scopes[as[1]->scope].kind, ScopeKind::kClass);
  EXPECT_EQ(as[0]->decl_begin, as[1]->decl_begin);
  EXPECT_EQ(as[0]->kind, BindingKind::kClass);
  EXPECT_EQ(a.target(a.ref("A", 0)), as[1]);  // extends A: evaluated in the class scope
  EXPECT_EQ(a.target(a.ref("A", 1)), as[1]);
  EXPECT_EQ(a.target(a.ref("A", 2)), as[1]);  // in the static block
  EXPECT_EQ(a.target(a.ref("A", 3)), as[0]);
  const Binding* s = a.binding_named("s");
  EXPECT_EQ(a.sa.scopes[s->scope].kind, ScopeKind::kFunction);  // static blocks are var scopes
  EXPECT_EQ(a.sa.scopes[a.binding_named("N")->scope].kind, ScopeKind::kClass);
  EXPECT_EQ(a.target(a.ref("N", 0)), a.binding_named("N"));
  EXPECT_EQ(a.target(a.ref("N", 1)), nullptr);
}

TEST(ScopeTest, CatchParametersIncludingPatterns) {
  auto a = analyze(
      "try { f(); } catch (e) { var e = 2; e; }\n"
      "try { f(); } catch ({ message, code = 500 }) { message; }\n"
      "try { f(); } catch { g(); }\n");
  const Binding* e = nullptr;
  const Binding* evar = nullptr;
  for (const Binding& b : a.sa.bindings) {
    if (b.name == "e" && b.kind == BindingKind::kCatchParam) e = &b;
    if (b.name == "e" && b.kind == BindingKind::kVar) evar = &b;
  }
  ASSERT_TRUE(e && evar);
  EXPECT_EQ(a.sa.scopes[e->scope].kind, ScopeKind::kCatch);
  EXPECT_EQ(evar->scope, 0u);  // var hoists out of the catch
  EXPECT_EQ(a.target(a.ref("e", 0)), e);  // `var e = 2` initializes the catch parameter
  EXPECT_EQ(a.target(a.ref("e", 1)), e);
  EXPECT_EQ(a.binding_named("message")->kind, BindingKind::kCatchParam);
  EXPECT_TRUE(a.ref("code").init);
  EXPECT_EQ(a.target(a.ref("message")), a.binding_named("message"));
}

TEST(ScopeTest, ForHeads) {
  auto a = analyze(
      "for (let i = 0; i < 3; i++) { i; }\ni;\n"
      "for (const k in o) k;\n"
      "for (var v of xs) v;\nv;\n"
      "for (w of xs) ;\n"
      "for (o.p in o) ;\n");
  const Binding* i = a.binding_named("i");
  EXPECT_EQ(a.sa.scopes[i->scope].kind, ScopeKind::kFor);
  EXPECT_EQ(a.target(a.ref("i", 3)), i);  // in the body block
  EXPECT_EQ(a.target(a.ref("i", 4)), nullptr);
  const Reference& k = a.ref("k");
  EXPECT_TRUE(k.init);
  EXPECT_FALSE(k.rebind);
  EXPECT_EQ(a.sa.scopes[a.binding_named("k")->scope].kind, ScopeKind::kFor);
  EXPECT_EQ(a.binding_named("v")->scope, 0u);  // var: no for scope
  EXPECT_EQ(a.target(a.ref("v", 2)), a.binding_named("v"));
  EXPECT_TRUE(a.ref("w").rebind);  // an undeclared target
  EXPECT_EQ(a.target(a.ref("w")), nullptr);
  EXPECT_TRUE(a.ref("o", 1).member_mutate);  // for (o.p in o)
  EXPECT_FALSE(a.ref("o", 2).member_mutate);
  EXPECT_TRUE(a.ref("i", 2).rebind && a.ref("i", 2).read);  // i++
}

TEST(ScopeTest, SwitchBodyIsAScope) {
  auto a = analyze("switch (x) { case 1: let y = 1; case y: y; }\ny;\n");
  const Binding* y = a.binding_named("y");
  EXPECT_EQ(a.sa.scopes[y->scope].kind, ScopeKind::kSwitch);
  EXPECT_EQ(a.target(a.ref("y", 1)), y);
  EXPECT_EQ(a.target(a.ref("y", 3)), nullptr);
}

TEST(ScopeTest, ImplicitArgumentsAsEslintScope) {
  auto a = analyze(
      "function f() { return arguments.length + (() => arguments[0])(); }\n"
      "const g = () => arguments;\n"
      "function h(p = arguments) { return p; }\n");
  const Reference& r0 = a.ref("arguments", 0);
  const Binding* args = a.target(r0);
  ASSERT_NE(args, nullptr);
  EXPECT_EQ(args->kind, BindingKind::kArguments);
  EXPECT_EQ(a.sa.scopes[args->scope].kind, ScopeKind::kFunction);
  EXPECT_EQ(a.tree.text(args->node_begin, args->node_end).substr(0, 12), "function f()");
  EXPECT_EQ(a.target(a.ref("arguments", 1)), args);  // an arrow has none of its own
  const Binding* module_args = a.target(a.ref("arguments", 2));
  ASSERT_NE(module_args, nullptr);
  EXPECT_EQ(module_args->scope, 0u);  // the CommonJS module wrapper's arguments
  EXPECT_EQ(a.target(a.ref("arguments", 3)), module_args);  // a default does not see h's own
}

TEST(ScopeTest, DestructuringAssignmentRebindsAndMutates) {
  auto a = analyze("var a, b, o = {};\n[a, b = a] = [b, a];\n({ a, x: o.p, y: { z: b } } = o);\n");
  EXPECT_TRUE(a.ref("a", 0).rebind);
  EXPECT_FALSE(a.ref("a", 0).read);
  EXPECT_TRUE(a.ref("b", 0).rebind);  // b = a inside the pattern
  EXPECT_TRUE(a.ref("a", 1).read);   // the default's a
  EXPECT_TRUE(a.ref("a", 3).rebind);  // shorthand { a } rebinds a
  EXPECT_TRUE(a.ref("o", 1).member_mutate);
  EXPECT_TRUE(a.ref("b", 2).rebind);
  EXPECT_TRUE(a.ref("o", 2).read && !a.ref("o", 2).member_mutate);
}

TEST(ScopeTest, ScopeAtFindsInnermost) {
  auto a = analyze("var f = function n(a) { { let b; } };\n");
  std::string src = a.tree.source();
  EXPECT_EQ(a.sa.scope_at(0), 0u);
  uint32_t in_block = static_cast<uint32_t>(src.find("let b"));
  EXPECT_EQ(a.sa.scopes[a.sa.scope_at(in_block)].kind, ScopeKind::kBlock);
  uint32_t in_params = static_cast<uint32_t>(src.find("a)"));
  EXPECT_EQ(a.sa.scopes[a.sa.scope_at(in_params)].kind, ScopeKind::kFunction);
  const Scope& fn = a.sa.scopes[a.sa.scope_at(in_params)];
  EXPECT_EQ(a.sa.scopes[static_cast<size_t>(fn.parent)].kind, ScopeKind::kFunctionName);
  EXPECT_EQ(a.tree.text(fn.begin, fn.end), "function n(a) { { let b; } }");
}

TEST(ScopeTest, PaperListing1) {
  auto a = analyze(
      "var app = require('express')(),\n    fs = require('fs'),\n    count = 0;\n\n"
      "app.get('/', function handler(req, res){\n"
      "  fs.readFile(__filename, function reply(err, data){\n"
      "    count += 1;\n"
      "    res.send(err || template(count, data));\n"
      "  });\n"
      "});\n\napp.listen(8080);\n");
  EXPECT_EQ(a.names_in_scope(0), (V{"app", "fs", "count"}));
  EXPECT_TRUE(a.ref("app", 1).member_mutate);  // app.get(..): a method call
  EXPECT_TRUE(a.ref("fs", 1).member_mutate);
  const Reference& inc = a.ref("count", 1);
  EXPECT_TRUE(inc.rebind && inc.read);
  EXPECT_EQ(a.target(inc), a.binding_named("count"));
  EXPECT_TRUE(a.ref("res").member_mutate);  // res.send(..)
  EXPECT_EQ(a.sa.scopes[a.target(a.ref("res"))->scope].kind, ScopeKind::kFunction);
  EXPECT_EQ(a.binding_named("res")->kind, BindingKind::kParam);
  EXPECT_TRUE(a.ref("template").call);
  EXPECT_EQ(a.target(a.ref("template")), nullptr);
  EXPECT_EQ(a.target(a.ref("require")), nullptr);
  EXPECT_EQ(a.target(a.ref("__filename")), nullptr);
  EXPECT_EQ(a.count_refs("req"), 0);
  // handler and reply are function-expression names, visible only inside themselves.
  EXPECT_EQ(a.binding_named("handler")->kind, BindingKind::kFunctionName);
  EXPECT_EQ(a.binding_named("reply")->kind, BindingKind::kFunctionName);
}

TEST(ScopeTest, PaperFigure5) {
  auto a = analyze(
      "var app = require('express')(), fs = require('fs');\nvar a = 0, c = 0;\n"
      "app.get('/', function onReq(req, res) {\n  var b = req.count;\n"
      "  fs.readFile('in.txt', function add(e, v) {\n    a += b + c + v;\n"
      "    fs.writeFile('out.txt', a, function end(updt) {\n      c = updt;\n    });\n  });\n});\n");
  const Binding* b = a.binding_named("b");
  EXPECT_EQ(a.sa.scopes[b->scope].kind, ScopeKind::kFunction);
  EXPECT_EQ(a.tree.text(b->init_begin, b->init_end), "req.count");
  EXPECT_TRUE(a.ref("a", 1).rebind && a.ref("a", 1).read);  // a += ..
  EXPECT_TRUE(a.ref("a", 2).read && !a.ref("a", 2).rebind);  // writeFile(.., a, ..)
  const Reference& cw = a.ref("c", 2);
  EXPECT_TRUE(cw.rebind && !cw.read);  // c = updt
  EXPECT_EQ(a.target(cw), a.binding_named("c"));
  EXPECT_EQ(a.target(a.ref("b", 1)), b);
}

TEST(ScopeTest, GifsocketsListing3) {
  auto a = analyze(
      "#!/usr/bin/env node\nvar express = require('express');\nvar getRawBody = require('raw-body');\n"
      "var app = express();\n"
      "app.post('/image/text', function (req, res, next) {\n"
      "  getRawBody(req, { length: req.headers['content-length'], limit: '1mb', encoding: 'utf8' },\n"
      "    function (err, string) {\n      if (err) { return next(err); }\n      req.text = string;\n      next();\n    });\n"
      "});\n");
  EXPECT_TRUE(a.ref("express", 1).call);
  EXPECT_TRUE(a.ref("getRawBody", 1).call);
  const Reference& mut = a.ref("req", 2);  // req.text = string
  EXPECT_TRUE(mut.member_mutate);
  EXPECT_EQ(a.target(mut)->kind, BindingKind::kParam);
  EXPECT_TRUE(a.ref("next", 1).call);
  EXPECT_EQ(a.target(a.ref("next", 1)), a.binding_named("next"));
  EXPECT_EQ(a.count_refs("length"), 0);  // property keys
  EXPECT_EQ(a.count_refs("res"), 0);
}

TEST(ScopeTest, Es2020Syntax) {
  auto a = analyze(
      "'use strict';\nconst big = 10n, re = /a\\/b[/]c/g, t = `x${big}${`y${re}`}`;\n"
      "const o = maybe?.a?.[big]?.(t) ?? t;\n"
      "async function* gen() { for await (const x of src) yield x; yield* gen(); }\n"
      "const { default: d } = await0;\n");
  EXPECT_EQ(a.count_refs("big"), 3);
  EXPECT_EQ(a.count_refs("re"), 2);
  EXPECT_EQ(a.target(a.ref("t", 1)), a.binding_named("t"));
  EXPECT_TRUE(a.ref("maybe").member_mutate);  // maybe?.a?.[big]?.(t): a method call
  EXPECT_EQ(a.target(a.ref("gen", 0)), a.binding_named("gen"));
  EXPECT_EQ(a.binding_named("d")->kind, BindingKind::kConst);
  EXPECT_EQ(a.count_refs("default"), 0);
}

TEST(ScopeTest, UndefinedIsAnIdentifier) {
  auto a = analyze("x === undefined;\nfunction f(undefined) { return undefined; }\n");
  EXPECT_EQ(a.target(a.ref("undefined", 0)), nullptr);
  EXPECT_EQ(a.target(a.ref("undefined", 1))->kind, BindingKind::kParam);
}

TEST(ScopeTest, DeepButAcceptedNestingIsFine) {
  std::string src = "var v = 0;\n";
  for (int i = 0; i < 60; ++i) src += "(function () {\n";
  src += "v++;\n";
  for (int i = 0; i < 60; ++i) src += "})();\n";
  auto a = analyze(src);
  EXPECT_EQ(a.sa.scopes.size(), 61u);
  EXPECT_EQ(a.target(a.ref("v", 0)), a.binding_named("v"));
}

TEST(ScopeTest, DeepestAcceptedTreesAreAnalyzed) {
  test_support::run_with_big_stack([] {
  // Just under kMaxNestingDepth: the recursive walk must cope (parse refuses anything deeper).
  std::string arrays = "var v = 1;\nx = " + std::string(1990, '[') + "v" + std::string(1990, ']') + ";\n";
  auto a = analyze(arrays);
  EXPECT_EQ(a.target(a.ref("v", 1)), a.binding_named("v"));
  std::string calls = "var v = 1;\n";
  for (int i = 0; i < 300; ++i) calls += "f(function () {";
  calls += "v++;";
  for (int i = 0; i < 300; ++i) calls += "});";
  auto b = analyze(calls);
  EXPECT_EQ(b.sa.scopes.size(), 301u);
  EXPECT_EQ(b.target(b.ref("v", 1)), b.binding_named("v"));
  });
}

}  // namespace
}  // namespace chiron::fluxc
