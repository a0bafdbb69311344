// The Files routes driven through net::Router::handle (no sockets), with a FakeAccess.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "common/sha256.h"
#include "store_testutil.h"

namespace chiron::store {
namespace {

using testing::content_of;
using testing::error_code_of;
using testing::json_of;
using testing::StoreEnv;

constexpr const char* kFile = "/api/v1/channels/alice/files/src/main.cc";

TEST(FilesApiTest, PutThenGetReturnsContentWithHeaders) {
  StoreEnv env;
  auto put = env.push("PUT", kFile, "int main() {}\n");
  ASSERT_EQ(put.status, 201) << put.body;
  auto pj = json_of(put);
  EXPECT_EQ(pj["version"].as_int64(), 1);
  EXPECT_EQ(pj["sha256"].as_string(), sha256_hex("int main() {}\n"));
  EXPECT_FALSE(pj["unchanged"].as_bool());
  auto get = env.call("GET", kFile);
  ASSERT_EQ(get.status, 200) << get.body;
  EXPECT_EQ(content_of(get), "int main() {}\n");
  EXPECT_EQ(*get.headers.get("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(*get.headers.get("ETag"), "\"" + sha256_hex("int main() {}\n") + "\"");
  EXPECT_EQ(*get.headers.get("X-Chiron-Version"), "1");
  EXPECT_EQ(*get.headers.get("X-Chiron-Sha256"), sha256_hex("int main() {}\n"));
  auto cached = env.call("GET", kFile, "", {{"If-None-Match", std::string(*get.headers.get("ETag"))}});
  EXPECT_EQ(cached.status, 304);
}

TEST(FilesApiTest, UnchangedSaveAnswers200AndPublishesNothing) {
  StoreEnv env;
  ASSERT_EQ(env.push("PUT", kFile, "x").status, 201);
  auto again = env.push("PUT", kFile, "x");
  EXPECT_EQ(again.status, 200);
  EXPECT_TRUE(json_of(again)["unchanged"].as_bool());
  auto events = env.hub.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].first, 10);
  EXPECT_EQ(events[0].second["type"].as_string(), "file");
  EXPECT_EQ(events[0].second["path"].as_string(), "src/main.cc");
  EXPECT_EQ(events[0].second["version"].as_int64(), 1);
  EXPECT_FALSE(events[0].second["deleted"].as_bool());
}

TEST(FilesApiTest, HistoryOldVersionsAndDelete) {
  StoreEnv env;
  env.access.set_live_session("alice", 5);
  ASSERT_EQ(env.push("PUT", kFile, "one").status, 201);
  env.access.set_live_session("alice", 0);
  ASSERT_EQ(env.push("PUT", kFile, "two").status, 201);
  EXPECT_EQ(content_of(env.call("GET", std::string(kFile) + "?version=1")), "one");
  EXPECT_EQ(content_of(env.call("GET", kFile)), "two");
  auto del = env.push("DELETE", kFile);
  ASSERT_EQ(del.status, 200) << del.body;
  EXPECT_EQ(json_of(del)["version"].as_int64(), 3);
  EXPECT_TRUE(json_of(del)["deleted"].as_bool());
  EXPECT_EQ(env.call("GET", kFile).status, 404);
  EXPECT_EQ(env.call("GET", std::string(kFile) + "?version=3").status, 404);
  EXPECT_EQ(content_of(env.call("GET", std::string(kFile) + "?version=2")), "two");
  EXPECT_EQ(env.call("GET", std::string(kFile) + "?version=abc").status, 400);
  auto h = env.call("GET", "/api/v1/channels/alice/history/src/main.cc");
  ASSERT_EQ(h.status, 200) << h.body;
  auto versions = json_of(h)["versions"].as_array();
  ASSERT_EQ(versions.size(), 3u);
  EXPECT_EQ(versions[0].as_object().at("version").as_int64(), 3);
  EXPECT_TRUE(versions[0].as_object().at("deleted").as_bool());
  EXPECT_EQ(versions[2].as_object().at("session_id").as_int64(), 5);
  EXPECT_TRUE(versions[1].as_object().at("session_id").is_null());
  EXPECT_EQ(env.push("DELETE", kFile).status, 404);
  auto events = env.hub.events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_TRUE(events[2].second["deleted"].as_bool());
  EXPECT_EQ(env.call("GET", "/api/v1/channels/alice/history/nope.txt").status, 404);
}

TEST(FilesApiTest, ListSortedWithUsage) {
  StoreEnv env;
  ASSERT_EQ(env.push("PUT", "/api/v1/channels/alice/files/b.txt", "bb").status, 201);
  ASSERT_EQ(env.push("PUT", "/api/v1/channels/alice/files/a/z.txt", "a").status, 201);
  ASSERT_EQ(env.push("PUT", "/api/v1/channels/alice/files/gone", "g").status, 201);
  ASSERT_EQ(env.push("DELETE", "/api/v1/channels/alice/files/gone").status, 200);
  auto list = env.call("GET", "/api/v1/channels/alice/files");
  ASSERT_EQ(list.status, 200) << list.body;
  auto j = json_of(list);
  auto files = j["files"].as_array();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].as_object().at("path").as_string(), "a/z.txt");
  EXPECT_EQ(files[1].as_object().at("path").as_string(), "b.txt");
  EXPECT_EQ(files[1].as_object().at("size").as_int64(), 2);
  EXPECT_EQ(j["count"].as_int64(), 2);
  EXPECT_EQ(j["total_bytes"].as_int64(), 3);
  EXPECT_EQ(j["usage_bytes"].as_int64(), 4);  // the deleted file's blob is history
  EXPECT_EQ(j["quota_bytes"].as_int64(), 100ll << 20);
}

