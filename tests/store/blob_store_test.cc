#include "store/blob_store.h"

#include <fstream>

#include <gtest/gtest.h>

#include "common/sha256.h"
#include "store_testutil.h"

namespace chiron::store {
namespace {

namespace fs = std::filesystem;

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.update("a");
  h.update("bc");
  EXPECT_EQ(h.final_hex(), sha256_hex("abc"));
}

TEST(BlobStoreTest, StoresContentAddressedAndDeduplicated) {
  testing::TempDir dir;
  auto blobs = BlobStore::open(dir.path());
  ASSERT_TRUE(blobs.ok());
  auto a = (*blobs)->put("hello\n");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->sha256, sha256_hex("hello\n"));
  EXPECT_EQ(a->size, 6u);
  fs::path p = dir.path() / "blobs" / a->sha256.substr(0, 2) / a->sha256;
  EXPECT_EQ((*blobs)->path_of(a->sha256), p);
  EXPECT_TRUE(fs::exists(p));
  EXPECT_EQ(*(*blobs)->read(a->sha256), "hello\n");
  auto again = (*blobs)->put("hello\n");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->sha256, a->sha256);
  EXPECT_TRUE(fs::is_empty(dir.path() / "tmp"));
  EXPECT_FALSE((*blobs)->exists(sha256_hex("other")));
  EXPECT_FALSE((*blobs)->exists("../../etc/passwd"));
}

TEST(BlobStoreTest, OpenRemovesStrayTempFiles) {
  testing::TempDir dir;
  { ASSERT_TRUE(BlobStore::open(dir.path()).ok()); }
  std::ofstream(dir.path() / "tmp" / "blob-halfwritten") << "partial";
  auto blobs = BlobStore::open(dir.path());
  ASSERT_TRUE(blobs.ok());
  EXPECT_TRUE(fs::is_empty(dir.path() / "tmp"));
}

TEST(BlobStoreTest, AdoptVerifiesTheHash) {
  testing::TempDir dir;
  auto blobs = BlobStore::open(dir.path());
  ASSERT_TRUE(blobs.ok());
  fs::path f = dir.path() / "tmp" / "upload";
  std::ofstream(f) << "content";
  auto bad = (*blobs)->adopt(f, sha256_hex("other"));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("checksum_mismatch"), std::string::npos);
  EXPECT_TRUE(fs::exists(f));
  auto good = (*blobs)->adopt(f, sha256_hex("content"));
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->size, 7u);
  EXPECT_FALSE(fs::exists(f));
  EXPECT_EQ(*(*blobs)->read(sha256_hex("content")), "content");
}

TEST(BlobStoreTest, CountsLinesLikeAnEditor) {
  testing::TempDir dir;
  auto blobs = BlobStore::open(dir.path());
  ASSERT_TRUE(blobs.ok());
  auto count = [&](std::string s) { return *(*blobs)->line_count((*blobs)->put(s)->sha256); };
  EXPECT_EQ(count(""), 0);
  EXPECT_EQ(count("x"), 1);
  EXPECT_EQ(count("a\nb"), 2);
  EXPECT_EQ(count("a\nb\n"), 2);
  EXPECT_EQ(count("\n\n\n"), 3);
}

}  // namespace
}  // namespace chiron::store
