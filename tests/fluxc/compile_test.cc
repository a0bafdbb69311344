// The fluxion compiler: callee table and --callees, the placement rules as pure functions, and
// small JavaScript inputs for each rule and each recognised callee form.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fluxc/compile.h"
#include "fluxc/compile_internal.h"

namespace chiron::fluxc {
namespace {

using flux::StreamType;

// ---------- callee table ----------

bool has_callee(const CalleeTable& t, const std::string& spec, StreamType type) {
  return std::any_of(t.callees.begin(), t.callees.end(),
                     [&](const Callee& c) { return detail::callee_spec(c) == spec && c.type == type; });
}

TEST(CalleeTableTest, DefaultsFollowTheSpec) {
  CalleeTable t = default_callees();
  for (const char* m : {"get", "post", "put", "delete", "del", "patch", "all", "use"}) {
    EXPECT_TRUE(has_callee(t, std::string("express().") + m, StreamType::kStart)) << m;
  }
  EXPECT_TRUE(has_callee(t, "http.createServer", StreamType::kStart));
  EXPECT_TRUE(has_callee(t, "net.createServer", StreamType::kStart));
  EXPECT_TRUE(has_callee(t, "http.createServer().on:request", StreamType::kStart));
  EXPECT_TRUE(has_callee(t, "setInterval", StreamType::kStart));
  for (const char* m : {"readFile", "writeFile", "appendFile", "read", "write", "open", "close", "stat", "lstat",
                        "readdir", "mkdir", "unlink", "rename", "exists"}) {
    EXPECT_TRUE(has_callee(t, std::string("fs.") + m, StreamType::kPost)) << m;
  }
  for (const char* s : {"raw-body", "setTimeout", "setImmediate", "process.nextTick", "dns.lookup",
                        "crypto.randomBytes", "crypto.pbkdf2"}) {
    EXPECT_TRUE(has_callee(t, s, StreamType::kPost)) << s;
  }
}

TEST(CalleeTableTest, ParsesProvenanceMethodAndEvent) {
  auto c = detail::parse_callee("http.createServer().on:request", StreamType::kStart);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->provenance, "http.createServer()");
  EXPECT_EQ(c->method, "on");
  EXPECT_EQ(c->event, "request");
  auto g = detail::parse_callee("setTimeout", StreamType::kPost);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->provenance, "");
  EXPECT_EQ(g->method, "setTimeout");
  auto m = detail::parse_callee("raw-body", StreamType::kPost);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->provenance, "raw-body");
  EXPECT_EQ(m->method, "");
  auto e = detail::parse_callee("express().get", StreamType::kStart);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->provenance, "express()");
  EXPECT_EQ(e->method, "get");
}

TEST(CalleeTableTest, RejectsMalformedSpecs) {
  for (const char* bad : {"", "fs..readFile", ".x", "x.", "fs.read File", "on:", ":request", "a;b"}) {
    EXPECT_FALSE(detail::parse_callee(bad, StreamType::kPost).ok()) << bad;
  }
}

TEST(CalleeTableTest, FileAddsEntriesAndOverridesDefaults) {
  auto t = read_callees(R"({"start": ["raw-body", "redis().subscribe"], "post": ["db.query"]})");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_TRUE(has_callee(*t, "raw-body", StreamType::kStart));
  EXPECT_FALSE(has_callee(*t, "raw-body", StreamType::kPost));
  EXPECT_TRUE(has_callee(*t, "redis().subscribe", StreamType::kStart));
  EXPECT_TRUE(has_callee(*t, "db.query", StreamType::kPost));
  EXPECT_TRUE(has_callee(*t, "fs.readFile", StreamType::kPost));
  EXPECT_EQ(t->callees.size(), default_callees().callees.size() + 2);
}

TEST(CalleeTableTest, ReplaceDropsTheDefaults) {
  auto t = read_callees(R"({"replace": true, "post": ["fs.readFile"]})");
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->callees.size(), 1u);
  EXPECT_TRUE(has_callee(*t, "fs.readFile", StreamType::kPost));
}