TEST(FilesApiTest, Authorization) {
  StoreEnv env;
  // Anonymous and other users read public channels but cannot write them.
  EXPECT_EQ(env.call("PUT", kFile, "x").status, 401);
  auto bob = env.as("bob", "PUT", kFile, "x");
  EXPECT_EQ(bob.status, 403);
  EXPECT_EQ(error_code_of(bob), "forbidden");
  auto bob_push = env.call("PUT", kFile, "x", {{"Authorization", "Bearer push-bob"}});
  EXPECT_EQ(bob_push.status, 403);
  // The owner by cookie needs the CSRF token.
  auto no_csrf = env.as("alice", "PUT", kFile, "x", {{"X-Test-No-Csrf", "1"}});
  EXPECT_EQ(no_csrf.status, 403);
  EXPECT_EQ(error_code_of(no_csrf), "csrf");
  EXPECT_EQ(env.as("alice", "PUT", kFile, "x").status, 201);
  EXPECT_EQ(env.push("PUT", kFile, "y").status, 201);
  EXPECT_EQ(env.call("GET", kFile).status, 200);
  EXPECT_EQ(env.as("bob", "DELETE", kFile).status, 403);
  EXPECT_EQ(env.call("POST", "/api/v1/channels/alice/uploads", R"({"path":"a","size":1,"sha256":")" + sha256_hex("a") + "\"}",
                     {{"Content-Type", "application/json"}}).status, 401);
  // Unknown channels 404.
  EXPECT_EQ(env.call("GET", "/api/v1/channels/nobody/files").status, 404);
}

TEST(FilesApiTest, PrivateChannelIs404ToNonReaders) {
  StoreEnv env;
  const std::string file = "/api/v1/channels/secret/files/plan.md";
  ASSERT_EQ(env.as("carol", "PUT", file, "# plan").status, 201);
  for (auto r : {env.call("GET", file), env.as("alice", "GET", file), env.call("GET", "/api/v1/channels/secret/files"),
                 env.as("alice", "GET", "/api/v1/channels/secret/history/plan.md"), env.as("alice", "PUT", file, "x"),
                 env.push("GET", file)}) {
    EXPECT_EQ(r.status, 404) << r.body;
    EXPECT_EQ(r.body.find("plan"), std::string::npos);
  }
  EXPECT_EQ(env.as("bob", "GET", file).status, 200);      // invited
  EXPECT_EQ(env.as("bob", "PUT", file, "x").status, 403);  // invited readers do not write
  EXPECT_EQ(content_of(env.as("carol", "GET", file)), "# plan");
}

TEST(FilesApiTest, BadPathsAre400InvalidPath) {
  StoreEnv env;
  for (std::string target : {"/api/v1/channels/alice/files/a/%2e%2e/b", "/api/v1/channels/alice/files/..",
                             "/api/v1/channels/alice/files/a%5Cb", "/api/v1/channels/alice/files/a%00b",
                             "/api/v1/channels/alice/files/%ff", "/api/v1/channels/alice/files/a/./b"}) {
    auto r = env.push("PUT", target, "x");
    EXPECT_EQ(r.status, 400) << target << " " << r.body;
    EXPECT_EQ(error_code_of(r), "invalid_path") << target;
  }
  auto r = env.push("PUT", "/api/v1/channels/alice/files/" + std::string(1100, 'a'), "x");
  EXPECT_EQ(error_code_of(r), "invalid_path");
}

