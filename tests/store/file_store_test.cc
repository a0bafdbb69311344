#include "store/file_store.h"

#include <atomic>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "store/files_service.h"
#include "store/schema.h"
#include "common/sha256.h"
#include "store_testutil.h"

namespace chiron::store {
namespace {

namespace fs = std::filesystem;

class FileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void open() {
    db_ = testing::open_db(dir_.path());
    ASSERT_TRUE(db_->migrate("store", store_migrations()).ok());
    auto blobs = BlobStore::open(dir_.path());
    ASSERT_TRUE(blobs.ok());
    blobs_ = std::move(*blobs);
    store_ = std::make_unique<FileStore>(*db_, *blobs_, limits_, clock_);
  }
  WriteContext w_{10, 1, 0, 1};
  StoreLimits limits_;
  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<service::Db> db_;
  std::unique_ptr<BlobStore> blobs_;
  std::unique_ptr<FileStore> store_;
};

TEST_F(FileStoreTest, EachSaveIsANewVersionAndOldVersionsStayReadable) {
  for (int i = 1; i <= 3; ++i) {
    auto r = store_->save(w_, "src/main.cc", "v" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->version, i);
    EXPECT_FALSE(r->unchanged);
  }
  auto latest = store_->get(10, "src/main.cc", std::nullopt);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, 3);
  EXPECT_EQ(*blobs_->read(latest->sha256), "v3");
  auto v1 = store_->get(10, "src/main.cc", 1);
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(*blobs_->read(v1->sha256), "v1");
  EXPECT_EQ(store_->get(10, "src/main.cc", 4).status().code(), StatusCode::kNotFound);
  auto h = store_->history(10, "src/main.cc");
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 3u);
  EXPECT_EQ((*h)[0].version, 3);
  EXPECT_EQ((*h)[2].version, 1);
}

TEST_F(FileStoreTest, SavingTheLatestContentAgainCreatesNoVersion) {
  ASSERT_TRUE(store_->save(w_, "a.txt", "same").ok());
  auto again = store_->save(w_, "a.txt", "same");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->unchanged);
  EXPECT_EQ(again->version, 1);
  auto blob = store_->save_blob(w_, "a.txt", {sha256_hex("same"), 4}, true);
  ASSERT_TRUE(blob.ok());
  EXPECT_TRUE(blob->unchanged);
  EXPECT_EQ(store_->history(10, "a.txt")->size(), 1u);
}

TEST_F(FileStoreTest, DeleteIsATombstoneVersionAndReAddContinuesNumbering) {
  ASSERT_TRUE(store_->save(w_, "a.txt", "one").ok());
  auto del = store_->remove(w_, "a.txt");
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->version, 2);
  EXPECT_TRUE(del->deleted);
  EXPECT_EQ(store_->get(10, "a.txt", std::nullopt).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->list(10)->empty());
  EXPECT_TRUE(store_->get(10, "a.txt", 2)->deleted);
  EXPECT_EQ(store_->remove(w_, "a.txt").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->remove(w_, "never.txt").status().code(), StatusCode::kNotFound);
  auto back = store_->save(w_, "a.txt", "one");  // same content as before the delete: a new version
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->unchanged);
  EXPECT_EQ(back->version, 3);
}

TEST_F(FileStoreTest, QuotaCountsDistinctBlobsIncludingHistory) {
  limits_.quota_bytes = 1000;
  open();
  ASSERT_TRUE(store_->save(w_, "a", std::string(400, 'a')).ok());
  ASSERT_TRUE(store_->save(w_, "b", std::string(400, 'a')).ok());  // same blob: free
  EXPECT_EQ(store_->usage(10)->used_bytes, 400u);
  ASSERT_TRUE(store_->save(w_, "a", std::string(500, 'b')).ok());  // old blob stays in history
  EXPECT_EQ(store_->usage(10)->used_bytes, 900u);
  auto over = store_->save(w_, "c", std::string(101, 'c'));
  ASSERT_EQ(over.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(over.status().message().find("[quota_exceeded] quota exceeded: 0.0 MB used of 0.0 MB"), std::string::npos)
      << over.status().message();
  EXPECT_EQ(store_->get(10, "c", std::nullopt).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->save(w_, "c", std::string(100, 'c')).ok());  // exactly at the quota
  EXPECT_EQ(store_->usage(10)->used_bytes, 1000u);
  EXPECT_EQ(store_->usage(20)->used_bytes, 0u);  // other channels are separate
}

TEST_F(FileStoreTest, QuotaMessageGivesMegabytes) {
  limits_.quota_bytes = 1ull << 20;
  open();
  ASSERT_TRUE(store_->save(w_, "a", std::string(600 << 10, 'a')).ok());
  auto over = store_->save(w_, "b", std::string(600 << 10, 'b'));
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find("0.6 MB used of 1.0 MB"), std::string::npos) << over.status().message();
}

