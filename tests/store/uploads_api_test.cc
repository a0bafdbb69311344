// Resumable uploads through the router: chunks, resume after a disconnect, crash leftovers,
// checksum failures, expiry.
#include <fstream>

#include <gtest/gtest.h>

#include "common/sha256.h"
#include "store_testutil.h"

namespace chiron::store {
namespace {

namespace fs = std::filesystem;
using testing::content_of;
using testing::error_code_of;
using testing::json_of;
using testing::StoreEnv;

const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};

std::string create_body(std::string path, size_t size, std::string sha) {
  return R"({"path":")" + path + R"(","size":)" + std::to_string(size) + R"(,"sha256":")" + sha + "\"}";
}

std::string make_content(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 13) % 26);
  return s;
}

// Creates an upload of `content` in chunks of `chunk` bytes; returns its id.
std::string create(StoreEnv& env, const std::string& path, const std::string& content) {
  auto r = env.push("POST", "/api/v1/channels/alice/uploads", create_body(path, content.size(), sha256_hex(content)), kJson);
  EXPECT_EQ(r.status, 201) << r.body;
  auto j = json_of(r);
  EXPECT_EQ(j["received"].as_int64(), 0);
  return std::string(j["upload_id"].as_string());
}

net::Response put_chunk(StoreEnv& env, const std::string& id, size_t offset, std::string chunk,
                        std::vector<std::pair<std::string, std::string>> headers = {}) {
  return env.push("PUT", "/api/v1/uploads/" + id + "?offset=" + std::to_string(offset), std::move(chunk), std::move(headers));
}

TEST(UploadsApiTest, ChunkedUploadCommitsAVersion) {
  StoreEnv env([](FilesOptions& o) { o.chunk_size = 1000; });
  std::string content = make_content(2500);
  std::string id = create(env, "assets/big.txt", content);
  for (size_t off = 0; off < content.size(); off += 1000) {
    std::string chunk = content.substr(off, 1000);
    auto r = put_chunk(env, id, off, chunk, {{"X-Chiron-Chunk-Sha256", sha256_hex(chunk)}});
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = json_of(r);
    EXPECT_EQ(j["received"].as_int64(), static_cast<int64_t>(std::min(off + 1000, content.size())));
    EXPECT_EQ(j["done"].as_bool(), off + 1000 >= content.size());
    if (j["done"].as_bool()) {
      EXPECT_EQ(j["version"].as_int64(), 1);
      EXPECT_EQ(j["sha256"].as_string(), sha256_hex(content));
      EXPECT_EQ(j["path"].as_string(), "assets/big.txt");
    }
  }
  EXPECT_EQ(content_of(env.call("GET", "/api/v1/channels/alice/files/assets/big.txt")), content);
  auto events = env.hub.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].second["size"].as_int64(), 2500);
  // The part file is gone (moved into the blob store).
  EXPECT_FALSE(fs::exists(env.dir.path() / "uploads" / (id + ".part")));
  // A retried last chunk (its answer was lost) answers the same, without a new version.
  auto retry = put_chunk(env, id, 2500, "");
  EXPECT_EQ(retry.status, 200) << retry.body;
  EXPECT_EQ(json_of(retry)["version"].as_int64(), 1);
  auto status = json_of(env.push("GET", "/api/v1/uploads/" + id));
  EXPECT_TRUE(status["done"].as_bool());
}

TEST(UploadsApiTest, ResumesAfterADisconnectFromTheAcknowledgedOffset) {
  StoreEnv env([](FilesOptions& o) { o.chunk_size = 100; });
  std::string content = make_content(250);
  std::string id = create(env, "f.txt", content);
  ASSERT_EQ(put_chunk(env, id, 0, content.substr(0, 100)).status, 200);
  // The client lost the answer to its second chunk and reconnects; it asks where to go on.
  ASSERT_EQ(put_chunk(env, id, 100, content.substr(100, 100)).status, 200);
  auto st = env.push("GET", "/api/v1/uploads/" + id);
  ASSERT_EQ(st.status, 200);
  EXPECT_EQ(json_of(st)["received"].as_int64(), 200);
  EXPECT_EQ(json_of(st)["size"].as_int64(), 250);
  // A resend of an old offset is refused with where the server is.
  auto stale = put_chunk(env, id, 100, content.substr(100, 100));
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(error_code_of(stale), "offset_mismatch");
  EXPECT_EQ(json_of(stale)["received"].as_int64(), 200);
  EXPECT_EQ(json_of(stale)["error"].as_object()["received"].as_int64(), 200);
  auto ahead = put_chunk(env, id, 300, "x");
  EXPECT_EQ(ahead.status, 409);
  auto done = put_chunk(env, id, 200, content.substr(200));
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_TRUE(json_of(done)["done"].as_bool());
  EXPECT_EQ(content_of(env.call("GET", "/api/v1/channels/alice/files/f.txt")), content);
}