TEST(CalleeTableTest, BadFilesAreInvalidArgument) {
  for (const char* bad : {"not json", "[1]", R"({"start": "fs.readFile"})", R"({"start": [1]})",
                          R"({"replace": "yes"})", R"({"starts": []})", R"({"post": ["fs read"]})"}) {
    auto t = read_callees(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(t.status().message().rfind("callees", 0), 0u) << t.status().message();
  }
}

TEST(CalleeTableTest, EventEntryWinsOverPlainOne) {
  CalleeTable t;
  t.callees.push_back(Callee{"x()", "on", "", StreamType::kPost});
  t.callees.push_back(Callee{"x()", "on", "data", StreamType::kStart});
  detail::CalleeIndex idx(t);
  ASSERT_NE(idx.match("x().on", std::string("data")), nullptr);
  EXPECT_EQ(idx.match("x().on", std::string("data"))->type, StreamType::kStart);
  EXPECT_EQ(idx.match("x().on", std::string("end"))->type, StreamType::kPost);
  EXPECT_EQ(idx.match("x().off", std::nullopt), nullptr);
}

// ---------- placement rules (pure) ----------

// main(0) → a(1) → b(2); main → c(3)
const std::vector<int> kTree = {-1, 0, 1, 0};

detail::PlaceVar var(std::string name, bool persistent, int owner, std::vector<detail::PlaceUse> uses) {
  detail::PlaceVar v;
  v.name = std::move(name);
  v.persistent = persistent;
  v.owner = owner;
  v.uses = std::move(uses);
  return v;
}

TEST(PlacementTest, UsedOnlyByItsOwnerIsLocal) {
  auto p = detail::place(kTree, var("app", true, 0, {{0, 10, true}}));
  EXPECT_EQ(p.cls, VarClass::kLocal);
  EXPECT_TRUE(p.ctx.empty());
}

TEST(PlacementTest, PersistentWithOneUserIsScope) {
  auto p = detail::place(kTree, var("count", true, 0, {{2, 50, true}}));
  EXPECT_EQ(p.cls, VarClass::kScope);
  EXPECT_EQ(p.ctx, std::vector<int>{2});
  EXPECT_TRUE(p.tag.empty());
}

TEST(PlacementTest, PersistentNeverWrittenIsScopeInEachUser) {
  auto p = detail::place(kTree, var("k", true, 0, {{1, 20, false}, {3, 90, false}}));
  EXPECT_EQ(p.cls, VarClass::kScope);
  EXPECT_EQ(p.ctx, (std::vector<int>{1, 3}));
}

TEST(PlacementTest, PersistentWrittenUpstreamReadDownstreamIsStream) {
  auto p = detail::place(kTree, var("last", true, 0, {{1, 20, true}, {2, 40, false}}));
  EXPECT_EQ(p.cls, VarClass::kStream);
  EXPECT_EQ(p.ctx, std::vector<int>{1});
  EXPECT_EQ(p.edges, std::vector<int>{2});
  EXPECT_EQ(p.path, std::vector<int>{1});
  EXPECT_TRUE(p.tag.empty());
}

TEST(PlacementTest, PersistentReadUpstreamOfItsWriterIsShare) {
  auto p = detail::place(kTree, var("c", true, 0, {{1, 20, false}, {2, 40, true}}));
  EXPECT_EQ(p.cls, VarClass::kShare);
  EXPECT_EQ(p.tag, "grp_c");
  EXPECT_EQ(p.tagged, (std::vector<int>{1, 2}));
  EXPECT_EQ(p.ctx, (std::vector<int>{1, 2}));
}

TEST(PlacementTest, PersistentReadInAnUnrelatedFluxionIsShare) {
  auto p = detail::place(kTree, var("x", true, 0, {{2, 40, true}, {3, 90, false}}));
  EXPECT_EQ(p.cls, VarClass::kShare);
  EXPECT_EQ(p.tagged, (std::vector<int>{2, 3}));
}

TEST(PlacementTest, PersistentWithTwoWritersIsShare) {
  auto p = detail::place(kTree, var("_rep", true, 0, {{1, 20, true}, {3, 90, true}}));
  EXPECT_EQ(p.cls, VarClass::kShare);
  EXPECT_EQ(p.tag, "grp__rep");
}

TEST(PlacementTest, PerRequestTravelsEveryEdgeFromOwnerToUser) {
  auto p = detail::place(kTree, var("res", false, 0, {{2, 40, false}}));
  EXPECT_EQ(p.cls, VarClass::kStream);
  EXPECT_EQ(p.edges, (std::vector<int>{1, 2}));
  EXPECT_EQ(p.path, (std::vector<int>{0, 1}));
  EXPECT_TRUE(p.tag.empty());
  EXPECT_TRUE(p.ctx.empty());
}

TEST(PlacementTest, PerRequestMutatedDownstreamTagsOwnerAndMutator) {
  auto p = detail::place(kTree, var("res", false, 0, {{2, 40, true}}));
  EXPECT_EQ(p.cls, VarClass::kStream);
  EXPECT_EQ(p.tag, "grp_res");
  EXPECT_EQ(p.tagged, (std::vector<int>{0, 2}));
  EXPECT_TRUE(p.ctx.empty());
}

TEST(PlacementTest, PerRequestWrittenByItsOwnerOnlyIsNotTagged) {
  auto p = detail::place(kTree, var("b", false, 1, {{1, 20, true}, {2, 40, false}}));
  EXPECT_EQ(p.cls, VarClass::kStream);
  EXPECT_EQ(p.edges, std::vector<int>{2});
  EXPECT_TRUE(p.tagged.empty());
}

TEST(PlacementTest, NonCopyableFunctionPinsUsersToItsOwner) {
  auto v = var("template", true, 0, {{2, 40, false}});
  v.pinned_function = true;
  auto p = detail::place(kTree, v);
  EXPECT_EQ(p.cls, VarClass::kShare);
  EXPECT_EQ(p.tagged, (std::vector<int>{0, 2}));
  EXPECT_EQ(p.ctx, std::vector<int>{2});
}

TEST(PlacementTest, AssembleOrdersCtxAndMessagesByFirstReference) {
  std::vector<detail::PlaceVar> vars = {var("zeta", true, 0, {{2, 10, true}}), var("alpha", true, 0, {{2, 30, false}}),
                                        var("res", false, 0, {{2, 50, true}}), var("req", false, 0, {{1, 5, false}})};
  std::vector<detail::Placement> pl;
  for (auto& v : vars) pl.push_back(detail::place(kTree, v));
  auto out = detail::assemble(kTree, vars, pl);
  EXPECT_EQ(out[2].ctx, (std::vector<std::string>{"zeta", "alpha"}));
  EXPECT_EQ(out[1].in_vars, (std::vector<std::string>{"req", "res"}));
  EXPECT_EQ(out[2].in_vars, (std::vector<std::string>{"res"}));
  EXPECT_EQ(out[0].tags, std::vector<std::string>{"grp_res"});
  EXPECT_EQ(out[2].tags, std::vector<std::string>{"grp_res"});
  EXPECT_TRUE(out[3].tags.empty());
}

TEST(PlacementTest, CalledPerRequestValueTagsOwnerAndUserUnlessTheyShareAGroup) {
  detail::PlaceUse call{2, 40, false};
  call.escapes = true;
  // next() alone in fluxion 2: grp_next on main and 2.
  std::vector<detail::PlaceVar> vars = {var("next", false, 0, {call})};
  std::vector<detail::Placement> pl = {detail::place(kTree, vars[0])};
  EXPECT_EQ(pl[0].escapers, std::vector<int>{2});
  EXPECT_TRUE(pl[0].tag.empty());
  auto out = detail::assemble(kTree, vars, pl);
  EXPECT_EQ(out[0].tags, std::vector<std::string>{"grp_next"});
  EXPECT_EQ(out[2].tags, std::vector<std::string>{"grp_next"});
  EXPECT_TRUE(out[1].tags.empty());
  // With req mutated by 2 (Listing 3), main and 2 already share grp_req: no second tag.
  vars.push_back(var("req", false, 0, {{2, 10, true}}));
  pl.push_back(detail::place(kTree, vars[1]));
  out = detail::assemble(kTree, vars, pl);
  EXPECT_EQ(out[0].tags, std::vector<std::string>{"grp_req"});
  EXPECT_EQ(out[2].tags, std::vector<std::string>{"grp_req"});
}

TEST(PlacementTest, AnEscapeByTheOwnerItselfTagsNothing) {
  detail::PlaceUse own{0, 5, false};
  own.escapes = true;
  std::vector<detail::PlaceVar> vars = {var("cb", false, 0, {own, {2, 9, false}})};
  std::vector<detail::Placement> pl = {detail::place(kTree, vars[0])};
  EXPECT_TRUE(pl[0].escapers.empty());
  auto out = detail::assemble(kTree, vars, pl);
  EXPECT_TRUE(out[0].tags.empty());
  EXPECT_EQ(out[2].in_vars, std::vector<std::string>{"cb"});
}

TEST(PlacementTest, PinnedPersistentObjectSharesWithItsOwner) {
  auto v = var("counter", true, 0, {{2, 50, false}});
  v.pinned_function = true;  // a class instance: pinned like a non-copyable function
  auto p = detail::place(kTree, v);
  EXPECT_EQ(p.cls, VarClass::kShare);
  EXPECT_EQ(p.tagged, (std::vector<int>{0, 2}));
}

TEST(PlacementTest, DescendantIsStrict) {
  EXPECT_TRUE(detail::is_descendant(kTree, 2, 0));
  EXPECT_TRUE(detail::is_descendant(kTree, 2, 1));
  EXPECT_FALSE(detail::is_descendant(kTree, 1, 1));
  EXPECT_FALSE(detail::is_descendant(kTree, 3, 1));
}

// ---------- compiling small programs ----------

Compilation must_compile(const std::string& src, CalleeTable callees = default_callees()) {
  CompileOptions o;
  o.filename = "t.js";
  o.callees = std::move(callees);
  auto c = compile(src, o);
  if (!c.ok()) ADD_FAILURE() << c.status().to_string() << "\n" << src;
  CHIRON_CHECK(c.ok(), "compile failed");
  return std::move(*c);
}

// Header and stream lines only.
std::vector<std::string> structure(const Compilation& c) {
  std::vector<std::string> out;
  std::istringstream in(to_text(c));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flx ", 0) == 0 || line.rfind(">> ", 0) == 0 || line.rfind("-> ", 0) == 0) out.push_back(line);
  }
  return out;
}