TEST_F(FileStoreTest, FileCountAndFileSizeLimits) {
  limits_.max_files = 2;
  limits_.max_file_bytes = 10;
  open();
  ASSERT_TRUE(store_->save(w_, "a", "1").ok());
  ASSERT_TRUE(store_->save(w_, "b", "2").ok());
  auto third = store_->save(w_, "c", "3");
  EXPECT_EQ(third.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(third.status().message().find("too_many_files"), std::string::npos);
  ASSERT_TRUE(store_->save(w_, "a", "1b").ok());  // editing an existing file is fine
  ASSERT_TRUE(store_->remove(w_, "b").ok());
  ASSERT_TRUE(store_->save(w_, "c", "3").ok());  // a deleted file frees its slot
  auto big = store_->save(w_, "a", std::string(11, 'x'));
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(big.status().message().find("too_large"), std::string::npos);
}

TEST_F(FileStoreTest, FromBlobNeedsABlobTheChannelAlreadyReferences) {
  ASSERT_TRUE(store_->save(w_, "a", "shared").ok());
  auto moved = store_->save_blob(w_, "b", {sha256_hex("shared"), 6}, true);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->version, 1);
  WriteContext other{20, 2, 0, 2};
  auto foreign = store_->save_blob(other, "x", {sha256_hex("shared"), 6}, true);
  EXPECT_EQ(foreign.status().code(), StatusCode::kNotFound);
  EXPECT_NE(foreign.status().message().find("blob_unknown"), std::string::npos);
}

TEST_F(FileStoreTest, ConcurrentSavesToOnePathLoseNoVersion) {
  constexpr int kThreads = 8, kEach = 15;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  std::mutex mu;
  std::set<int64_t> versions;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto r = store_->save(w_, "hot.txt", "t" + std::to_string(t) + " i" + std::to_string(i));
        if (!r.ok() || r->unchanged) {
          ++failures;
          continue;
        }
        std::lock_guard lock(mu);
        EXPECT_TRUE(versions.insert(r->version).second) << "version " << r->version << " handed out twice";
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(versions.size(), size_t{kThreads * kEach});
  EXPECT_EQ(*versions.begin(), 1);
  EXPECT_EQ(*versions.rbegin(), kThreads * kEach);
  auto h = store_->history(10, "hot.txt", 10000);
  ASSERT_EQ(h->size(), size_t{kThreads * kEach});
  for (size_t i = 0; i + 1 < h->size(); ++i) EXPECT_EQ((*h)[i].version, (*h)[i + 1].version + 1);
  for (const FileEntry& e : *h) EXPECT_TRUE(blobs_->exists(e.sha256));
}

TEST_F(FileStoreTest, ABlobWithoutCommittedMetadataIsInvisible) {
  // A crash after the blob became durable but before the metadata commit.
  ASSERT_TRUE(blobs_->put("orphan content").ok());
  EXPECT_TRUE(store_->list(10)->empty());
  EXPECT_EQ(store_->usage(10)->used_bytes, 0u);
  open();  // restart
  EXPECT_TRUE(store_->list(10)->empty());
  EXPECT_EQ(store_->get(10, "orphan", std::nullopt).status().code(), StatusCode::kNotFound);
  // And its content cannot be claimed through from_sha256 by a channel that never stored it.
  EXPECT_EQ(store_->save_blob(w_, "x", {sha256_hex("orphan content"), 14}, true).status().code(), StatusCode::kNotFound);
}

TEST_F(FileStoreTest, AFailedCommitLeavesTheOldVersionVisible) {
  limits_.max_files = 1;
  open();
  ASSERT_TRUE(store_->save(w_, "a", "old").ok());
  ASSERT_FALSE(store_->save(w_, "b", "new").ok());  // rolled back
  auto list = store_->list(10);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].path, "a");
  EXPECT_EQ(*blobs_->read((*list)[0].sha256), "old");
}

TEST_F(FileStoreTest, SessionActivityCountsPathsAndComments) {
  WriteContext live{10, 1, 77, 1};
  ASSERT_TRUE(store_->save(live, "a", "1").ok());
  ASSERT_TRUE(store_->save(live, "a", "2").ok());
  ASSERT_TRUE(store_->save(live, "b", "1").ok());
  ASSERT_TRUE(store_->save(w_, "c", "offline").ok());
  Status st = db_->read([&](service::Tx& tx) -> Status {
    auto a = session_activity(tx, 77);
    EXPECT_TRUE(a.ok());
    EXPECT_EQ(a->files_touched, 2);
    EXPECT_EQ(a->comments, 0);
    EXPECT_EQ(session_activity(tx, 78)->files_touched, 0);
    return Status();
  });
  EXPECT_TRUE(st.ok());
}

}  // namespace
}  // namespace chiron::store