TEST(UploadsApiTest, UnacknowledgedBytesFromACrashAreDiscarded) {
  StoreEnv env([](FilesOptions& o) { o.chunk_size = 100; });
  std::string content = make_content(200);
  std::string id = create(env, "f.txt", content);
  ASSERT_EQ(put_chunk(env, id, 0, content.substr(0, 100)).status, 200);
  // A crash after writing part of the next chunk, before its commit: garbage past `received`.
  { std::ofstream(env.dir.path() / "uploads" / (id + ".part"), std::ios::app) << "GARBAGE-GARBAGE"; }
  env.reopen();
  EXPECT_EQ(json_of(env.push("GET", "/api/v1/uploads/" + id))["received"].as_int64(), 100);
  auto done = put_chunk(env, id, 100, content.substr(100));
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(content_of(env.call("GET", "/api/v1/channels/alice/files/f.txt")), content);
}

TEST(UploadsApiTest, WholeFileChecksumMismatchDiscardsTheUpload) {
  StoreEnv env;
  std::string content = "real content";
  auto r = env.push("POST", "/api/v1/channels/alice/uploads", create_body("f.txt", content.size(), sha256_hex("claimed")), kJson);
  ASSERT_EQ(r.status, 201);
  std::string id(json_of(r)["upload_id"].as_string());
  auto done = put_chunk(env, id, 0, content);
  EXPECT_EQ(done.status, 422) << done.body;
  EXPECT_EQ(error_code_of(done), "checksum_mismatch");
  EXPECT_EQ(env.push("GET", "/api/v1/uploads/" + id).status, 404);
  EXPECT_EQ(env.call("GET", "/api/v1/channels/alice/files/f.txt").status, 404);
  EXPECT_FALSE(fs::exists(env.dir.path() / "uploads" / (id + ".part")));
}

