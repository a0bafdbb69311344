// Line comments through the router.
#include <gtest/gtest.h>

#include "store/files_service.h"
#include "store_testutil.h"

namespace chiron::store {
namespace {

using testing::error_code_of;
using testing::json_of;
using testing::StoreEnv;

const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};
constexpr const char* kComments = "/api/v1/channels/alice/comments";

std::string comment(std::string path, int version, int line, std::string body) {
  boost::json::object o{{"path", path}, {"version", version}, {"line", line}, {"body", body}};
  return boost::json::serialize(o);
}

class CommentsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(env_.push("PUT", "/api/v1/channels/alice/files/main.cc", "line1\nline2\nline3\n").status, 201);
    ASSERT_EQ(env_.push("PUT", "/api/v1/channels/alice/files/main.cc", "only\n").status, 201);
  }
  StoreEnv env_;
};

TEST_F(CommentsApiTest, AReviewerCommentsOnALineOfAVersion) {
  std::vector<std::pair<std::string, boost::json::object>> seen;
  env_.files->on_comment([&](const service::ChannelRef& ch, const boost::json::object& c) { seen.emplace_back(ch.name, c); });
  env_.access.set_live_session("alice", 9);
  auto r = env_.as("bob", "POST", kComments, comment("main.cc", 1, 3, "off by one?"), kJson);
  ASSERT_EQ(r.status, 201) << r.body;
  auto c = json_of(r);
  EXPECT_EQ(c["path"].as_string(), "main.cc");
  EXPECT_EQ(c["version"].as_int64(), 1);
  EXPECT_EQ(c["line"].as_int64(), 3);
  EXPECT_EQ(c["body"].as_string(), "off by one?");
  EXPECT_EQ(c["author"].as_object()["name"].as_string(), "bob");
  EXPECT_EQ(c["author"].as_object()["display_name"].as_string(), "Bob");
  EXPECT_EQ(c["session_id"].as_int64(), 9);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].first, "alice");
  EXPECT_EQ(seen[0].second.at("id"), c["id"]);
  auto events = env_.hub.events();
  ASSERT_EQ(events.back().second["type"].as_string(), "comment");
  EXPECT_EQ(events.back().second["comment"].as_object()["body"].as_string(), "off by one?");
  // Listed, oldest first, filterable by path; anonymous readers see them on a public channel.
  ASSERT_EQ(env_.as("alice", "POST", kComments, comment("main.cc", 2, 1, "fixed"), kJson).status, 201);
  auto list = json_of(env_.call("GET", kComments));
  ASSERT_EQ(list["comments"].as_array().size(), 2u);
  EXPECT_EQ(list["comments"].as_array()[0].as_object()["body"].as_string(), "off by one?");
  EXPECT_TRUE(json_of(env_.call("GET", std::string(kComments) + "?path=other.cc"))["comments"].as_array().empty());
  // Counted in the session's activity.
  ASSERT_TRUE(env_.db->read([&](service::Tx& tx) -> Status {
    auto a = session_activity(tx, 9);
    EXPECT_TRUE(a.ok());
    EXPECT_EQ(a->comments, 2);
    return Status();
  }).ok());
}

TEST_F(CommentsApiTest, LineAndBodyAreValidated) {
  auto post = [&](std::string body) { return env_.as("bob", "POST", kComments, body, kJson); };
  EXPECT_EQ(post(comment("main.cc", 1, 4, "past the end")).status, 400);
  EXPECT_EQ(post(comment("main.cc", 2, 2, "v2 has one line")).status, 400);
  EXPECT_EQ(post(comment("main.cc", 1, 0, "zero")).status, 400);
  EXPECT_EQ(post(comment("main.cc", 3, 1, "no such version")).status, 404);
  EXPECT_EQ(post(comment("nope.cc", 1, 1, "no such file")).status, 404);
  EXPECT_EQ(error_code_of(post(comment("../main.cc", 1, 1, "x"))), "invalid_path");
  EXPECT_EQ(post(comment("main.cc", 1, 1, "")).status, 400);
  EXPECT_EQ(post(comment("main.cc", 1, 1, std::string(4001, 'x'))).status, 400);
  EXPECT_EQ(post(comment("main.cc", 1, 1, std::string(4000, 'x'))).status, 201);
  EXPECT_EQ(post(R"({"path":"main.cc","version":"1","line":1,"body":"x"})").status, 400);
  EXPECT_EQ(env_.as("bob", "POST", kComments, comment("main.cc", 1, 1, "x")).status, 415);
}

TEST_F(CommentsApiTest, WhoMayComment) {
  std::string body = comment("main.cc", 1, 1, "hi");
  EXPECT_EQ(env_.call("POST", kComments, body, kJson).status, 401);
  EXPECT_EQ(error_code_of(env_.push("POST", kComments, body, kJson)), "forbidden");
  auto no_csrf = env_.as("bob", "POST", kComments, body, {{"Content-Type", "application/json"}, {"X-Test-No-Csrf", "1"}});
  EXPECT_EQ(error_code_of(no_csrf), "csrf");
  // Private channel: non-readers get 404, invited readers may comment.
  ASSERT_EQ(env_.as("carol", "PUT", "/api/v1/channels/secret/files/s.txt", "s\n").status, 201);
  EXPECT_EQ(env_.as("alice", "POST", "/api/v1/channels/secret/comments", comment("s.txt", 1, 1, "x"), kJson).status, 404);
  EXPECT_EQ(env_.as("alice", "GET", "/api/v1/channels/secret/comments").status, 404);
  EXPECT_EQ(env_.as("bob", "POST", "/api/v1/channels/secret/comments", comment("s.txt", 1, 1, "x"), kJson).status, 201);
}

TEST_F(CommentsApiTest, AuthorOrOwnerDeletes) {
  auto mk = [&](std::string who) {
    auto r = env_.as(who, "POST", kComments, comment("main.cc", 1, 1, "by " + who), kJson);
    EXPECT_EQ(r.status, 201);
    return std::to_string(json_of(r)["id"].as_int64());
  };
  std::string bobs = mk("bob");
  std::string carols = mk("carol");
  EXPECT_EQ(env_.as("carol", "DELETE", "/api/v1/comments/" + bobs).status, 403);
  EXPECT_EQ(env_.call("DELETE", "/api/v1/comments/" + bobs).status, 401);
  EXPECT_EQ(env_.as("bob", "DELETE", "/api/v1/comments/" + bobs).status, 204);   // author
  EXPECT_EQ(env_.as("alice", "DELETE", "/api/v1/comments/" + carols).status, 204);  // channel owner
  EXPECT_EQ(env_.as("alice", "DELETE", "/api/v1/comments/" + carols).status, 404);
  EXPECT_EQ(env_.as("alice", "DELETE", "/api/v1/comments/abc").status, 404);
  auto events = env_.hub.events();
  EXPECT_EQ(events.back().second["type"].as_string(), "comment_deleted");
  EXPECT_EQ(std::to_string(events.back().second["id"].as_int64()), carols);
  EXPECT_TRUE(json_of(env_.call("GET", kComments))["comments"].as_array().empty());
}

}  // namespace
}  // namespace chiron::store
