#include "push/syncer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fake_server.h"
#include "push/sha256.h"

namespace chiron::push {
namespace {

namespace fs = std::filesystem;
using testing::FakeServer;
using testing::FakeTransport;

class SyncerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("chiron-push-syncer-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& rel, const std::string& content) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel, std::ios::binary) << content;
  }

  std::unique_ptr<Syncer> make(int jobs = 2) {
    SyncOptions o;
    o.root = root_.string();
    o.channel = "c";
    o.jobs = jobs;
    o.retry.initial_ms = 1;
    o.retry.max_ms = 2;
    o.max_put_bytes = 1000;  // small, so the tests exercise the resumable path cheaply
    return std::make_unique<Syncer>(o, ignore_, progress_, [this] { return std::make_unique<FakeTransport>(server_); });
  }

  std::string server_content(const std::string& path) {
    std::lock_guard lock(server_.mu);
    auto it = server_.files.find(path);
    return it == server_.files.end() ? "<absent>" : it->second.content;
  }
  size_t log_count(const std::string& prefix) {
    std::lock_guard lock(server_.mu);
    size_t n = 0;
    for (auto& l : server_.log) n += l.starts_with(prefix);
    return n;
  }

  fs::path root_;
  SharedIgnore ignore_;
  Progress progress_{Progress::Mode::kQuiet};
  FakeServer server_;
};

TEST_F(SyncerTest, ReconcileUploadsNewFilesAndDeletesGoneOnes) {
  write("a.txt", "hello");
  write("src/b.cc", "int main() {}");
  server_.files["old.txt"] = {"bye", sha256_hex("bye")};
  server_.blobs.insert(sha256_hex("bye"));
  auto s = make();
  ASSERT_TRUE(s->reconcile().ok());
  EXPECT_EQ(server_content("a.txt"), "hello");
  EXPECT_EQ(server_content("src/b.cc"), "int main() {}");
  EXPECT_EQ(server_content("old.txt"), "<absent>");
  EXPECT_EQ(s->errors(), 0u);
}

TEST_F(SyncerTest, ReconcileSkipsContentTheServerAlreadyHas) {
  write("a.txt", "same");
  server_.files["a.txt"] = {"same", sha256_hex("same")};
  server_.blobs.insert(sha256_hex("same"));
  auto s = make();
  ASSERT_TRUE(s->reconcile().ok());
  EXPECT_EQ(log_count("PUT"), 0u);
  EXPECT_EQ(log_count("COPY"), 0u);
}

TEST_F(SyncerTest, MovedFileIsCopiedByHashWithoutBody) {
  write("a.txt", "content");
  auto s = make();
  ASSERT_TRUE(s->reconcile().ok());
  fs::rename(root_ / "a.txt", root_ / "b.txt");
  s->sync_paths({"a.txt", "b.txt"});
  EXPECT_EQ(server_content("a.txt"), "<absent>");
  EXPECT_EQ(server_content("b.txt"), "content");
  EXPECT_EQ(log_count("COPY b.txt"), 1u);
  EXPECT_EQ(log_count("PUT"), 1u);  // only the first upload
}

TEST_F(SyncerTest, CopyFallsBackToBodyWhenBlobUnknown) {
  write("a.txt", "content");
  auto s = make();
  ASSERT_TRUE(s->reconcile().ok());
  {
    std::lock_guard lock(server_.mu);
    server_.blobs.clear();  // the server forgot it (e.g. another channel's blob store)
  }
  write("b.txt", "content");
  s->sync_paths({"b.txt"});
  EXPECT_EQ(server_content("b.txt"), "content");
  EXPECT_EQ(log_count("PUT b.txt"), 1u);
}

TEST_F(SyncerTest, RetriesNetworkFailuresAnd503UntilItConverges) {
  write("a.txt", "x");
  server_.network_failures = 5;
  server_.unavailable = 3;
  auto s = make(1);
  ASSERT_TRUE(s->reconcile().ok());
  EXPECT_EQ(server_content("a.txt"), "x");
  EXPECT_EQ(s->errors(), 0u);
}

TEST_F(SyncerTest, ClientErrorsAreReportedNotRetriedAndOthersStillSync) {
  write("big.bin", "too much");
  write("ok.txt", "fine");
  server_.forbidden.insert("big.bin");
  auto s = make(1);
  ASSERT_TRUE(s->reconcile().ok());
  EXPECT_EQ(s->errors(), 1u);
  EXPECT_EQ(server_content("ok.txt"), "fine");
  EXPECT_EQ(server_content("big.bin"), "<absent>");
}

TEST_F(SyncerTest, RefusedTokenStopsTheRunWithAFatalError) {
  for (int i = 0; i < 20; ++i) write("f" + std::to_string(i), "x");
  server_.reject_token = true;
  auto s = make(2);
  (void)s->reconcile();
  EXPECT_NE(s->fatal().find("refused the push token"), std::string::npos);
  EXPECT_TRUE(s->stopping());
  EXPECT_EQ(s->errors(), 0u);  // one fatal error, not twenty file errors
}

TEST_F(SyncerTest, LargeFileUsesResumableUploadAndResumesAfterLostAnswer) {
  std::string big;
  for (int i = 0; i < 5000; ++i) big += static_cast<char>('a' + i % 26);
  write("big.txt", big);
  server_.chunk_size = 1024;
  server_.fail_chunk_after = 1;  // the second chunk lands but its answer is lost
  auto s = make(1);
  ASSERT_TRUE(s->reconcile().ok());
  EXPECT_EQ(server_content("big.txt"), big);
  EXPECT_EQ(log_count("CHUNK"), 5u);  // each chunk stored exactly once: resumed at `received`
  EXPECT_EQ(s->errors(), 0u);
}

TEST_F(SyncerTest, IgnoredFilesAreNotUploadedAndRemovedFromServer) {
  write(".gitignore", "*.log\nbuild/\n");
  write(".chironignore", "secret.env\n");
  write("a.log", "x");
  write("build/out.o", "x");
  write("secret.env", "x");
  write("keep.cc", "x");
  write(".git/HEAD", "ref");
  server_.files["a.log"] = {"old", sha256_hex("old")};
  auto s = make();
  ASSERT_TRUE(s->reconcile().ok());
  auto model = s->remote_model();
  EXPECT_TRUE(model.contains("keep.cc"));
  EXPECT_TRUE(model.contains(".gitignore"));
  EXPECT_FALSE(model.contains("a.log"));
  EXPECT_FALSE(model.contains("build/out.o"));
  EXPECT_FALSE(model.contains("secret.env"));
  EXPECT_FALSE(model.contains(".git/HEAD"));
  EXPECT_EQ(server_content("a.log"), "<absent>");
}

TEST_F(SyncerTest, SymlinksAreNotFollowed) {
  write("real.txt", "r");
  fs::create_directories(root_ / "outside");
  fs::create_symlink(root_ / "real.txt", root_ / "link.txt");
  fs::create_directory_symlink(root_ / "outside", root_ / "linkdir");
  write("outside/o.txt", "o");
  auto s = make();
  ASSERT_TRUE(s->reconcile().ok());
  auto model = s->remote_model();
  EXPECT_TRUE(model.contains("real.txt"));
  EXPECT_TRUE(model.contains("outside/o.txt"));
  EXPECT_FALSE(model.contains("link.txt"));
  EXPECT_FALSE(model.contains("linkdir/o.txt"));
}

TEST_F(SyncerTest, WatchModeSyncsDebouncedEvents) {
  auto s = make();
  ASSERT_TRUE(s->reconcile().ok());
  std::thread t([&] { s->run_watch(); });
  write("n.txt", "new");
  s->on_event({FsEvent::kChanged, "n.txt", {}});
  for (int i = 0; i < 200 && server_content("n.txt") != "new"; ++i) usleep(10'000);
  EXPECT_EQ(server_content("n.txt"), "new");
  fs::remove_all(root_ / "n.txt");
  s->on_event({FsEvent::kChanged, "n.txt", {}});
  for (int i = 0; i < 200 && server_content("n.txt") != "<absent>"; ++i) usleep(10'000);
  EXPECT_EQ(server_content("n.txt"), "<absent>");
  s->request_stop();
  t.join();
}

TEST_F(SyncerTest, StopInterruptsEndlessRetries) {
  write("a.txt", "x");
  server_.network_failures = 1'000'000;
  auto s = make(1);
  std::thread stopper([&] {
    usleep(50'000);
    s->request_stop();
  });
  EXPECT_FALSE(s->reconcile().ok());
  stopper.join();
}

}  // namespace
}  // namespace chiron::push