const Variable* find_var(const Compilation& c, const std::string& name) {
  for (const Variable& v : c.variables) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

using Lines = std::vector<std::string>;

TEST(CompileTest, ExpressAppFromRequireCall) {
  auto c = must_compile("var app = require('express')();\napp.get('/', function h(req, res) { res.end('x'); });\n");
  EXPECT_EQ(structure(c), (Lines{"flx main & grp_res", ">> h [res]", "flx h & grp_res", "-> null"}));
  EXPECT_EQ(c.fluxions[1].callee, "app.get");
  EXPECT_EQ(c.fluxions[1].line, 2u);
  EXPECT_EQ(c.fluxions[1].type, StreamType::kStart);
  EXPECT_EQ(c.fluxions[1].parent, "main");
}

TEST(CompileTest, ExpressAppThroughAVariable) {
  auto c = must_compile(
      "const e = require('express');\nconst app = e();\n"
      "app.post('/a', (req, res) => { res.json(req.query); });\n"
      "app.use(function (req, res, next) { next(); });\n");
  // `next()` in anonymous_1001 must run with its owner main (express's next is main's): grp_next.
  EXPECT_EQ(structure(c), (Lines{"flx main & grp_next, grp_res", ">> anonymous_1000 [res, req]",
                                 ">> anonymous_1001 [next]", "flx anonymous_1000 & grp_res", "-> null",
                                 "flx anonymous_1001 & grp_next", "-> null"}));
}

TEST(CompileTest, ExpressRequiredAsMemberOfItsModule) {
  auto c = must_compile("var app = require('express')();\nvar f = require('fs').readFile;\n"
                        "app.get('/', function h(q, s) { f('x', function done(e, d) { s.end(d); }); });\n");
  EXPECT_EQ(structure(c), (Lines{"flx main & grp_s", ">> h [s]", "flx h", "-> done [s]", "flx done & grp_s", "-> null"}));
  EXPECT_EQ(find_var(c, "f")->cls, VarClass::kImport);
}

TEST(CompileTest, HttpCreateServerCallback) {
  auto c = must_compile("var http = require('http');\nhttp.createServer(function serve(req, res) { res.end('ok'); })"
                        ".listen(0);\n");
  EXPECT_EQ(structure(c), (Lines{"flx main & grp_res", ">> serve [res]", "flx serve & grp_res", "-> null"}));
}

TEST(CompileTest, ServerOnRequestIsStartButOtherEventsAreNot) {
  auto c = must_compile(
      "var http = require('http');\nvar server = http.createServer();\n"
      "server.on('request', function onRequest(req, res) { res.end(); });\n"
      "server.on('close', function onClose() {});\nserver.listen(0);\n");
  EXPECT_EQ(structure(c),
            (Lines{"flx main & grp_res", ">> onRequest [res]", "flx onRequest & grp_res", "-> null"}));
}

TEST(CompileTest, TimersAndNextTick) {
  auto c = must_compile(
      "setInterval(function tick() {}, 1000);\nsetTimeout(function later() {}, 10);\n"
      "setImmediate(() => {});\nprocess.nextTick(function soon() {});\n");
  EXPECT_EQ(structure(c), (Lines{"flx main", ">> tick", "-> later", "-> anonymous_1000", "-> soon", "flx tick",
                                 "-> null", "flx later", "-> null", "flx anonymous_1000", "-> null", "flx soon",
                                 "-> null"}));
  EXPECT_EQ(c.fluxions[1].type, StreamType::kStart);
  EXPECT_EQ(c.fluxions[2].type, StreamType::kPost);
}

TEST(CompileTest, ArrowListenersAndAsyncCallbacks) {
  auto c = must_compile(
      "const app = require('express')();\nlet n = 0;\napp.use(req => { req.seen = true; });\n"
      "app.get('/', (req, res) => res.send(String(++n)));\nprocess.nextTick(async function later() { await null; });\n");
  EXPECT_EQ(structure(c), (Lines{"flx main & grp_req, grp_res", ">> anonymous_1000 [req]", ">> anonymous_1001 [res]",
                                 "-> later", "flx anonymous_1000 & grp_req", "-> null",
                                 "flx anonymous_1001 & grp_res {n}", "-> null", "flx later", "-> null"}));
  EXPECT_EQ(c.fluxions[1].params, std::vector<std::string>{"req"});
}

TEST(CompileTest, ShadowedTimerIsNotARupturePoint) {
  auto c = must_compile("function setTimeout(f) { f(); }\nsetTimeout(function now() {});\n");
  EXPECT_EQ(structure(c), (Lines{"flx main", "-> null"}));
}

TEST(CompileTest, FsDnsCryptoPostCallees) {
  auto c = must_compile(
      "var fs = require('fs'), dns = require('dns'), crypto = require('crypto');\n"
      "fs.readFile('a', function r1(e, d) {});\nrequire('fs').stat('.', function r2(e, s) {});\n"
      "dns.lookup('localhost', function r3(e, a) {});\ncrypto.randomBytes(8, function r4(e, b) {});\n"
      "crypto.pbkdf2('p', 's', 1, 8, 'sha256', function r5(e, k) {});\n");
  EXPECT_EQ(structure(c), (Lines{"flx main", "-> r1", "-> r2", "-> r3", "-> r4", "-> r5", "flx r1", "-> null",
                                 "flx r2", "-> null", "flx r3", "-> null", "flx r4", "-> null", "flx r5", "-> null"}));
  EXPECT_EQ(c.fluxions[2].callee, "require('fs').stat");
  EXPECT_EQ(c.requires_, (std::vector<std::string>{"fs", "dns", "crypto"}));
}

TEST(CompileTest, NodePrefixedModulesAreTheSameModules) {
  auto c = must_compile("var fs = require('node:fs');\nfs.readFile('a', function r(e, d) {});\n");
  EXPECT_EQ(structure(c), (Lines{"flx main", "-> r", "flx r", "-> null"}));
}

TEST(CompileTest, NonInSituCallbacksAreSkippedWithReasons) {
  auto c = must_compile(
      "var app = require('express')();\nfunction handler(req, res) { res.end(); }\n"
      "app.get('/', handler);\nsetTimeout(handler, 5);\napp.use(require('cors')());\n");
  EXPECT_EQ(structure(c), (Lines{"flx main", "-> null"}));
  ASSERT_EQ(c.skipped.size(), 3u);
  EXPECT_EQ(c.skipped[0].callee, "app.get");
  EXPECT_EQ(c.skipped[0].line, 3u);
  EXPECT_EQ(c.skipped[0].column, 1u);
  EXPECT_EQ(c.skipped[0].reason, "argument 2 is not a function written in place (handler)");
  EXPECT_EQ(c.skipped[1].callee, "setTimeout");
  EXPECT_EQ(c.skipped[1].reason, "argument 1 is not a function written in place (handler)");
  EXPECT_EQ(c.skipped[2].reason, "argument 1 is not a function written in place (require('cors')(...))");
}

TEST(CompileTest, MiddlewareByReferenceNextToAnInSituHandlerIsReported) {
  auto c = must_compile("var app = require('express')();\nfunction auth(q, s, n) { n(); }\n"
                        "app.get('/', auth, function h(q, s) { s.end(); });\n");
  EXPECT_EQ(structure(c)[1], ">> h [s]");
  ASSERT_EQ(c.skipped.size(), 1u);
  EXPECT_EQ(c.skipped[0].reason, "argument 2 is not a function written in place (auth)");
}

TEST(CompileTest, NestedChainThreeDeep) {
  auto c = must_compile(
      "var fs = require('fs');\nsetTimeout(function one() {\n  fs.stat('.', function two(e, s) {\n"
      "    fs.readFile('x', function three(e2, d) {\n      console.log(s.size, d);\n    });\n  });\n}, 1);\n");
  EXPECT_EQ(structure(c), (Lines{"flx main", "-> one", "flx one", "-> two", "flx two", "-> three [s]", "flx three",
                                 "-> null"}));
  EXPECT_EQ(c.fluxions[3].parent, "two");
  EXPECT_EQ(c.fluxions[2].parent, "one");
  // s is `two`'s continuation result: never on the edge into two, carried onwards.
  const Variable* s = find_var(c, "s");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->cls, VarClass::kStream);
  EXPECT_EQ(s->owner, "two");
  EXPECT_EQ(s->path, std::vector<std::string>{"two"});
}