TEST(FilesApiTest, ChecksumHeaderIsVerified) {
  StoreEnv env;
  auto bad = env.push("PUT", kFile, "body", {{"X-Chiron-Sha256", sha256_hex("other")}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(error_code_of(bad), "checksum_mismatch");
  EXPECT_EQ(env.call("GET", kFile).status, 404);
  auto good = env.push("PUT", kFile, "body", {{"X-Chiron-Sha256", sha256_hex("body")}});
  EXPECT_EQ(good.status, 201);
}

TEST(FilesApiTest, QuotaExceededIs413WithMegabytes) {
  StoreEnv env([](FilesOptions& o) { o.quota_bytes = 1 << 20; });
  ASSERT_EQ(env.push("PUT", "/api/v1/channels/alice/files/a.bin", std::string(700 << 10, 'a')).status, 201);
  auto over = env.push("PUT", "/api/v1/channels/alice/files/b.bin", std::string(700 << 10, 'b'));
  EXPECT_EQ(over.status, 413);
  EXPECT_EQ(error_code_of(over), "quota_exceeded");
  auto msg = std::string(json_of(over)["error"].as_object()["message"].as_string());
  EXPECT_NE(msg.find("0.7 MB used of 1.0 MB"), std::string::npos) << msg;
  EXPECT_EQ(env.call("GET", "/api/v1/channels/alice/files/b.bin").status, 404);
}

TEST(FilesApiTest, TooManyFilesAndTooLargeBodies) {
  StoreEnv env([](FilesOptions& o) {
    o.max_files = 1;
    o.max_put_bytes = 16;
  });
  ASSERT_EQ(env.push("PUT", "/api/v1/channels/alice/files/a", "1").status, 201);
  auto second = env.push("PUT", "/api/v1/channels/alice/files/b", "2");
  EXPECT_EQ(second.status, 409);
  EXPECT_EQ(error_code_of(second), "too_many_files");
  auto big = env.push("PUT", "/api/v1/channels/alice/files/a", std::string(17, 'x'));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(error_code_of(big), "too_large");
}

TEST(FilesApiTest, FromSha256ReusesAKnownBlob) {
  StoreEnv env;
  ASSERT_EQ(env.push("PUT", "/api/v1/channels/alice/files/old.txt", "moved content").status, 201);
  auto moved = env.push("PUT", "/api/v1/channels/alice/files/new.txt?from_sha256=" + sha256_hex("moved content"));
  ASSERT_EQ(moved.status, 201) << moved.body;
  EXPECT_EQ(content_of(env.call("GET", "/api/v1/channels/alice/files/new.txt")), "moved content");
  auto unknown = env.push("PUT", "/api/v1/channels/alice/files/x?from_sha256=" + sha256_hex("never stored"));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(error_code_of(unknown), "blob_unknown");
  // Another channel cannot claim alice's blob by hash.
  auto foreign = env.call("PUT", "/api/v1/channels/bob/files/x?from_sha256=" + sha256_hex("moved content"), "",
                          {{"Authorization", "Bearer push-bob"}});
  EXPECT_EQ(foreign.status, 404);
  EXPECT_EQ(error_code_of(foreign), "blob_unknown");
  EXPECT_EQ(env.push("PUT", "/api/v1/channels/alice/files/x?from_sha256=zz").status, 400);
}

TEST(FilesApiTest, ContentTypesNeverRenderActiveContent) {
  StoreEnv env;
  auto type_of = [&](std::string path, std::string body) {
    EXPECT_EQ(env.push("PUT", "/api/v1/channels/alice/files/" + path, body).status, 201);
    auto r = env.call("GET", "/api/v1/channels/alice/files/" + path);
    EXPECT_EQ(r.headers.get("X-Content-Type-Options").value_or(""), "nosniff");
    return std::string(r.headers.get("Content-Type").value_or(""));
  };
  EXPECT_EQ(type_of("index.html", "<script>alert(1)</script>"), "text/plain; charset=utf-8");
  EXPECT_EQ(type_of("logo.svg", "<svg onload=alert(1)>"), "text/plain; charset=utf-8");
  EXPECT_EQ(type_of("app.js", "alert(1)"), "text/plain; charset=utf-8");
  EXPECT_EQ(type_of("main.rs", "fn main() {}"), "text/plain; charset=utf-8");
  EXPECT_EQ(type_of("Makefile", "all:\n"), "text/plain; charset=utf-8");
  EXPECT_EQ(type_of("pic.png", "\x89PNG\r\n\x1a\n"), "image/png");
  EXPECT_EQ(type_of("data.bin", std::string("\x00\x01\x02", 3)), "application/octet-stream");
}

TEST(FilesApiTest, LargeContentIsStreamedFromTheBlobFile) {
  StoreEnv env;
  std::string big(1 << 20, 'q');
  big[12345] = 'z';
  ASSERT_EQ(env.push("PUT", "/api/v1/channels/alice/files/big.txt", big).status, 201);
  auto r = env.call("GET", "/api/v1/channels/alice/files/big.txt");
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.file_path.has_value());
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(content_of(r), big);
}

TEST(FilesApiTest, ConcurrentPutsThroughTheRouterKeepEveryVersion) {
  StoreEnv env;
  constexpr int kThreads = 6, kEach = 10;
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) created += env.push("PUT", kFile, std::to_string(t * 100 + i)).status == 201;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(created.load(), kThreads * kEach);
  auto h = json_of(env.call("GET", "/api/v1/channels/alice/history/src/main.cc"));
  EXPECT_EQ(h["versions"].as_array().size(), size_t{kThreads * kEach});
  EXPECT_EQ(*env.call("GET", kFile).headers.get("X-Chiron-Version"), std::to_string(kThreads * kEach));
}

TEST(FilesApiTest, DataSurvivesARestart) {
  StoreEnv env;
  ASSERT_EQ(env.push("PUT", kFile, "durable").status, 201);
  env.reopen();
  EXPECT_EQ(content_of(env.call("GET", kFile)), "durable");
}

}  // namespace
}  // namespace chiron::store
