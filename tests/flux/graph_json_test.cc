// The JSON form of a fluxion Program (graph.h): its exact shape, round trips, unknown keys
// ignored (the compiler's and the service graph's richer documents), and typed errors with paths.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <random>
#include <string>

#include "flux/graph.h"
#include "graph_testutil.h"

namespace chiron::flux {
namespace {

namespace json = boost::json;
using testing::kListing2;
using testing::listing2_program;

std::string error_of(std::string_view doc) {
  Result<Program> r = read_json(doc);
  if (r.ok()) return "(accepted)";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(GraphJsonTest, ShapeIsTheContract) {
  Program p;
  p.fluxions.push_back({"main", {"grp_res"}, {}, {{StreamType::kStart, {"h"}, {"res"}}}, "app.get('/', >> h);"});
  p.fluxions.push_back({"h", {}, {"n"}, {}, ""});
  EXPECT_EQ(json::serialize(to_json(p)),
            R"({"version":1,"fluxions":[)"
            R"({"id":"main","tags":["grp_res"],"ctx":[],"streams":[{"type":"start","dest":["h"],"vars":["res"]}],)"
            R"("body":"app.get('/', >> h);"},)"
            R"({"id":"h","tags":[],"ctx":["n"],"streams":[],"body":""}]})");
  EXPECT_EQ(json::serialize(to_json(p.fluxions[1])), R"({"id":"h","tags":[],"ctx":["n"],"streams":[],"body":""})");
}

TEST(GraphJsonTest, Listing2RoundTripsThroughJsonAndBackToTheSameText) {
  const Program p = listing2_program();
  Result<Program> back = read_json(json::serialize(to_json(p)));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, p);
  EXPECT_EQ(write_text(*back), kListing2);
  Result<Program> from_value = from_json(json::value(to_json(p)));
  ASSERT_TRUE(from_value.ok());
  EXPECT_EQ(*from_value, p);
}

TEST(GraphJsonTest, IgnoresUnknownKeysOfRicherDocuments) {
  // The compiler's -g output and the service graph add their own keys at every level.
  const std::string doc = R"({
    "version": 1, "source": "app.js", "now_ms": 1763800000000, "window_s": 10,
    "variables": [{"name": "res", "class": "stream"}], "requires": [], "skipped": [],
    "fluxions": [
      {"id": "main", "root": true, "span": [0, 200], "tags": ["grp_res"], "ctx": [], "device": "net",
       "replicas": 1, "handled": 12, "failed": 0, "queued": 3, "busy_us": 9000, "extra": {"deep": [1, {"x": null}]},
       "streams": [{"type": "start", "dest": ["handler"], "vars": ["res"], "args": ["req", "res"],
                    "callee": "app.get", "line": 5, "messages": 40, "rate": 2.5}],
       "body": "app.get('/', >> handler);"},
      {"id": "handler", "streams": [{"type": "post", "dest": ["reply"]}]},
      {"id": "reply", "tags": ["grp_res"], "ctx": ["count"]}
    ]})";
  Result<Program> r = read_json(doc);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->fluxions.size(), 3u);
  EXPECT_EQ(r->fluxions[0], (Fluxion{"main", {"grp_res"}, {}, {{StreamType::kStart, {"handler"}, {"res"}}},
                                     "app.get('/', >> handler);"}));
  EXPECT_EQ(r->fluxions[1], (Fluxion{"handler", {}, {}, {{StreamType::kPost, {"reply"}, {}}}, ""}));
  EXPECT_EQ(r->fluxions[2], (Fluxion{"reply", {"grp_res"}, {"count"}, {}, ""}));
}

TEST(GraphJsonTest, EmptyProgram) {
  EXPECT_EQ(json::serialize(to_json(Program{})), R"({"version":1,"fluxions":[]})");
  EXPECT_EQ(*read_json(R"({"version":1,"fluxions":[]})"), Program{});
}

TEST(GraphJsonTest, BodiesKeepAnyText) {
  Program p;
  p.fluxions.push_back({"a", {}, {}, {}, "line\r\n\"quoted\" \\ \t é 🚀\n\n"});
  Result<Program> r = read_json(json::serialize(to_json(p)));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, p);  // the JSON form is exact, unlike the text form's line rules
}

struct BadJson {
  std::string_view doc;
  std::string_view error;
};

class GraphJsonErrorTest : public ::testing::TestWithParam<BadJson> {};

TEST_P(GraphJsonErrorTest, NamesThePathAndTheReason) { EXPECT_EQ(error_of(GetParam().doc), GetParam().error); }