TEST(CompileTest, ClashingNamesGetSuffixes) {
  auto c = must_compile(
      "setTimeout(function reply() {}, 1);\nsetTimeout(function reply() {}, 2);\n"
      "setTimeout(function main() {}, 3);\nsetTimeout(() => {}, 4);\nsetTimeout(function () {}, 5);\n"
      "setTimeout(function reply() {}, 6);\n");
  std::vector<std::string> ids;
  for (auto& f : c.fluxions) ids.push_back(f.model.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"main", "reply", "reply_2", "main_2", "anonymous_1000", "anonymous_1001",
                                           "reply_3"}));
}

TEST(CompileTest, EvalAndWithAreUnimplemented) {
  for (const char* src : {"eval('1');\n", "var o = {};\nwith (o) { x = 1; }\n"}) {
    CompileOptions o;
    o.filename = "bad.js";
    auto c = compile(src, o);
    ASSERT_FALSE(c.ok()) << src;
    EXPECT_EQ(c.status().code(), StatusCode::kUnimplemented) << c.status().to_string();
    EXPECT_EQ(c.status().message().rfind("bad.js:", 0), 0u) << c.status().message();
  }
}

TEST(CompileTest, SyntaxErrorIsLocated) {
  CompileOptions o;
  o.filename = "broken.js";
  auto c = compile("var a = 1;\nvar b = (;\n", o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message().rfind("broken.js:2:", 0), 0u) << c.status().message();
}

