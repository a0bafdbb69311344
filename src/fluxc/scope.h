#pragma once
// Scope analysis of one CommonJS file (ES2020), our own (no JS engine at compile time).
// eslint-scope (npm, dev-only) is the oracle: tests/integration/fluxc_scope_oracle.test.mjs checks that
// our bindings and references agree with its on every test input (docs/fluxc.md "Scope analysis").
//
// Rules implemented (eslint-scope's, with CommonJS semantics: the module scope is the
// function scope of node's module wrapper): `var` hoists to the nearest function (or the module,
// or a class static block); let/const/class are block-scoped (blocks, for/for-in/for-of heads
// with let/const, switch bodies); function declarations bind in their enclosing block (ES2015
// block-level functions, as eslint-scope does; the sloppy-mode Annex B var copy is not modelled);
// parameters including destructuring patterns, defaults and rest (defaults are evaluated in the
// function scope); a named function expression binds its own name in a kFunctionName scope
// around the function scope; a class binds its name in its kClass scope (and a class declaration
// also in the enclosing scope), `extends` is evaluated in the class scope; catch parameters
// (incl. patterns). Every non-arrow function (and the module wrapper) has an implicit
// `arguments`: a reference to it resolves to a kArguments binding (declaration range = the
// function node), created on first use. References resolve at scope close, so a use before a
// let/const/class declaration in the same block resolves to it (no TDZ). Property names (`a.b`,
// `{b: 1}`, method and field names, private names), labels, `this`, `super` and `new.target`
// are not references; shorthand `{b}` is, and `{b} = x` / `({b} = x)` bind / rebind b.
//
// Flags per reference (several may hold):
//   rebind         `v = ..`, `v op= ..` (incl. ||= &&= ??=), `v++`, `--v`, undeclared for-in/of
//                  targets, destructuring assignment targets (`[v] = ..`, `({v} = ..)`)
//   member_mutate  `v.a = ..`, `v[k] = ..`, `v.a op= ..`, `v.a++`, `delete v.a`, `v.m(..)`,
//                  `v?.m(..)`, `[v.a] = ..` (the base identifier of the member chain: `v.a.b = 1`
//                  and `v.a.m()` mark v); always with read (eslint-scope counts these as reads)
//   call           `v(..)`, `v?.(..)`, `(v)(..)` (not `new v()` nor the tag of v`..`: reads)
//   read           anything that uses the value, = eslint-scope's isRead() (a plain call too)
// A declaration's own identifier gets a reference with init=true (rebind and read false) when it
// has an initializer (`var x = ..`, every name of `const {a, b} = ..`), sits under a default
// (`function f(a = 1)`, `catch ({a = 1})`) or is a declared for-in/of target
// (`for (const k in o)`): that is how eslint-scope reports them (write references with init),
// and how callers find the initial value. A declaration without any of those has no reference.
// So `rebind` == eslint-scope's isWrite() && !init, `read` == isRead(); eslint-scope's duplicate
// references at one identifier (a default inside an initialized pattern) are one reference here.
//
// `eval(..)` calls and `with` statements make the analysis refuse the file:
// Status::unimplemented "<file>:<line>:<col>: `with` is not supported (fluxc cannot
// resolve names inside it)" — the CLI exits 3 on kUnimplemented. ES module syntax (`import` /
// `export` statements, `import.meta`) is refused with kInvalidArgument "<file>:<line>:<col>: ES
// module syntax is not supported (CommonJS only): ..."; `import(..)` expressions are fine.
//
// Pure function of the tree; thread-compatible.

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "fluxc/parse.h"

namespace chiron::fluxc {

enum class ScopeKind { kModule, kFunction, kFunctionName, kBlock, kFor, kSwitch, kCatch, kClass };
enum class BindingKind {
  kVar, kLet, kConst, kParam, kFunction, kClass, kCatchParam, kFunctionName,
  kArguments,  // the implicit `arguments` of a non-arrow function or of the module (see above)
};

struct Scope {
  uint32_t id = 0;              // index in ScopeAnalysis::scopes; 0 = module scope
  ScopeKind kind = ScopeKind::kModule;
  int32_t parent = -1;
  uint32_t begin = 0, end = 0;  // byte range of the node that creates it
  // For kFunction: the byte range of the function node (declaration/expression/arrow/method,
  // or a class static block); kFunctionName and kClass: the function / class node; kBlock: the
  // statement_block; kFor: the for statement; kSwitch: the switch_body; kCatch: the catch_clause.
  std::vector<uint32_t> bindings;  // indices into ScopeAnalysis::bindings
  std::vector<uint32_t> children;
};

struct Binding {
  uint32_t id = 0;
  std::string name;
  BindingKind kind = BindingKind::kVar;
  uint32_t scope = 0;                  // the scope it lives in (after hoisting)
  uint32_t decl_begin = 0, decl_end = 0;  // the declaring identifier (first declaration);
                                          // kArguments: the function node
  // The declaring node: variable_declarator / function_declaration / formal parameter
  // pattern / catch_clause / class_declaration ... (its byte range).
  uint32_t node_begin = 0, node_end = 0;
  // Initializer expression of a variable_declarator (`x = <init>`), or empty (0,0).
  uint32_t init_begin = 0, init_end = 0;
  std::vector<uint32_t> refs;          // indices into ScopeAnalysis::refs
};

struct Reference {
  uint32_t begin = 0, end = 0;  // the identifier
  std::string name;
  int32_t binding = -1;         // -1 = unresolved (global)
  uint32_t scope = 0;           // innermost scope containing the reference
  bool init = false;            // declarator identifier with an initializer
  bool rebind = false;
  bool member_mutate = false;
  bool call = false;
  bool read = false;
};

struct ScopeAnalysis {
  std::vector<Scope> scopes;
  std::vector<Binding> bindings;
  std::vector<Reference> refs;  // in source order
  // The innermost scope containing byte offset `at`.
  uint32_t scope_at(uint32_t at) const;
};

Result<ScopeAnalysis> analyze_scopes(const SyntaxTree& tree);

}  // namespace chiron::fluxc
