#include "fluxc/emit.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <algorithm>
#include <filesystem>
#include <set>
#include <fstream>
#include <sstream>
#include <string>

#include "fluxc/compile.h"
#include "fluxc/parse.h"
#include "fluxc/scope.h"

namespace chiron::fluxc {
namespace {

namespace fs = std::filesystem;

// The paper's Listing 1, with `template` defined (a copyable function).
constexpr const char* kListing1 = R"(var app = require('express')(), fs = require('fs'), count = 0;
function template(n, data) { return 'request ' + n + ': ' + data.length; }
app.get('/', function handler(req, res) {
  fs.readFile(__filename, function reply(err, data) {
    count += 1;
    res.send(err || template(count, data));
  });
});
app.listen(8080);
)";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class EmitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("fluxc-emit-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Compiles `source` as /srv/app/app.js and emits it under dir_/out.
  void emit_source(const std::string& source) {
    CompileOptions o;
    o.filename = "app.js";
    auto c = compile(source, o);
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    EmitOptions e;
    e.original = "/srv/app/app.js";
    Status st = emit(*c, dir_ / "out", e);
    ASSERT_TRUE(st.ok()) << st.to_string();
  }
  std::string file(const std::string& rel) { return slurp(dir_ / "out" / rel); }

  fs::path dir_;
};

TEST_F(EmitTest, Listing1ModulesCarryTheRewrites) {
  emit_source(kListing1);
  std::string main_js = file("fluxions/main.js");
  // The persistent counter's initial value is recorded in main's ctx for the snapshot.
  EXPECT_NE(main_js.find("count = (ctx.count = 0)"), std::string::npos) << main_js;
  // The start callback becomes a placeholder keeping its arity; app.get stays upstream.
  EXPECT_NE(main_js.find("app.get('/', function (__flx_0, __flx_1) { return rt.send(\"handler\", arguments, {}); })"),
            std::string::npos) << main_js;
  EXPECT_NE(main_js.find("createRequire(\"/srv/app/app.js\")"), std::string::npos);
  EXPECT_NE(main_js.find("__dirname = \"/srv/app\""), std::string::npos);

  std::string handler = file("fluxions/handler.js");
  EXPECT_NE(handler.find("var fs = require('fs');"), std::string::npos) << handler;  // re-required import
  EXPECT_NE(handler.find("fs.readFile(__filename, function (__flx_0, __flx_1) { return rt.send(\"reply\", arguments, "
                         "{ get res() { return res; }, set res(__flx_x) { res = __flx_x; } }); })"),
            std::string::npos) << handler;  // the post call stays upstream, res rides along
  EXPECT_NE(handler.find(").apply(undefined, msg.args);"), std::string::npos);  // called plainly, as the callee would

  std::string reply = file("fluxions/reply.js");
  EXPECT_NE(reply.find("ctx.count += 1;"), std::string::npos) << reply;
  EXPECT_NE(reply.find("msg.vars.res.send(err || template(ctx.count, data));"), std::string::npos) << reply;
  EXPECT_NE(reply.find("function template(n, data) {"), std::string::npos) << reply;  // copied source
  EXPECT_NE(reply.find("id: \"reply\", tags: [\"grp_res\"], group: \"main\", params: [\"err\", \"data\"]"),
            std::string::npos) << reply;
}

TEST_F(EmitTest, PlacementGroupsListing1) {
  emit_source(kListing1);
  auto doc = boost::json::parse(file("placement.json")).as_object();
  auto groups = doc.at("groups").as_array();
  ASSERT_EQ(groups.size(), 2u) << file("placement.json");
  auto g0 = groups[0].as_object();
  EXPECT_EQ(g0.at("name").as_string(), "main");
  EXPECT_EQ(g0.at("thread").as_string(), "main");
  EXPECT_EQ(boost::json::serialize(g0.at("fluxions")), R"(["main","reply"])");
  EXPECT_EQ(boost::json::serialize(g0.at("ctx")), R"(["count"])");  // template is copied, not snapshotted
  auto g1 = groups[1].as_object();
  EXPECT_EQ(g1.at("thread").as_string(), "pool");
  EXPECT_EQ(boost::json::serialize(g1.at("fluxions")), R"(["handler"])");
  EXPECT_EQ(doc.at("fluxions").at("handler").at("thread").as_string(), "pool");
  EXPECT_EQ(doc.at("fluxions").at("reply").at("group").as_string(), "main");
}

TEST_F(EmitTest, EmittedModulesParseWithOurSyntaxTree) {
  emit_source(kListing1);
  for (const char* rel : {"fluxions/main.js", "fluxions/handler.js", "fluxions/reply.js", "main.js", "flx-runtime.js"}) {
    std::string text = file(rel);
    ASSERT_FALSE(text.empty()) << rel;
    auto tree = SyntaxTree::parse(text, rel);
    EXPECT_TRUE(tree.ok()) << rel << ": " << tree.status().to_string();
  }
  EXPECT_NE(file("flx-runtime.js").find("FLX_ISOLATION"), std::string::npos);  // embedded runtime
}