TEST(CompileTest, ImportsBuiltinsAndLocalsAreNotPlaced) {
  auto c = must_compile(
      "var fs = require('fs');\nvar app = require('express')();\n"
      "app.get('/', function h(req, res) { var n = 1; console.log(n, fs, __dirname, JSON.stringify({})); });\n");
  EXPECT_EQ(structure(c), (Lines{"flx main", ">> h", "flx h", "-> null"}));
  EXPECT_EQ(find_var(c, "fs")->cls, VarClass::kImport);
  EXPECT_EQ(find_var(c, "console")->cls, VarClass::kBuiltin);
  EXPECT_EQ(find_var(c, "app")->cls, VarClass::kLocal);
  EXPECT_EQ(find_var(c, "n"), nullptr);  // a per-request local is not listed
}

TEST(CompileTest, ReboundRequireIsNotAnImport) {
  auto c = must_compile("var m = require('m');\nsetTimeout(function t() { m = null; }, 1);\n");
  EXPECT_EQ(find_var(c, "m")->cls, VarClass::kScope);
  EXPECT_EQ(structure(c), (Lines{"flx main", "-> t", "flx t {m}", "-> null"}));
}

TEST(CompileTest, UnresolvedGlobalReadByOneFluxionGoesToItsContext) {
  auto c = must_compile("setTimeout(function t() { render(page); }, 1);\n");
  EXPECT_EQ(structure(c), (Lines{"flx main", "-> t", "flx t {render, page}", "-> null"}));
  EXPECT_EQ(find_var(c, "render")->owner, "");
}

TEST(CompileTest, ContinuationResultsAreNeverListedOnTheirOwnEdge) {
  auto c = must_compile("var fs = require('fs');\nfs.readFile('a', function r(err, data) { console.log(err, data); });\n");
  EXPECT_EQ(structure(c), (Lines{"flx main", "-> r", "flx r", "-> null"}));
}

TEST(CompileTest, PersistentReadOnlyVariableIsCopiedIntoEachUser) {
  auto c = must_compile(
      "var limit = 10;\nsetTimeout(function a() { console.log(limit); }, 1);\n"
      "setTimeout(function b() { console.log(limit + 1); }, 1);\n");
  EXPECT_EQ(structure(c), (Lines{"flx main", "-> a", "-> b", "flx a {limit}", "-> null", "flx b {limit}", "-> null"}));
  EXPECT_TRUE(c.fluxions[1].replicable);
  EXPECT_TRUE(c.fluxions[2].replicable);
  EXPECT_FALSE(c.fluxions[0].replicable);
}

TEST(CompileTest, WrittenContextIsNotReplicable) {
  auto c = must_compile("var n = 0;\nsetInterval(function t() { n++; }, 1);\n");
  EXPECT_EQ(structure(c), (Lines{"flx main", ">> t", "flx t {n}", "-> null"}));
  EXPECT_FALSE(c.fluxions[1].replicable);
}

TEST(CompileTest, CopyableFunctionStaysUntagged) {
  auto c = must_compile(
      "var util = require('util');\nfunction fmt(x) { return util.format('%d', Math.floor(x)) + twice(x); }\n"
      "function twice(x) { return fmt === null ? 0 : 2 * x; }\n"
      "setTimeout(function t() { console.log(fmt(1)); }, 1);\n");
  // fmt is read by main too (inside twice), never written: a read-only copy in each user.
  EXPECT_EQ(structure(c), (Lines{"flx main {fmt}", "-> t", "flx t {fmt}", "-> null"}));
  EXPECT_TRUE(find_var(c, "fmt")->copyable_function);
  EXPECT_TRUE(find_var(c, "twice")->copyable_function);
}

TEST(CompileTest, NonCopyableFunctionPinsItsUsersToMain) {
  auto c = must_compile(
      "var hits = 0;\nfunction bump() { hits += 1; return hits; }\n"
      "setTimeout(function t() { console.log(bump()); }, 1);\n");
  EXPECT_EQ(structure(c), (Lines{"flx main & grp_bump", "-> t", "flx t & grp_bump {bump}", "-> null"}));
  EXPECT_FALSE(find_var(c, "bump")->copyable_function);
  EXPECT_EQ(find_var(c, "bump")->tag, "grp_bump");
}

TEST(CompileTest, SharedCounterByTwoRoutes) {
  auto c = must_compile(
      "var app = require('express')();\nvar hits = 0;\n"
      "app.get('/a', function a(q, s) { hits++; s.end(); });\napp.get('/b', function b(q, s) { s.send(hits); });\n");
  EXPECT_EQ(structure(c), (Lines{"flx main & grp_s", ">> a [s]", ">> b [s]", "flx a & grp_hits, grp_s {hits}",
                                 "-> null", "flx b & grp_hits, grp_s {hits}", "-> null"}));
}

TEST(CompileTest, PlacedRefsAndPlaceholdersForTheEmitter) {
  const std::string src =
      "var fs = require('fs'), count = 0;\n"
      "setInterval(function t() {\n  count += 1;\n  fs.readFile('x', function r(e, d) { console.log({count}); });\n"
      "}, 1);\n";
  auto c = must_compile(src);
  EXPECT_EQ(structure(c), (Lines{"flx main", ">> t", "flx t {count}", "-> r [count]", "flx r", "-> null"}));
  // main: the declarations of fs and count.
  const auto& m = c.fluxions[0];
  ASSERT_EQ(m.refs.size(), 2u);
  EXPECT_TRUE(m.refs[0].declaration);
  EXPECT_EQ(src.substr(m.refs[0].begin, m.refs[0].end - m.refs[0].begin), "fs");
  EXPECT_EQ(c.variables[m.refs[1].variable].name, "count");
  ASSERT_EQ(m.placeholders.size(), 1u);
  EXPECT_EQ(src.substr(m.placeholders[0].begin, 10), "function t");
  EXPECT_EQ(m.placeholders[0].end, c.fluxions[1].end);
  // t: count (ctx) and fs (import); r's code is excluded.
  const auto& t = c.fluxions[1];
  ASSERT_EQ(t.refs.size(), 2u);
  EXPECT_EQ(c.variables[t.refs[0].variable].name, "count");
  EXPECT_EQ(c.variables[t.refs[1].variable].name, "fs");
  EXPECT_FALSE(t.refs[0].declaration);
  // r: `{count}` is a shorthand property.
  const auto& r = c.fluxions[2];
  ASSERT_EQ(r.refs.size(), 1u);
  EXPECT_TRUE(r.refs[0].shorthand);
  EXPECT_EQ(r.params, (std::vector<std::string>{"e", "d"}));
  EXPECT_NE(t.model.body.find("fs.readFile('x', -> r);"), std::string::npos) << t.model.body;
}