TEST(UploadsApiTest, ChunkChecksumMismatchStoresNothing) {
  StoreEnv env;
  std::string id = create(env, "f.txt", "abcdef");
  auto bad = put_chunk(env, id, 0, "abc", {{"X-Chiron-Chunk-Sha256", sha256_hex("xyz")}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(error_code_of(bad), "checksum_mismatch");
  EXPECT_EQ(json_of(env.push("GET", "/api/v1/uploads/" + id))["received"].as_int64(), 0);
}

TEST(UploadsApiTest, ValidationAndLimits) {
  StoreEnv env([](FilesOptions& o) {
    o.chunk_size = 10;
    o.max_file_bytes = 1000;
    o.quota_bytes = 500;
  });
  auto post = [&](std::string body) { return env.push("POST", "/api/v1/channels/alice/uploads", body, kJson); };
  EXPECT_EQ(error_code_of(post(create_body("../x", 5, sha256_hex("x")))), "invalid_path");
  EXPECT_EQ(post(create_body("x", 5, "nothex")).status, 400);
  EXPECT_EQ(post(R"({"path":"x","size":-1,"sha256":")" + sha256_hex("") + "\"}").status, 400);
  EXPECT_EQ(post("not json").status, 400);
  EXPECT_EQ(env.push("POST", "/api/v1/channels/alice/uploads", create_body("x", 1, sha256_hex("x"))).status, 415);
  EXPECT_EQ(error_code_of(post(create_body("x", 1001, sha256_hex("x")))), "too_large");
  EXPECT_EQ(error_code_of(post(create_body("x", 501, sha256_hex("x")))), "quota_exceeded");
  std::string id = create(env, "x", "0123456789abc");
  EXPECT_EQ(error_code_of(put_chunk(env, id, 0, "0123456789a")), "too_large");  // > chunk_size
  EXPECT_EQ(put_chunk(env, id, 0, "").status, 200);
  EXPECT_EQ(env.push("PUT", "/api/v1/uploads/" + id).status, 400);  // no offset
  EXPECT_EQ(env.push("PUT", "/api/v1/uploads/" + id + "?offset=-1").status, 400);
  EXPECT_EQ(env.push("GET", "/api/v1/uploads/nonexistent").status, 404);
  EXPECT_EQ(env.push("GET", "/api/v1/uploads/..%2F..%2Fetc").status, 404);
}

TEST(UploadsApiTest, OnlyWritersOfTheChannelSeeOrTouchAnUpload) {
  StoreEnv env;
  std::string id = create(env, "f.txt", "abc");
  EXPECT_EQ(env.call("GET", "/api/v1/uploads/" + id).status, 401);
  EXPECT_EQ(env.as("bob", "PUT", "/api/v1/uploads/" + id + "?offset=0", "abc").status, 403);
  EXPECT_EQ(env.call("GET", "/api/v1/uploads/" + id, "", {{"Authorization", "Bearer push-bob"}}).status, 403);
  EXPECT_EQ(env.as("alice", "GET", "/api/v1/uploads/" + id).status, 200);
}

TEST(UploadsApiTest, DeleteAbandonsAndExpiryCleansUp) {
  StoreEnv env;
  std::string a = create(env, "a.txt", "aaaa");
  ASSERT_EQ(put_chunk(env, a, 0, "aa").status, 200);
  auto del = env.push("DELETE", "/api/v1/uploads/" + a);
  EXPECT_EQ(del.status, 204);
  EXPECT_EQ(env.push("GET", "/api/v1/uploads/" + a).status, 404);
  EXPECT_FALSE(fs::exists(env.dir.path() / "uploads" / (a + ".part")));
  std::string b = create(env, "b.txt", "bbbb");
  ASSERT_EQ(put_chunk(env, b, 0, "bb").status, 200);
  env.clock.advance(std::chrono::hours(23));
  EXPECT_EQ(env.push("GET", "/api/v1/uploads/" + b).status, 200);
  env.clock.advance(std::chrono::hours(2));
  EXPECT_EQ(env.push("GET", "/api/v1/uploads/" + b).status, 404);
  env.reopen();  // open() sweeps
  EXPECT_FALSE(fs::exists(env.dir.path() / "uploads" / (b + ".part")));
  // A stray part file without a row is removed at open too.
  { std::ofstream(env.dir.path() / "uploads" / "deadbeef.part") << "x"; }
  env.reopen();
  EXPECT_FALSE(fs::exists(env.dir.path() / "uploads" / "deadbeef.part"));
}

TEST(UploadsApiTest, ACrashBetweenBlobAndCommitIsFinishedByTheRetry) {
  StoreEnv env;
  std::string content = "complete";
  std::string id = create(env, "f.txt", content);
  ASSERT_EQ(put_chunk(env, id, 0, content.substr(0, 4)).status, 200);
  // Simulate: last chunk durable and acknowledged in the db, part adopted into the blob store,
  // then a crash before the version commit.
  {
    std::ofstream(env.dir.path() / "uploads" / (id + ".part"), std::ios::app) << content.substr(4);
    auto db = testing::open_db(env.dir.path());
    ASSERT_TRUE(db->write([&](service::Tx& tx) -> Status {
      return tx.exec("UPDATE file_uploads SET received = 8 WHERE id = ?", {id}).status();
    }).ok());
  }
  fs::path blob = env.dir.path() / "blobs" / sha256_hex(content).substr(0, 2);
  fs::create_directories(blob);
  fs::rename(env.dir.path() / "uploads" / (id + ".part"), blob / sha256_hex(content));
  env.reopen();
  EXPECT_EQ(env.call("GET", "/api/v1/channels/alice/files/f.txt").status, 404);  // not visible yet
  auto retry = put_chunk(env, id, 8, "");
  ASSERT_EQ(retry.status, 200) << retry.body;
  EXPECT_EQ(json_of(retry)["version"].as_int64(), 1);
  EXPECT_EQ(content_of(env.call("GET", "/api/v1/channels/alice/files/f.txt")), content);
}

}  // namespace
}  // namespace chiron::store