TEST_F(EmitTest, StatesFigureSharesCAndStreamsB) {
  emit_source(R"(var app = require('express')(), fs = require('fs');
var a = 0, c = 0;
app.get('/', function onReq(req, res) {
  var b = req.count;
  fs.readFile('in.txt', function add(e, v) {
    a += b + c + v;
    fs.writeFile('out.txt', a, function end(updt) {
      c = updt;
    });
  });
});
)");
  std::string add = file("fluxions/add.js");
  EXPECT_NE(add.find("ctx.a += msg.vars.b + ctx.c + v;"), std::string::npos) << add;
  EXPECT_NE(file("fluxions/end.js").find("ctx.c = updt;"), std::string::npos);
  EXPECT_NE(file("fluxions/main.js").find("a = (ctx.a = 0), c = (ctx.c = 0)"), std::string::npos) << file("fluxions/main.js");
  auto doc = boost::json::parse(file("placement.json")).as_object();
  // add and end share grp_c: one worker group, off the main thread.
  EXPECT_EQ(doc.at("fluxions").at("add").at("group"), doc.at("fluxions").at("end").at("group"));
  EXPECT_EQ(std::string(doc.at("fluxions").at("add").at("thread").as_string()).substr(0, 7), "worker:");
}

TEST_F(EmitTest, RenamesRuntimeParametersThatTheProgramUses) {
  emit_source(R"(var app = require('express')(), fs = require('fs'), ctx = { n: 0 };
app.get('/', function handler(req, res) {
  fs.readFile('x', function reply(err, msg) {
    ctx.n += 1;
    res.send(msg);
  });
});
)");
  std::string reply = file("fluxions/reply.js");
  EXPECT_NE(reply.find("run: function (__flx_msg, __flx_ctx, rt)"), std::string::npos) << reply;
  EXPECT_NE(reply.find("__flx_ctx.ctx.n += 1;"), std::string::npos) << reply;
  EXPECT_NE(reply.find("__flx_msg.vars.res.send(msg);"), std::string::npos) << reply;
}

TEST_F(EmitTest, CarriedFunctionsAreCalledWithoutAReceiver) {
  emit_source(R"(var express = require('express'), app = express(), getRawBody = require('raw-body');
app.use(function saveBody(req, res, next) {
  getRawBody(req, function (err, buffer) {
    req.body = buffer;
    next();
  });
});
)");
  std::string cb = file("fluxions/anonymous_1000.js");
  EXPECT_NE(cb.find("msg.vars.req.body = buffer;"), std::string::npos) << cb;
  EXPECT_NE(cb.find("(0, msg.vars.next)();"), std::string::npos) << cb;
}

std::set<std::string> free_names(const std::string& source, const std::string& name) {
  std::set<std::string> out;
  auto tree = SyntaxTree::parse(source, name);
  EXPECT_TRUE(tree.ok()) << name << ": " << tree.status().to_string();
  if (!tree.ok()) return out;
  auto scopes = analyze_scopes(*tree);
  EXPECT_TRUE(scopes.ok()) << name << ": " << scopes.status().to_string();
  if (!scopes.ok()) return out;
  for (const auto& r : scopes->refs)
    if (r.binding < 0) out.insert(r.name);
  return out;
}

// The lint of research §7: every emitted module re-parses, and its free names are the runtime's
// (module), builtins, or names already free in the original — no variable lost its binding.
TEST_F(EmitTest, EmittedModulesIntroduceNoFreeNames) {
  const std::set<std::string> builtins = {
      "module", "exports", "require", "process", "console", "Buffer", "setTimeout", "setInterval",
      "setImmediate", "clearTimeout", "clearInterval", "clearImmediate", "queueMicrotask", "undefined",
      "Number", "String", "Boolean", "Object", "Array", "JSON", "Math", "Date", "Error", "TypeError",
      "Promise", "Symbol", "Map", "Set", "RegExp", "parseInt", "parseFloat", "isNaN", "globalThis"};
  const fs::path here = fs::path(__FILE__).parent_path();
  size_t modules = 0;
  for (const char* dir : {"apps", "golden"}) {
    for (const auto& e : fs::directory_iterator(here / dir)) {
      if (e.path().extension() != ".js") continue;
      SCOPED_TRACE(e.path().string());
      std::string source = slurp(e.path());
      CompileOptions o;
      o.filename = e.path().filename().string();
      auto c = compile(source, o);
      ASSERT_TRUE(c.ok()) << c.status().to_string();
      fs::path out = dir_ / e.path().stem();
      EmitOptions eo;
      eo.original = e.path();
      ASSERT_TRUE(emit(*c, out, eo).ok());
      std::set<std::string> allowed = free_names(source, o.filename);
      allowed.insert(builtins.begin(), builtins.end());
      for (const auto& f : c->fluxions) {
        std::string name = "fluxions/" + f.model.id + ".js";
        for (const auto& n : free_names(slurp(out / name), name)) {
          EXPECT_TRUE(allowed.count(n)) << name << " uses '" << n << "', free neither in the original nor a builtin";
        }
        ++modules;
      }
    }
  }
  EXPECT_GT(modules, 20u);
}

TEST_F(EmitTest, UnwritableOutputDirectoryIsAnError) {
  CompileOptions o;
  auto c = compile(kListing1, o);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  fs::create_directories(dir_);
  std::ofstream(dir_ / "file") << "x";
  EmitOptions e;
  e.original = "/srv/app/app.js";
  Status st = emit(*c, dir_ / "file", e);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kIoError);
}

}  // namespace
}  // namespace chiron::fluxc
