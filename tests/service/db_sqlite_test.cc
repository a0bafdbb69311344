// SQLite-only behaviour of Db: the file itself (creation, WAL, refusing foreign files) and
// durability of acknowledged commits across kill -9.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "service/db.h"
#include "db_testutil.h"

namespace chiron::service {
namespace {

using testing::TempDir;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(SqliteDbTest, CreatesParentDirectoriesAndUsesWal) {
  TempDir dir;
  const std::string path = dir.path() + "/a/b/platform.db";
  auto db = Db::open_sqlite(path);
  ASSERT_TRUE(db.ok()) << db.status().to_string();
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ((*db)->describe(), "sqlite:" + path);
  EXPECT_EQ((*db)->dialect(), Dialect::kSqlite);
  auto mode = (*db)->read_value<std::string>([](Tx& tx) -> Result<std::string> {
    CHIRON_ASSIGN_OR_RETURN(auto r, tx.query_one("PRAGMA journal_mode"));
    return r->text(0);
  });
  EXPECT_EQ(mode.value_or(""), "wal");
  auto fk = (*db)->read_value<int64_t>([](Tx& tx) -> Result<int64_t> {
    CHIRON_ASSIGN_OR_RETURN(auto r, tx.query_one("PRAGMA foreign_keys"));
    return r->integer(0);
  });
  EXPECT_EQ(fk.value_or(0), 1);
}

TEST(SqliteDbTest, RefusesAFileThatIsNotSqliteAndLeavesItUnchanged) {
  TempDir dir;
  const std::string path = dir.path() + "/platform.db";
  std::string junk = "this is not an SQLite database, just some text that is long enough to have a header\n";
  for (int i = 0; i < 6; ++i) junk += junk;
  {
    std::ofstream out(path, std::ios::binary);
    out << junk;
  }
  auto db = Db::open_sqlite(path);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kFailedPrecondition) << db.status().to_string();
  EXPECT_NE(db.status().message().find("not an SQLite database"), std::string::npos) << db.status().to_string();
  EXPECT_EQ(slurp(path), junk);
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
}

TEST(SqliteDbTest, RefusesInMemoryPaths) {
  EXPECT_EQ(Db::open_sqlite(":memory:").status().code(), StatusCode::kInvalidArgument);
}

TEST(SqliteDbTest, TwoHandlesOnOneFileSeeEachOther) {
  TempDir dir;
  const std::string path = dir.path() + "/x.db";
  auto a = Db::open_sqlite(path);
  auto b = Db::open_sqlite(path);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->migrate("t", {{1, "CREATE TABLE t (v BIGINT)"}}).ok());
  ASSERT_TRUE((*a)->write([](Tx& tx) { return tx.exec("INSERT INTO t VALUES (1)").status(); }).ok());
  ASSERT_TRUE((*b)->migrate("t", {{1, "CREATE TABLE t (v BIGINT)"}}).ok());  // already applied by a
  ASSERT_TRUE((*b)->write([](Tx& tx) { return tx.exec("INSERT INTO t VALUES (2)").status(); }).ok());
  auto n = (*a)->read_value<int64_t>([](Tx& tx) -> Result<int64_t> {
    CHIRON_ASSIGN_OR_RETURN(auto r, tx.query_one("SELECT sum(v) FROM t"));
    return r->integer(0);
  });
  EXPECT_EQ(n.value_or(0), 3);
}

// A child commits rows and reports each acknowledged id on a pipe; it is SIGKILLed mid-stream.
// Every id it reported must be in the reopened database, and the file must be intact.
TEST(SqliteDbTest, AcknowledgedCommitsSurviveKill9) {
  TempDir dir;
  const std::string path = dir.path() + "/durable.db";
  {
    auto db = Db::open_sqlite(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->migrate("t", {{1, "CREATE TABLE rows (id {{id}}, payload TEXT NOT NULL)"}}).ok());
  }
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    auto db = Db::open_sqlite(path);
    if (!db.ok()) _exit(2);
    const std::string payload(200, 'p');
    for (int i = 0; i < 100000; ++i) {
      auto id = (*db)->write_value<int64_t>([&](Tx& tx) {
        return tx.insert("INSERT INTO rows (payload) VALUES (?) RETURNING id", {payload});
      });
      if (!id.ok()) _exit(3);
      const int64_t v = *id;
      if (write(fds[1], &v, sizeof v) != sizeof v) _exit(4);
    }
    _exit(0);
  }
  close(fds[1]);
  std::set<int64_t> acked;
  int64_t v = 0;
  // Read some acknowledgements, kill, then drain what was already acknowledged in the pipe.
  while (acked.size() < 150 && read(fds[0], &v, sizeof v) == sizeof v) acked.insert(v);
  kill(child, SIGKILL);
  while (read(fds[0], &v, sizeof v) == sizeof v) acked.insert(v);
  close(fds[0]);
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited early with " << WEXITSTATUS(wstatus);
  ASSERT_GE(acked.size(), 150u);

  auto db = Db::open_sqlite(path);
  ASSERT_TRUE(db.ok()) << db.status().to_string();
  auto ids = (*db)->read_value<std::set<int64_t>>([](Tx& tx) -> Result<std::set<int64_t>> {
    CHIRON_ASSIGN_OR_RETURN(auto rows, tx.query("SELECT id FROM rows"));
    std::set<int64_t> out;
    for (const Row& r : rows) out.insert(r.integer(0));
    return out;
  });
  ASSERT_TRUE(ids.ok());
  for (int64_t id : acked) EXPECT_TRUE(ids->count(id)) << "acknowledged row " << id << " lost";
  auto check = (*db)->read_value<std::string>([](Tx& tx) -> Result<std::string> {
    CHIRON_ASSIGN_OR_RETURN(auto r, tx.query_one("PRAGMA integrity_check"));
    return r->text(0);
  });
  EXPECT_EQ(check.value_or(""), "ok");
}

}  // namespace
}  // namespace chiron::service