INSTANTIATE_TEST_SUITE_P(
    HostileDocuments, GraphJsonErrorTest,
    ::testing::Values(
        BadJson{"", "1:1: invalid JSON (incomplete JSON)"},
        BadJson{"{\"version\":1,\n \"fluxions\": [}", "2:15: invalid JSON (syntax error)"},
        BadJson{"{} x", "1:4: invalid JSON (extra data)"},
        BadJson{"[1]", "document: must be a JSON object"},
        BadJson{R"({"fluxions":[]})", "version: missing (must be 1)"},
        BadJson{R"({"version":2,"fluxions":[]})", "version: must be 1"},
        BadJson{R"({"version":"1","fluxions":[]})", "version: must be 1"},
        BadJson{R"({"version":1})", "fluxions: missing (must be an array of fluxions)"},
        BadJson{R"({"version":1,"fluxions":{}})", "fluxions: must be an array of fluxions"},
        BadJson{R"({"version":1,"fluxions":[3]})", "fluxions[0]: must be an object"},
        BadJson{R"({"version":1,"fluxions":[{}]})", "fluxions[0].id: missing (must be a string)"},
        BadJson{R"({"version":1,"fluxions":[{"id":7}]})", "fluxions[0].id: must be a string"},
        BadJson{R"({"version":1,"fluxions":[{"id":"a b"}]})", "fluxions[0].id: 'a b' is not a valid fluxion id"},
        BadJson{R"({"version":1,"fluxions":[{"id":"null"}]})", "fluxions[0].id: 'null' is not a valid fluxion id"},
        BadJson{R"({"version":1,"fluxions":[{"id":"a"},{"id":"a"}]})",
                "fluxions[1].id: duplicate fluxion id 'a' (also fluxions[0])"},
        BadJson{R"({"version":1,"fluxions":[{"id":"a","tags":"t"}]})", "fluxions[0].tags: must be an array of identifiers"},
        BadJson{R"({"version":1,"fluxions":[{"id":"a","tags":["t",1]}]})",
                "fluxions[0].tags[1]: must be a string (an identifier)"},
        BadJson{R"({"version":1,"fluxions":[{"id":"a","ctx":["x","x"]}]})",
                "fluxions[0].ctx[1]: duplicate context variable 'x'"},
        BadJson{R"({"version":1,"fluxions":[{"id":"a","streams":{}}]})", "fluxions[0].streams: must be an array of streams"},
        BadJson{R"({"version":1,"fluxions":[{"id":"a","streams":[null]}]})", "fluxions[0].streams[0]: must be an object"},
        BadJson{R"({"version":1,"fluxions":[{"id":"a","streams":[{"dest":["a"]}]}]})",
                "fluxions[0].streams[0].type: missing (\"start\" or \"post\")"},
        BadJson{R"({"version":1,"fluxions":[{"id":"a","streams":[{"type":">>","dest":["a"]}]}]})",
                "fluxions[0].streams[0].type: must be \"start\" or \"post\""},
        BadJson{R"({"version":1,"fluxions":[{"id":"a"},{"id":"b"},{"id":"c","streams":[{"type":"post","dest":"a"}]}]})",
                "fluxions[2].streams[0].dest: must be an array of identifiers"},
        BadJson{R"({"version":1,"fluxions":[{"id":"a","streams":[{"type":"post"}]}]})",
                "fluxions[0].streams[0].dest: missing (must be an array of identifiers)"},
        BadJson{R"({"version":1,"fluxions":[{"id":"a","streams":[{"type":"post","dest":[]}]}]})",
                "fluxions[0].streams[0].dest: must name at least one fluxion"},
        BadJson{R"({"version":1,"fluxions":[{"id":"a","streams":[{"type":"post","dest":["a","zz"]}]}]})",
                "fluxions[0].streams[0].dest[1]: unknown fluxion 'zz'"},
        BadJson{R"({"version":1,"fluxions":[{"id":"a","streams":[{"type":"post","dest":["a"],"vars":[{}]}]}]})",
                "fluxions[0].streams[0].vars[0]: must be a string (an identifier)"},
        BadJson{R"({"version":1,"fluxions":[{"id":"a","streams":[{"type":"post","dest":["a"],"vars":["<img>"]}]}]})",
                "fluxions[0].streams[0].vars[0]: '<img>' is not a valid message variable"},
        BadJson{R"({"version":1,"fluxions":[{"id":"a","body":["x"]}]})", "fluxions[0].body: must be a string"},
        BadJson{"{\"version\":1,\"fluxions\":[{\"id\":\"a\",\"body\":\"\xff\"}]}", "1:44: invalid JSON (syntax error)"}));

TEST(GraphJsonTest, DeepNestingIsRefused) {
  std::string doc = R"({"version":1,"fluxions":[],"x":)" + std::string(10000, '[') + std::string(10000, ']') + "}";
  const std::string err = error_of(doc);
  EXPECT_NE(err.find("invalid JSON (too deep)"), std::string::npos) << err;
}

TEST(GraphJsonTest, Limits) {
  json::object f;
  f["id"] = "a";
  f["body"] = std::string(kMaxBodyBytes + 1, 'x');
  json::object doc;
  doc["version"] = 1;
  doc["fluxions"] = json::array{f};
  EXPECT_EQ(error_of(json::serialize(doc)), "fluxions[0].body: longer than 1048576 bytes");
  json::array tags;
  for (size_t i = 0; i <= kMaxNamesPerList; ++i) tags.emplace_back("t" + std::to_string(i));
  f["body"] = "";
  f["tags"] = tags;
  doc["fluxions"] = json::array{f};
  EXPECT_EQ(error_of(json::serialize(doc)), "fluxions[0].tags: more than 10000 names");
  tags.pop_back();
  f["tags"] = tags;
  doc["fluxions"] = json::array{f};
  EXPECT_TRUE(read_json(json::serialize(doc)).ok());
  EXPECT_EQ(error_of(std::string(kMaxDocumentBytes + 1, ' ')), "1:1: JSON document longer than 67108864 bytes");
}

TEST(GraphJsonTest, RandomProgramsRoundTrip) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 2000; ++i) {
    const Program p = testing::random_program(rng);
    const std::string doc = json::serialize(to_json(p));
    Result<Program> back = read_json(doc);
    ASSERT_TRUE(back.ok()) << back.status().to_string() << "\n" << doc;
    ASSERT_EQ(*back, p) << doc;
    // Text → JSON → text is byte-identical too.
    const std::string text = write_text(p);
    ASSERT_EQ(write_text(*read_json(json::serialize(to_json(*read_text(text))))), text);
  }
}

}  // namespace
}  // namespace chiron::flux
