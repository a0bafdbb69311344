#pragma once
// Scope analysis of one CommonJS file (ES2020), our own (no JS engine at compile time).
// eslint-scope (npm, dev-only) is the oracle in tests/fluxc/scope_oracle: for every test input
// our bindings and references must agree with its (see docs/fluxc.md "Scope analysis").
//
// Rules implemented: `var` and function declarations hoist to the nearest function (or the
// module scope); let/const/class are block-scoped (blocks, for/for-in/for-of heads, switch);
// parameters including destructuring patterns, defaults and rest; a named function expression
// binds its own name in its own scope; catch parameters (incl. patterns); each identifier
// reference resolved to its binding or left unresolved (= a global). Property names
// (`a.b`, `{b: 1}`, method names, labels) are not references; shorthand `{b}` is.
//
// Flags per reference (several may hold):
//   rebind         `v = ..`, `v op= ..`, `v++`, `--v`, for-in/of targets, destructuring targets
//   member_mutate  `v.a = ..`, `v[k] = ..`, `v.a op= ..`, `v.a++`, `delete v.a`, `v.m(..)`
//                  (the base identifier of the member chain: `v.a.b = 1` marks v)
//   call           `v(..)`
//   read           anything else that uses the value (a plain call counts as read too)
// A declarator's own identifier with an initializer is a reference with init=true (rebind
// false): it is how eslint-scope reports it, and how callers find the initial value.
//
// `eval(..)` calls and `with` statements make the analysis refuse the file:
// Status::unimplemented "<file>:<line>:<col>: `with` is not supported (fluxc cannot
// resolve names inside it)" — the CLI exits 3 on kUnimplemented.
//
// Pure function of the tree; thread-compatible.

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "fluxc/parse.h"

namespace chiron::fluxc {

enum class ScopeKind { kModule, kFunction, kFunctionName, kBlock, kFor, kSwitch, kCatch, kClass };
enum class BindingKind { kVar, kLet, kConst, kParam, kFunction, kClass, kCatchParam, kFunctionName };

struct Scope {
  uint32_t id = 0;              // index in ScopeAnalysis::scopes; 0 = module scope
  ScopeKind kind = ScopeKind::kModule;
  int32_t parent = -1;
  uint32_t begin = 0, end = 0;  // byte range of the node that creates it
  // For kFunction: the byte range of the function node (declaration/expression/arrow/method).
  std::vector<uint32_t> bindings;  // indices into ScopeAnalysis::bindings
  std::vector<uint32_t> children;
};

struct Binding {
  uint32_t id = 0;
  std::string name;
  BindingKind kind = BindingKind::kVar;
  uint32_t scope = 0;                  // the scope it lives in (after hoisting)
  uint32_t decl_begin = 0, decl_end = 0;  // the declaring identifier (first declaration)
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
