// The files PUT path as a fluxion graph (src/store/put_flow.h): its description, its counters,
// and the ordering its `files_versions` tag buys.
#include <atomic>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "common/sha256.h"
#include "flux/runtime.h"
#include "store_testutil.h"

namespace chiron::store {
namespace {

using testing::error_code_of;
using testing::json_of;
using testing::StoreEnv;

constexpr const char* kFile = "/api/v1/channels/alice/files/src/main.cc";

// The registry outlives the service whose graph it lists.
struct GraphEnv {
  flux::Registry registry;
  StoreEnv env{[this](FilesOptions& o) { o.graphs = &registry; }};
};

const flux::FluxionStats& find(const std::vector<flux::FluxionStats>& all, std::string_view id) {
  for (const auto& s : all)
    if (s.fluxion.id == id) return s;
  ADD_FAILURE() << "no fluxion " << id;
  return all.front();
}

uint64_t sent(const std::vector<flux::FluxionStats>& all, std::string_view from, std::string_view to) {
  for (const auto& s : find(all, from).streams)
    if (s.stream.dest == std::vector<std::string>{std::string(to)}) return s.messages;
  ADD_FAILURE() << from << " has no stream to " << to;
  return 0;
}

TEST(FilesGraphTest, TheSavePathIsDescribedAsAFluxionalProgram) {
  GraphEnv g;
  const std::string text = flux::write_text(g.registry.program());
  const std::string expected =
      "flx files_receive\n"
      ">> files_authorize [req, res]\n"
      "  router.put('/api/v1/channels/:name/files/*path', >> files_authorize)\n"
      "\n"
      "flx files_authorize\n"
      "-> files_hash [req, res, scope, path]\n"
      "-> files_commit [res, scope, path, blob]\n"
      "-> files_reply [res, answer]\n"
      "  scope = authorize(req, name, write)  // 401, 403, 404\n"
      "  validate_path(path)                  // invalid_path\n"
      "  if from_sha256: blob = known blob -> files_commit\n"
      "  else -> files_hash\n"
      "\n"
      "flx files_hash\n"
      "-> files_blob [req, res, scope, path, blob]\n"
      "-> files_reply [res, answer]\n"
      "  body <= max_put_bytes                 // too_large\n"
      "  blob = sha256(req.body)\n"
      "  blob == X-Chiron-Sha256              // checksum_mismatch\n"
      "\n"
      "flx files_blob\n"
      "-> files_commit [res, scope, path, blob]\n"
      "-> files_reply [res, saved, answer]\n"
      "  latest version == blob ? unchanged -> files_reply\n"
      "  quota precheck                       // quota_exceeded\n"
      "  blobs.put(req.body) + fsync          // content-addressed\n"
      "\n"
      "flx files_commit & files_versions\n"
      "-> files_notify [res, scope, saved]\n"
      "-> files_reply [res, saved, answer]\n"
      "  tx: version = latest + 1, quota, files limit\n"
      "  saved = commit(scope, path, blob)\n"
      "\n"
      "flx files_notify & files_versions\n"
      "-> files_reply [res, saved]\n"
      "  hub.publish(channel, {type: 'file', ...saved})  // commit order\n"
      "\n"
      "flx files_reply\n"
      "-> null\n"
      "  res.send(answer || json(saved.unchanged ? 200 : 201, saved))\n";
  EXPECT_EQ(text, expected);
  auto back = flux::read_text(text);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, g.registry.program());
}

TEST(FilesGraphTest, EachPutIsCountedOnThePathItTook) {
  GraphEnv g;
  for (int i = 0; i < 3; ++i) ASSERT_EQ(g.env.push("PUT", kFile, "v" + std::to_string(i)).status, 201);
  EXPECT_EQ(g.env.push("PUT", kFile, "v2").status, 200);  // unchanged: files_blob -> files_reply
  auto bad = g.env.push("PUT", kFile, "x", {{"X-Chiron-Sha256", sha256_hex("y")}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(error_code_of(bad), "checksum_mismatch");
  EXPECT_EQ(g.env.call("PUT", kFile, "anon").status, 401);  // files_authorize -> files_reply
  auto known = g.env.push("PUT", "/api/v1/channels/alice/files/copy.cc?from_sha256=" + sha256_hex("v0"));
  EXPECT_EQ(known.status, 201) << known.body;  // files_authorize -> files_commit
  g.env.runtime->stop();  // drains: every counter is final
  auto all = g.registry.stats();
  EXPECT_EQ(find(all, "files_receive").handled, 7u);
  EXPECT_EQ(find(all, "files_reply").handled, 7u);
  EXPECT_EQ(sent(all, "files_receive", "files_authorize"), 7u);
  EXPECT_EQ(sent(all, "files_authorize", "files_reply"), 1u);
  EXPECT_EQ(sent(all, "files_authorize", "files_commit"), 1u);
  EXPECT_EQ(sent(all, "files_authorize", "files_hash"), 5u);
  EXPECT_EQ(sent(all, "files_hash", "files_reply"), 1u);
  EXPECT_EQ(sent(all, "files_hash", "files_blob"), 4u);
  EXPECT_EQ(sent(all, "files_blob", "files_reply"), 1u);
  EXPECT_EQ(sent(all, "files_blob", "files_commit"), 3u);
  EXPECT_EQ(sent(all, "files_commit", "files_notify"), 4u);
  EXPECT_EQ(sent(all, "files_notify", "files_reply"), 4u);
  for (const auto& s : all) {
    EXPECT_EQ(s.failed, 0u) << s.fluxion.id;
    EXPECT_EQ(s.queued, 0) << s.fluxion.id;
  }
  EXPECT_EQ(find(all, "files_commit").replicas, 1u);
  EXPECT_EQ(find(all, "files_blob").replicas, 4u);  // StoreEnv's disk threads
}

TEST(FilesGraphTest, LiveFileEventsLeaveInCommitOrder) {
  GraphEnv g;
  constexpr int kThreads = 6, kEach = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) EXPECT_EQ(g.env.push("PUT", kFile, std::to_string(t * 100 + i)).status, 201);
    });
  }
  for (auto& th : threads) th.join();
  auto events = g.env.hub.events();
  ASSERT_EQ(events.size(), size_t{kThreads * kEach});
  // files_commit and files_notify share a strand: versions are published 1, 2, 3, ...
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].second["version"].as_int64(), static_cast<int64_t>(i + 1)) << "event " << i;
  }
}

}  // namespace
}  // namespace chiron::store