TEST(CompileTest, BodiesAreDedentedAndSplitCallbacksReplaced) {
  auto c = must_compile("if (true) {\n    setTimeout(function t() {\n        go();\n    }, 1);\n}\n");
  EXPECT_EQ(c.fluxions[1].model.body, "function t() {\n    go();\n}");
  EXPECT_NE(c.fluxions[0].model.body.find("setTimeout(-> t, 1);"), std::string::npos);
}

TEST(CompileTest, CrLfSourcesGiveLfBodies) {
  auto c = must_compile("setTimeout(function t() {\r\n  go();\r\n}, 1);\r\n");
  EXPECT_EQ(c.fluxions[1].model.body, "function t() {\n  go();\n}");
  EXPECT_EQ(c.fluxions[0].model.body.find('\r'), std::string::npos);
  auto lone = must_compile("setTimeout(function t() {\r  go();\r}, 1);\r\r");
  EXPECT_EQ(lone.fluxions[1].model.body, "function t() {\n  go();\n}");
  auto back = flux::read_text(to_text(lone));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, lone.program());
}

TEST(CompileTest, ShebangIsAccepted) {
  auto c = must_compile("#!/usr/bin/env node\nsetTimeout(function t() {}, 1);\n");
  EXPECT_EQ(structure(c), (Lines{"flx main", "-> t", "flx t", "-> null"}));
}

TEST(CompileTest, RelativeRequiresAreListedNotInlined) {
  auto c = must_compile("var routes = require('./routes');\nvar x = require('express');\n");
  EXPECT_EQ(c.requires_, (std::vector<std::string>{"./routes", "express"}));
}

TEST(CompileTest, CustomCalleeFromTable) {
  auto t = read_callees(R"({"post": ["db().query"]})");
  ASSERT_TRUE(t.ok());
  auto c = must_compile("var db = require('db')();\ndb.query('q', function rows(e, r) {});\n", *t);
  EXPECT_EQ(structure(c), (Lines{"flx main", "-> rows", "flx rows", "-> null"}));
}

TEST(CompileTest, ShortAliasChainsKeepProvenance) {
  std::string src = "var f0 = require('fs');\n";
  for (int i = 1; i <= 50; ++i) src += "var f" + std::to_string(i) + " = f" + std::to_string(i - 1) + ";\n";
  src += "f50.readFile('a', function r(e, d) {});\n";
  EXPECT_EQ(structure(must_compile(src)), (Lines{"flx main", "-> r", "flx r", "-> null"}));
}

TEST(CompileTest, HugeAliasChainIsBoundedNotACrash) {
  std::string src = "var f0 = require('fs');\n";
  for (int i = 1; i <= 20000; ++i) src += "var f" + std::to_string(i) + " = f" + std::to_string(i - 1) + ";\n";
  src += "f20000.readFile('a', function r(e, d) {});\n";
  auto c = must_compile(src);
  EXPECT_EQ(c.fluxions.size(), 1u);  // provenance gives up beyond 256 steps: not a rupture point
}

TEST(CompileTest, LongChainOfHelpersPropagatesNonCopyability) {
  std::string src = "var state = 0;\nfunction h0() { return state; }\n";
  for (int i = 1; i <= 3000; ++i) {
    src += "function h" + std::to_string(i) + "() { return h" + std::to_string(i - 1) + "(); }\n";
  }
  src += "setTimeout(function t() { h3000(); }, 1);\n";
  auto c = must_compile(src);
  EXPECT_FALSE(find_var(c, "h3000")->copyable_function);
  EXPECT_EQ(structure(c)[2], "flx t & grp_h3000 {h3000}");
}

TEST(CompileTest, NonAsciiCallbackNameCountsAsAnonymous) {
  auto c = must_compile("setTimeout(function caf\xc3\xa9() {}, 1);\nsetTimeout(function ok() {}, 1);\n");
  EXPECT_EQ(c.fluxions[1].model.id, "anonymous_1000");
  EXPECT_EQ(c.fluxions[2].model.id, "ok");
  EXPECT_TRUE(flux::validate(c.program()).ok());
}

TEST(CompileTest, NonAsciiPlacedNameIsALocatedError) {
  CompileOptions o;
  o.filename = "u.js";
  auto c = compile("var caf\xc3\xa9 = 0;\nsetTimeout(function t() { caf\xc3\xa9++; }, 1);\n", o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message().rfind("u.js:2:", 0), 0u) << c.status().message();
}

