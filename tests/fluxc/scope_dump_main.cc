// fluxc_scope_dump FILE.js: prints the scope analysis of FILE.js as JSON for the eslint-scope
// oracle (tests/integration/fluxc_scope_oracle.test.mjs). Not installed; a test tool.
// Exit 0 with JSON on stdout, or 1 (syntax error) / 3 (eval, with) with the message on stderr.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/json.hpp>

#include "fluxc/scope.h"

namespace {

const char* kind_name(chiron::fluxc::ScopeKind k) {
  using chiron::fluxc::ScopeKind;
  switch (k) {
    case ScopeKind::kModule: return "module";
    case ScopeKind::kFunction: return "function";
    case ScopeKind::kFunctionName: return "function-expression-name";
    case ScopeKind::kBlock: return "block";
    case ScopeKind::kFor: return "for";
    case ScopeKind::kSwitch: return "switch";
    case ScopeKind::kCatch: return "catch";
    case ScopeKind::kClass: return "class";
  }
  return "?";
}

const char* binding_kind_name(chiron::fluxc::BindingKind k) {
  using chiron::fluxc::BindingKind;
  switch (k) {
    case BindingKind::kVar: return "var";
    case BindingKind::kLet: return "let";
    case BindingKind::kConst: return "const";
    case BindingKind::kParam: return "param";
    case BindingKind::kFunction: return "function";
    case BindingKind::kClass: return "class";
    case BindingKind::kCatchParam: return "catch";
    case BindingKind::kFunctionName: return "function-name";
    case BindingKind::kArguments: return "arguments";
  }
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fluxc_scope_dump FILE.js\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << argv[1] << ": cannot open\n";
    return 1;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto tree = chiron::fluxc::SyntaxTree::parse(ss.str(), argv[1]);
  if (!tree.ok()) {
    std::cerr << tree.status().message() << "\n";
    return 1;
  }
  auto sa = chiron::fluxc::analyze_scopes(*tree);
  if (!sa.ok()) {
    std::cerr << sa.status().message() << "\n";
    return sa.status().code() == chiron::StatusCode::kUnimplemented ? 3 : 1;
  }
  boost::json::object out;
  boost::json::array scopes, bindings, refs;
  for (const auto& s : sa->scopes) {
    scopes.push_back({{"id", s.id}, {"kind", kind_name(s.kind)}, {"parent", s.parent},
                      {"range", boost::json::array{s.begin, s.end}}});
  }
  for (const auto& b : sa->bindings) {
    bindings.push_back({{"id", b.id},
                        {"name", b.name},
                        {"kind", binding_kind_name(b.kind)},
                        {"scope", b.scope},
                        {"scope_kind", kind_name(sa->scopes[b.scope].kind)},
                        {"decl", boost::json::array{b.decl_begin, b.decl_end}},
                        {"node", boost::json::array{b.node_begin, b.node_end}},
                        {"init", boost::json::array{b.init_begin, b.init_end}},
                        {"refs", boost::json::value_from(b.refs)}});
  }
  for (const auto& r : sa->refs) {
    refs.push_back({{"range", boost::json::array{r.begin, r.end}},
                    {"name", r.name},
                    {"binding", r.binding},
                    {"scope", r.scope},
                    {"init", r.init},
                    {"rebind", r.rebind},
                    {"member_mutate", r.member_mutate},
                    {"call", r.call},
                    {"read", r.read}});
  }
  out["scopes"] = std::move(scopes);
  out["bindings"] = std::move(bindings);
  out["refs"] = std::move(refs);
  std::cout << boost::json::serialize(out) << "\n";
  return 0;
}
