#include "push/watcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace chiron::push {
namespace {

namespace fs = std::filesystem;

class WatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("chiron-push-watch-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    outside_ = root_.string() + "-outside";
    fs::remove_all(outside_);
    fs::create_directories(outside_);
  }
  void TearDown() override {
    if (watcher_) {
      watcher_->stop();
      thread_.join();
    }
    fs::remove_all(root_);
    fs::remove_all(outside_);
  }

  void start() {
    watcher_ = std::make_unique<Watcher>(root_.string(), ignore_, [this](FsEvent e) {
      std::lock_guard lock(mu_);
      events_.push_back(std::move(e));
    });
    ASSERT_TRUE(watcher_->start().ok());
    thread_ = std::thread([this] { watcher_->run(); });
  }

  void write(const std::string& rel, const std::string& content) {
    std::ofstream(root_ / rel, std::ios::binary) << content;
  }

  bool seen(FsEvent::Kind kind, const std::string& path, const std::string& to = {}) {
    std::lock_guard lock(mu_);
    for (auto& e : events_) {
      if (e.kind == kind && e.path == path && e.to == to) return true;
    }
    return false;
  }
  // Bounded wait (5 s) for an event.
  bool wait_for(FsEvent::Kind kind, const std::string& path, const std::string& to = {}) {
    for (int i = 0; i < 500; ++i) {
      if (seen(kind, path, to)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  void clear() {
    std::lock_guard lock(mu_);
    events_.clear();
  }

  fs::path root_;
  std::string outside_;
  SharedIgnore ignore_;
  std::unique_ptr<Watcher> watcher_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<FsEvent> events_;
};

TEST_F(WatcherTest, ReportsCreatedModifiedAndDeletedFiles) {
  start();
  write("a.txt", "1");
  EXPECT_TRUE(wait_for(FsEvent::kChanged, "a.txt"));
  clear();
  write("a.txt", "2");
  EXPECT_TRUE(wait_for(FsEvent::kChanged, "a.txt"));
  clear();
  fs::remove(root_ / "a.txt");
  EXPECT_TRUE(wait_for(FsEvent::kChanged, "a.txt"));
}

TEST_F(WatcherTest, MkdirPThenWriteIsNeverMissed50Times) {
  start();
  for (int i = 0; i < 50; ++i) {
    const std::string dir = "r" + std::to_string(i) + "/a/b/c";
    fs::create_directories(root_ / dir);
    write(dir + "/f", "x");  // immediately: before the watcher can have watched a/b/c
  }
  for (int i = 0; i < 50; ++i) {
    EXPECT_TRUE(wait_for(FsEvent::kChanged, "r" + std::to_string(i) + "/a/b/c/f")) << i;
  }
  // And the new directories are watched: a later write is an event.
  clear();
  write("r49/a/b/c/g", "y");
  EXPECT_TRUE(wait_for(FsEvent::kChanged, "r49/a/b/c/g"));
}

TEST_F(WatcherTest, FileRenameIsPairedByCookie) {
  write("old.txt", "x");
  start();
  fs::rename(root_ / "old.txt", root_ / "new.txt");
  EXPECT_TRUE(wait_for(FsEvent::kMoved, "old.txt", "new.txt"));
}

TEST_F(WatcherTest, FileMovedOutOfTheTreeIsReportedGone) {
  write("leaving.txt", "x");
  start();
  fs::rename(root_ / "leaving.txt", fs::path(outside_) / "leaving.txt");
  EXPECT_TRUE(wait_for(FsEvent::kChanged, "leaving.txt"));
}

TEST_F(WatcherTest, DirectoryRenameRewatchesItsSubtree) {
  fs::create_directories(root_ / "d/e");
  write("d/e/f.txt", "x");
  start();
  fs::rename(root_ / "d", root_ / "d2");
  EXPECT_TRUE(wait_for(FsEvent::kRemovedDir, "d"));
  EXPECT_TRUE(wait_for(FsEvent::kChanged, "d2/e/f.txt"));
  clear();
  write("d2/e/g.txt", "y");  // events in the moved subtree carry the new path
  EXPECT_TRUE(wait_for(FsEvent::kChanged, "d2/e/g.txt"));
  EXPECT_FALSE(seen(FsEvent::kChanged, "d/e/g.txt"));
}

TEST_F(WatcherTest, DirectoryMovedInIsScanned) {
  fs::create_directories(fs::path(outside_) / "in/deep");
  std::ofstream(fs::path(outside_) / "in/deep/x.txt") << "x";
  start();
  fs::rename(fs::path(outside_) / "in", root_ / "in");
  EXPECT_TRUE(wait_for(FsEvent::kChanged, "in/deep/x.txt"));
}

TEST_F(WatcherTest, DeletedDirectoryIsReported) {
  fs::create_directories(root_ / "gone/sub");
  write("gone/sub/a", "x");
  start();
  fs::remove_all(root_ / "gone");
  EXPECT_TRUE(wait_for(FsEvent::kRemovedDir, "gone"));
}

TEST_F(WatcherTest, OverflowRescansAndWatchesDirectoriesCreatedMeanwhile) {
  start();
  watcher_->set_drop_events(true);  // events of the next lines are "lost"
  fs::create_directories(root_ / "x/y");
  write("x/y/z", "1");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  watcher_->set_drop_events(false);
  EXPECT_FALSE(seen(FsEvent::kChanged, "x/y/z"));
  watcher_->inject_overflow();
  EXPECT_TRUE(wait_for(FsEvent::kRescan, ""));
  clear();
  write("x/y/w", "2");
  EXPECT_TRUE(wait_for(FsEvent::kChanged, "x/y/w"));
}

TEST_F(WatcherTest, IgnoredDirectoriesAreNotWatched) {
  write(".gitignore", "node_modules/\n*.tmp\n");
  fs::create_directories(root_ / "node_modules/pkg");
  fs::create_directories(root_ / "src");
  start();
  EXPECT_EQ(watcher_->watch_count(), 2u);  // root and src
  write("node_modules/pkg/index.js", "x");
  write("src/a.tmp", "x");
  write("src/a.cc", "x");
  EXPECT_TRUE(wait_for(FsEvent::kChanged, "src/a.cc"));
  EXPECT_FALSE(seen(FsEvent::kChanged, "node_modules/pkg/index.js"));
  EXPECT_FALSE(seen(FsEvent::kChanged, "src/a.tmp"));
}

TEST_F(WatcherTest, ChangedRuleFileTriggersRescan) {
  start();
  write(".chironignore", "*.secret\n");
  EXPECT_TRUE(wait_for(FsEvent::kRescan, ""));
  clear();
  write("k.secret", "x");
  write("k.txt", "x");
  EXPECT_TRUE(wait_for(FsEvent::kChanged, "k.txt"));
  EXPECT_FALSE(seen(FsEvent::kChanged, "k.secret"));
}

}  // namespace
}  // namespace chiron::push