// Invariants on every JavaScript input the repository has (scope inputs, emitter apps, goldens):
// it compiles, the program is valid, both serialisations read back to it, two runs agree, and
// placeholders and placed references lie in their fluxion's own code.
TEST(CompilePropertyTest, EveryTestInputGivesAValidRoundTrippingProgram) {
  namespace fs = std::filesystem;
  const fs::path here = fs::path(__FILE__).parent_path();
  size_t checked = 0;
  for (const char* dir : {"inputs", "apps", "golden"}) {
    if (!fs::exists(here / dir)) continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(here / dir)) {
      std::string name = e.path().filename().string();
      if (e.path().extension() == ".js" && name.find(".bad.") == std::string::npos) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      SCOPED_TRACE(f.string());
      std::ifstream in(f, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      CompileOptions o;
      o.filename = f.filename().string();
      auto c = compile(ss.str(), o);
      ASSERT_TRUE(c.ok()) << c.status().to_string();
      const flux::Program p = c->program();
      EXPECT_TRUE(flux::validate(p).ok()) << flux::validate(p).to_string();
      auto from_text = flux::read_text(to_text(*c));
      ASSERT_TRUE(from_text.ok()) << from_text.status().to_string();
      EXPECT_EQ(*from_text, p);
      auto from_json = flux::read_json(boost::json::serialize(to_json(*c)));
      ASSERT_TRUE(from_json.ok()) << from_json.status().to_string();
      EXPECT_EQ(*from_json, p);
      auto again = compile(ss.str(), o);
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(to_text(*again), to_text(*c));
      EXPECT_EQ(boost::json::serialize(to_json(*again)), boost::json::serialize(to_json(*c)));
      for (const CompiledFluxion& fx : c->fluxions) {
        for (const Placeholder& ph : fx.placeholders) {
          EXPECT_TRUE(ph.begin >= fx.begin && ph.end <= fx.end) << fx.model.id;
          EXPECT_LT(ph.stream, fx.model.streams.size());
        }
        for (size_t i = 0; i < fx.refs.size(); ++i) {
          const PlacedRef& r = fx.refs[i];
          EXPECT_TRUE(r.begin >= fx.begin && r.end <= fx.end) << fx.model.id;
          EXPECT_LT(r.variable, c->variables.size());
          if (i > 0) {
            EXPECT_LT(fx.refs[i - 1].begin, r.begin);
          }
          for (const Placeholder& ph : fx.placeholders) {
            EXPECT_FALSE(r.begin >= ph.begin && r.begin < ph.end) << fx.model.id << ": a ref inside a child callback";
          }
        }
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 20u);
}

// ---------- review findings (per-request escapes, block bindings, W, pinned objects) ----------

std::vector<std::string> tags_of(const Compilation& c, const std::string& id) {
  for (const CompiledFluxion& f : c.fluxions) {
    if (f.model.id == id) return f.model.tags;
  }
  ADD_FAILURE() << "no fluxion " << id;
  return {};
}

TEST(CompileTest, ExpressNextCalledInAnotherFluxionRunsWithItsOwner) {
  auto c = must_compile("var app = require('express')();\n"
                        "app.use(function (req, res, next) { setTimeout(function later() { next(); }, 1); });\n");
  EXPECT_EQ(tags_of(c, "main"), Lines{"grp_next"});
  EXPECT_EQ(tags_of(c, "later"), Lines{"grp_next"});
  EXPECT_TRUE(tags_of(c, "anonymous_1000").empty());
  EXPECT_EQ(find_var(c, "next")->tag, "grp_next");
}

TEST(CompileTest, NodeStyleCallbackCalledInANestedFluxionRunsWithItsOwner) {
  auto c = must_compile("var fs = require('fs');\n"
                        "function load(p, cb) { fs.readFile(p, function got(e, d) { cb(null, d); }); }\n"
                        "load('a', function () {});\n");
  EXPECT_EQ(tags_of(c, "main"), Lines{"grp_cb"});
  EXPECT_EQ(tags_of(c, "got"), Lines{"grp_cb"});
}

TEST(CompileTest, PerRequestParameterPassedToAHelperRunsWithItsOwner) {
  auto c = must_compile("var app = require('express')(), fs = require('fs');\n"
                        "function sendJson(r, o) { r.end(JSON.stringify(o)); }\n"
                        "app.get('/', function h(req, res) { fs.stat('.', function st(e, s) { sendJson(res, s); }); });\n"
                        "app.get('/p', function p(req, res) { fs.stat('.', function st2(e, s) { s.pipe(res); }); });\n");
  EXPECT_EQ(tags_of(c, "st"), Lines{"grp_res"});
  EXPECT_EQ(tags_of(c, "st2"), Lines{"grp_res"});
  EXPECT_EQ(tags_of(c, "main"), Lines{"grp_res"});
  // A pure builtin does not pin: JSON.stringify(req) in a nested fluxion.
  auto d = must_compile("var app = require('express')(), fs = require('fs');\n"
                        "app.get('/', function h(req, res) { fs.stat('.', function st(e, s) { console.log(JSON.stringify(req)); }); });\n");
  EXPECT_TRUE(tags_of(d, "st").empty());
}

TEST(CompileTest, ModuleBlockScopedBindingIsPerRequest) {
  auto c = must_compile("var boot = [];\nfor (let j = 0; j < 3; j++) setTimeout(() => boot.push(j * 10), 1);\n"
                        "{ let x = 5; setTimeout(function t() { console.log(x); }, 1); }\n");
  const Variable* j = find_var(c, "j");
  ASSERT_NE(j, nullptr);
  EXPECT_FALSE(j->persistent);
  EXPECT_EQ(j->cls, VarClass::kStream);
  EXPECT_EQ(structure(c)[1], "-> anonymous_1000 [j]");
  EXPECT_FALSE(find_var(c, "x")->persistent);
  EXPECT_EQ(find_var(c, "x")->cls, VarClass::kStream);
  EXPECT_TRUE(find_var(c, "boot")->persistent);
  // A module-level `var` in a loop stays persistent.
  auto d = must_compile("for (var i = 0; i < 3; i++) setTimeout(function t() { console.log(i); }, 1);\n");
  EXPECT_TRUE(find_var(d, "i")->persistent);
}

TEST(CompileTest, PersistentObjectPassedToAMutatingCallIsWritten) {
  auto c = must_compile("var app = require('express')();\nvar settings = { greeting: 'hi' };\n"
                        "app.post('/s', function set(req, res) { Object.assign(settings, req.body); res.end(); });\n"
                        "app.get('/hello', function hello(req, res) { res.end(settings.greeting); });\n");
  const Variable* s = find_var(c, "settings");
  EXPECT_EQ(s->writers, Lines{"set"});
  EXPECT_EQ(s->cls, VarClass::kShare);
  for (const char* call : {"Object.defineProperty(o, 'k', { value: 1 })", "Reflect.set(o, 'k', 1)",
                           "[].push.call(o, 1)", "helper(o)", "lib.merge(o, {})"}) {
    auto d = must_compile("var lib = require('lodash');\nvar o = {};\nfunction helper(x) { x.k = 1; }\n"
                          "setTimeout(function w() { " + std::string(call) + "; }, 1);\n"
                          "setTimeout(function r() { console.log(o.k); }, 2);\n");
    EXPECT_EQ(find_var(d, "o")->writers, Lines{"w"}) << call;
  }
  // Pure builtins, core modules and per-request methods only read it.
  for (const char* call : {"JSON.stringify(o)", "String(o)", "Object.keys(o)", "console.log(o)",
                           "fs.writeFile('f', o, function () {})"}) {
    auto d = must_compile("var fs = require('fs');\nvar o = {};\nsetTimeout(function w() { " + std::string(call) +
                          "; }, 1);\nsetTimeout(function r() { console.log(o.k); }, 2);\n");
    EXPECT_TRUE(find_var(d, "o")->writers.empty()) << call;
    EXPECT_EQ(find_var(d, "o")->cls, VarClass::kScope) << call;
  }
}

// A const primitive (literal, template, arithmetic, Number(..)…) handed to a helper is a read:
// primitives are immutable. The burn app's `burn(seed, ROUNDS)` must keep its handler replicable.
TEST(CompileTest, ConstPrimitivePassedToAHelperIsRead) {
  for (const char* init : {"Number(process.env.R || 5)", "42", "'x'", "`t${1}`", "2 * 3", "-1", "parseInt('7', 10)"}) {
    auto c = must_compile("const R = " + std::string(init) + ";\nfunction burn(s, r) { return s * r; }\n"
                          "setTimeout(function t() { console.log(burn(1, R)); }, 1);\n");
    EXPECT_TRUE(find_var(c, "R")->writers.empty()) << init;
    EXPECT_TRUE(c.fluxions[1].replicable) << init;
  }
  // An object, a `let`, or a logical operator's operand may still be changed by the helper.
  for (const char* decl : {"const R = {n: 1}", "let R = 5", "const R = x || {}", "const R = Number"}) {
    auto c = must_compile(std::string(decl) + ";\nfunction burn(s, r) { return s; }\n"
                          "setTimeout(function t() { console.log(burn(1, R)); }, 1);\n");
    EXPECT_FALSE(c.fluxions[1].replicable) << decl;
  }
}

TEST(CompileTest, ClassInstanceIsPinnedToItsOwnerButMapIsCopied) {
  auto c = must_compile("class Counter { constructor() { this.n = 0; } }\nvar k = new Counter();\n"
                        "var fmt = new Intl.NumberFormat('en');\nvar m = new Map();\n"
                        "setTimeout(function t() { console.log(k.n, m.size, fmt.format(1)); }, 1);\n");
  EXPECT_EQ(tags_of(c, "t"), (Lines{"grp_fmt", "grp_k"}));
  EXPECT_EQ(tags_of(c, "main"), (Lines{"grp_fmt", "grp_k"}));
  EXPECT_EQ(find_var(c, "m")->cls, VarClass::kScope);
}

TEST(CompileTest, NonMutatingMethodsDoNotWriteTheirReceiver) {
  auto c = must_compile("var app = require('express')();\nvar name = 'x', list = [1], cache = new Map();\n"
                        "app.get('/a', function a(req, res) { res.end(name.toUpperCase() + list.join(',') + cache.get('k')); });\n"
                        "app.get('/b', function b(req, res) { res.end(name.trim() + list.map(String) + cache.has('k')); });\n");
  for (const char* n : {"name", "list", "cache"}) {
    EXPECT_TRUE(find_var(c, n)->writers.empty()) << n;
    EXPECT_EQ(find_var(c, n)->cls, VarClass::kScope) << n;
  }
  auto d = must_compile("var list = [];\nsetTimeout(function a() { list.push(1); }, 1);\n"
                        "setTimeout(function b() { list.sort(); }, 1);\n");
  EXPECT_EQ(find_var(d, "list")->writers, (Lines{"a", "b"}));
}

TEST(CompileTest, UnicodeEscapedIdentifierIsRefusedWithALocation) {
  CompileOptions o;
  o.filename = "u.js";
  for (const char* src : {"\\u0065val('1');\n", "var \\u0063tx = 1;\n", "var a = 1;\nconsole.log(\\u{61});\n"}) {
    auto c = compile(src, o);
    ASSERT_FALSE(c.ok()) << src;
    EXPECT_EQ(c.status().code(), StatusCode::kUnimplemented) << src;
    EXPECT_EQ(c.status().message().rfind("u.js:", 0), 0u) << c.status().message();
    EXPECT_NE(c.status().message().find("unicode escape"), std::string::npos) << c.status().message();
  }
}

TEST(CompileTest, TooManyCtxNamesIsALocatedError) {
  std::string src = "var v0 = 0";
  const size_t n = flux::kMaxNamesPerList + 1;
  for (size_t i = 1; i < n; ++i) src += ", v" + std::to_string(i) + " = 0";
  src += ";\nsetTimeout(function t() { console.log(v0";
  for (size_t i = 1; i < n; ++i) src += ", v" + std::to_string(i);
  src += "); }, 1);\n";
  CompileOptions o;
  o.filename = "big.js";
  auto c = compile(src, o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message().rfind("big.js:2:", 0), 0u) << c.status().message();
  EXPECT_NE(c.status().message().find("ctx"), std::string::npos) << c.status().message();
}

TEST(CompileTest, JsonHasTheDocumentedShape) {
  auto c = must_compile("var app = require('express')();\napp.get('/', function h(req, res) { res.end(); });\n"
                        "app.get('/x', handler);\n");
  boost::json::object j = to_json(c);
  EXPECT_EQ(j.at("version").to_number<int64_t>(), 1);
  EXPECT_EQ(j.at("source").as_string(), "t.js");
  const auto& f1 = j.at("fluxions").as_array().at(1).as_object();
  EXPECT_EQ(f1.at("id").as_string(), "h");
  EXPECT_FALSE(f1.at("root").as_bool());
  const auto& s = j.at("fluxions").as_array().at(0).as_object().at("streams").as_array().at(0).as_object();
  EXPECT_EQ(s.at("type").as_string(), "start");
  EXPECT_EQ(s.at("callee").as_string(), "app.get");
  EXPECT_EQ(s.at("line").to_number<int64_t>(), 2);
  EXPECT_EQ(s.at("args").as_array().size(), 2u);
  EXPECT_EQ(j.at("skipped").as_array().size(), 1u);
  EXPECT_EQ(j.at("requires").as_array().at(0).as_string(), "express");
  // Variables sorted by name.
  std::vector<std::string> names;
  for (const auto& v : j.at("variables").as_array()) names.emplace_back(v.at("name").as_string());
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  auto back = flux::from_json(j);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(flux::write_text(*back), to_text(c));
}

}  // namespace
}  // namespace chiron::fluxc
