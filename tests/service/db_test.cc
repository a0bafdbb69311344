// Behavioural tests of Db, run on both backends: SQLite (a temp file) and PostgreSQL (a throwaway
// server started by this process; skipped with a message when it cannot run here).

#include "service/db.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "db_testutil.h"

namespace chiron::service {
namespace {

using testing::TempDir;

const std::vector<Migration> kSchema = {
    {1,
     "CREATE TABLE users (id {{id}}, name TEXT NOT NULL UNIQUE, score BIGINT NOT NULL DEFAULT 0, "
     "ratio DOUBLE PRECISION, note TEXT);"
     "CREATE TABLE posts (id {{id}}, user_id BIGINT NOT NULL REFERENCES users(id), "
     "body TEXT NOT NULL CHECK (length(body) > 0))"},
    {2, "CREATE TABLE counters (name TEXT PRIMARY KEY, n BIGINT NOT NULL); "
        "INSERT INTO counters (name, n) VALUES ('hits', 0)"},
};

class DbTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = testing::open_test_db(GetParam(), dir_.path(), DbOptions{.pool_size = 4});
    if (!db.ok() && GetParam() == "postgres" && db.status().code() == StatusCode::kUnavailable)
      GTEST_SKIP() << "PostgreSQL tests skipped: " << db.status().to_string();
    ASSERT_TRUE(db.ok()) << db.status().to_string();
    db_ = std::move(db).value();
    ASSERT_TRUE(db_->migrate("test", kSchema).ok());
  }

  Result<int64_t> add_user(const std::string& name, int64_t score = 0) {
    return db_->write_value<int64_t>([&](Tx& tx) {
      return tx.insert("INSERT INTO users (name, score) VALUES (?, ?) RETURNING id", {name, score});
    });
  }

  int64_t count(const std::string& table) {
    auto n = db_->read_value<int64_t>([&](Tx& tx) -> Result<int64_t> {
      CHIRON_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT count(*) FROM " + table));
      return row->integer(0);
    });
    EXPECT_TRUE(n.ok()) << n.status().to_string();
    return n.value_or(-1);
  }

  TempDir dir_;
  std::unique_ptr<Db> db_;
};

TEST_P(DbTest, InsertReturningGivesIncreasingIds) {
  auto a = add_user("alice");
  auto b = add_user("bob");
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_GT(*a, 0);
  EXPECT_GT(*b, *a);
}

TEST_P(DbTest, CrudRoundTrip) {
  auto id = add_user("alice", 7);
  ASSERT_TRUE(id.ok());
  Status st = db_->write([&](Tx& tx) -> Status {
    CHIRON_ASSIGN_OR_RETURN(int64_t n, tx.exec("UPDATE users SET score = score + ?, ratio = ?, note = ? WHERE id = ?",
                                               {int64_t{5}, 0.25, std::string("héllo 'x'"), *id}));
    EXPECT_EQ(n, 1);
    CHIRON_ASSIGN_OR_RETURN(int64_t none, tx.exec("UPDATE users SET score = 0 WHERE name = ?", {std::string("nobody")}));
    EXPECT_EQ(none, 0);
    return Status();
  });
  ASSERT_TRUE(st.ok()) << st.to_string();
  auto row = db_->read_value<std::optional<Row>>([&](Tx& tx) {
    return tx.query_one("SELECT id, name, score, ratio, note FROM users WHERE id = ?", {*id});
  });
  ASSERT_TRUE(row.ok()) << row.status().to_string();
  ASSERT_TRUE(row->has_value());
  const Row& r = **row;
  EXPECT_EQ(r.integer(0), *id);
  EXPECT_EQ(r.text(1), "alice");
  EXPECT_EQ(r.integer(2), 12);
  EXPECT_TRUE(std::holds_alternative<int64_t>(r.value(2)));  // BIGINT arrives as int64 on both
  EXPECT_DOUBLE_EQ(r.real(3), 0.25);
  EXPECT_EQ(r.text(4), "héllo 'x'");

  st = db_->write([&](Tx& tx) { return tx.exec("DELETE FROM users WHERE id = ?", {*id}).status(); });
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(count("users"), 0);
}

TEST_P(DbTest, QueryOneOfNothingIsNullopt) {
  auto row = db_->read_value<std::optional<Row>>(
      [&](Tx& tx) { return tx.query_one("SELECT id FROM users WHERE name = ?", {std::string("ghost")}); });
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(row->has_value());
}

TEST_P(DbTest, NullAndValuesConvertLeniently) {
  auto row = db_->read_value<std::optional<Row>>([&](Tx& tx) {
    return tx.query_one("SELECT NULL, '42', 7, 2.5, ?, ?", {std::monostate(), int64_t{9007199254740993}});
  });
  ASSERT_TRUE(row.ok()) << row.status().to_string();
  const Row& r = **row;
  EXPECT_TRUE(r.is_null(0));
  EXPECT_EQ(r.integer(0), 0);
  EXPECT_EQ(r.text(0), "");
  EXPECT_EQ(r.opt_integer(0), std::nullopt);
  EXPECT_EQ(r.opt_text(0), std::nullopt);
  EXPECT_EQ(r.integer(1), 42);
  EXPECT_EQ(r.text(2), "7");
  EXPECT_EQ(r.integer(2), 7);
  EXPECT_DOUBLE_EQ(r.real(3), 2.5);
  EXPECT_TRUE(r.is_null(4));
  EXPECT_EQ(r.integer(5), 9007199254740993);  // exact beyond 2^53
}

TEST_P(DbTest, QuestionMarkInLiteralIsNotAPlaceholder) {
  auto row = db_->read_value<std::optional<Row>>(
      [&](Tx& tx) { return tx.query_one("SELECT '?', ? /* ? */ -- ?\n", {std::string("x")}); });
  ASSERT_TRUE(row.ok()) << row.status().to_string();
  EXPECT_EQ((*row)->text(0), "?");
  EXPECT_EQ((*row)->text(1), "x");
}

TEST_P(DbTest, UniqueViolationIsAlreadyExistsNamingTheConstraint) {
  ASSERT_TRUE(add_user("alice").ok());
  auto dup = add_user("alice");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists) << dup.status().to_string();
  EXPECT_NE(dup.status().message().find("name"), std::string::npos) << dup.status().to_string();
  EXPECT_EQ(count("users"), 1);
}

TEST_P(DbTest, OtherConstraintViolationsAreFailedPrecondition) {
  Status st = db_->write([&](Tx& tx) {
    return tx.exec("INSERT INTO posts (user_id, body) VALUES (?, ?)", {int64_t{999}, std::string("x")}).status();
  });
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.to_string();  // foreign key
  auto id = add_user("alice");
  ASSERT_TRUE(id.ok());
  st = db_->write([&](Tx& tx) {
    return tx.exec("INSERT INTO posts (user_id, body) VALUES (?, ?)", {*id, std::string()}).status();
  });
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.to_string();  // CHECK
  st = db_->write([&](Tx& tx) {
    return tx.exec("INSERT INTO users (name) VALUES (?)", {std::monostate()}).status();
  });
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.to_string();  // NOT NULL
}

TEST_P(DbTest, ErrorStatusRollsBack) {
  Status st = db_->write([&](Tx& tx) -> Status {
    CHIRON_RETURN_IF_ERROR(tx.insert("INSERT INTO users (name) VALUES (?) RETURNING id", {std::string("alice")}));
    return Status::invalid_argument("changed my mind");
  });
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(count("users"), 0);
}

TEST_P(DbTest, FailedStatementAbortsTheTransactionEvenIfIgnored) {
  ASSERT_TRUE(add_user("alice").ok());
  Status st = db_->write([&](Tx& tx) -> Status {
    EXPECT_TRUE(tx.exec("INSERT INTO users (name) VALUES (?)", {std::string("bob")}).ok());
    auto dup = tx.exec("INSERT INTO users (name) VALUES (?)", {std::string("alice")});
    EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
    auto after = tx.exec("INSERT INTO users (name) VALUES (?)", {std::string("carol")});
    EXPECT_EQ(after.status().code(), StatusCode::kAborted) << after.status().to_string();
    return Status();  // ignores the failure
  });
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.to_string();
  EXPECT_EQ(count("users"), 1);  // bob rolled back too
}

TEST_P(DbTest, WrongParameterCountIsInvalidArgument) {
  Status st = db_->write([&](Tx& tx) {
    return tx.exec("INSERT INTO users (name, score) VALUES (?, ?)", {std::string("a")}).status();
  });
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.to_string();
}

TEST_P(DbTest, SyntaxErrorIsInternal) {
  Status st = db_->read([&](Tx& tx) { return tx.query("SELEC nonsense").status(); });
  EXPECT_EQ(st.code(), StatusCode::kInternal) << st.to_string();
}

TEST_P(DbTest, WriteInsideReadFails) {
  Status st = db_->read([&](Tx& tx) {
    return tx.exec("INSERT INTO users (name) VALUES (?)", {std::string("sneaky")}).status();
  });
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(count("users"), 0);
}

TEST_P(DbTest, NestedTransactionIsRefused) {
  Status inner;
  Status st = db_->write([&](Tx&) {
    inner = db_->read([](Tx&) { return Status(); });
    return Status();
  });
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(inner.code(), StatusCode::kInternal);
}

TEST_P(DbTest, UpsertWithOnConflict) {
  for (int i = 0; i < 3; ++i) {
    Status st = db_->write([&](Tx& tx) {
      return tx
          .exec("INSERT INTO counters (name, n) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET n = counters.n + 1",
                {std::string("x")})
          .status();
    });
    ASSERT_TRUE(st.ok()) << st.to_string();
  }
  auto n = db_->read_value<int64_t>([&](Tx& tx) -> Result<int64_t> {
    CHIRON_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT n FROM counters WHERE name = ?", {std::string("x")}));
    return row->integer(0);
  });
  EXPECT_EQ(n.value_or(-1), 3);
}

TEST_P(DbTest, InsertWithoutReturnedRowIsAlreadyExists) {
  ASSERT_TRUE(add_user("alice").ok());
  auto id = db_->write_value<int64_t>([&](Tx& tx) {
    return tx.insert("INSERT INTO users (name) VALUES (?) ON CONFLICT (name) DO NOTHING RETURNING id",
                     {std::string("alice")});
  });
  EXPECT_EQ(id.status().code(), StatusCode::kAlreadyExists);
}

TEST_P(DbTest, ConcurrentWritersLoseNoUpdates) {
  constexpr int kThreads = 4;
  constexpr int kIncrements = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        Status st = db_->write([&](Tx& tx) -> Status {
          CHIRON_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT n FROM counters WHERE name = 'hits'"));
          return tx.exec("UPDATE counters SET n = ? WHERE name = 'hits'", {row->integer(0) + 1}).status();
        });
        if (!st.ok()) {
          ADD_FAILURE() << st.to_string();
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  auto n = db_->read_value<int64_t>([&](Tx& tx) -> Result<int64_t> {
    CHIRON_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT n FROM counters WHERE name = 'hits'"));
    return row->integer(0);
  });
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(n.value_or(-1), kThreads * kIncrements);
}

// Concurrent writers may share one transaction (SQLite group commit): a writer that fails is
// rolled back alone — none of its statements survive — and the others are committed.
TEST_P(DbTest, AFailingConcurrentWriterIsRolledBackAloneOthersCommit) {
  constexpr int kThreads = 6;
  constexpr int kWrites = 30;
  std::atomic<int> refused{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        const bool doomed = i % 5 == 0;
        const std::string name = "w" + std::to_string(t) + "_" + std::to_string(i);
        Status st = db_->write([&](Tx& tx) -> Status {
          CHIRON_RETURN_IF_ERROR(tx.exec("INSERT INTO users(name) VALUES (?)", {name}).status());
          // The doomed ones insert a duplicate after their first row: the whole write must go.
          return tx.exec("INSERT INTO users(name) VALUES (?)", {doomed ? name : name + "_b"}).status();
        });
        if (doomed ? st.code() == StatusCode::kAlreadyExists : st.ok()) {
          if (doomed) ++refused;
        } else {
          ++wrong;
          ADD_FAILURE() << name << ": " << st.to_string();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(refused.load(), kThreads * (kWrites / 5));
  auto n = db_->read_value<int64_t>([&](Tx& tx) -> Result<int64_t> {
    CHIRON_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT COUNT(*) FROM users"));
    return row->integer(0);
  });
  // Two rows per successful write, none from a refused one.
  EXPECT_EQ(n.value_or(-1), 2 * kThreads * (kWrites - kWrites / 5));
}

// A transaction function that throws is rolled back like a failing one, and the database
// keeps taking writes and reads (no writer or pooled connection is left behind).
TEST_P(DbTest, AThrowingTransactionFunctionIsRolledBackAndTheDbCarriesOn) {
  for (int i = 0; i < 6; ++i) {  // more than the pool: a leaked connection would hang here
    Status st = db_->write([&](Tx& tx) -> Status {
      CHIRON_RETURN_IF_ERROR(tx.exec("INSERT INTO users(name) VALUES ('thrower')").status());
      throw std::runtime_error("boom");
    });
    EXPECT_EQ(st.code(), StatusCode::kInternal) << st.to_string();
    Status rd = db_->read([&](Tx&) -> Status { throw std::out_of_range("row"); });
    EXPECT_EQ(rd.code(), StatusCode::kInternal);
  }
  ASSERT_TRUE(add_user("after").ok());
  auto n = db_->read_value<int64_t>([&](Tx& tx) -> Result<int64_t> {
    CHIRON_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT COUNT(*) FROM users"));
    return row->integer(0);
  });
  EXPECT_EQ(n.value_or(-1), 1);
}

TEST_P(DbTest, ReaderSeesOneSnapshot) {
  ASSERT_TRUE(add_user("alice").ok());
  std::promise<void> first_read_done;
  std::promise<void> write_done;
  std::thread writer([&] {
    first_read_done.get_future().wait();
    EXPECT_TRUE(add_user("bob").ok());
    write_done.set_value();
  });
  int64_t before = -1, after = -1;
  Status st = db_->read([&](Tx& tx) -> Status {
    CHIRON_ASSIGN_OR_RETURN(auto a, tx.query_one("SELECT count(*) FROM users"));
    before = a->integer(0);
    first_read_done.set_value();
    write_done.get_future().wait();
    CHIRON_ASSIGN_OR_RETURN(auto b, tx.query_one("SELECT count(*) FROM users"));
    after = b->integer(0);
    return Status();
  });
  writer.join();
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(before, 1);
  EXPECT_EQ(after, 1);
  EXPECT_EQ(count("users"), 2);  // a new transaction sees the write
}

TEST_P(DbTest, ManyConcurrentReadersShareThePool) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(add_user("u" + std::to_string(i)).ok());
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i)
        if (count("users") == 5) ++good;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 160);
}

TEST_P(DbTest, MigrateIsIdempotentAndRecordsVersions) {
  ASSERT_TRUE(db_->migrate("test", kSchema).ok());
  ASSERT_TRUE(db_->migrate("test", kSchema).ok());
  auto rows = db_->read_value<std::vector<Row>>([&](Tx& tx) {
    return tx.query("SELECT version, applied_at FROM schema_migrations WHERE component = ? ORDER BY version",
                    {std::string("test")});
  });
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].integer(0), 1);
  EXPECT_EQ((*rows)[1].integer(0), 2);
  EXPECT_NE((*rows)[0].text(1).find('T'), std::string::npos);
  EXPECT_EQ(count("counters"), 1);  // v2's INSERT ran once
}

TEST_P(DbTest, MigrateAppliesOnlyNewOnesInOrder) {
  std::vector<Migration> more = {
      {4, "ALTER TABLE extra ADD COLUMN b TEXT"},
      {3, "CREATE TABLE extra (id {{id}}, a TEXT)"},
  };
  more.insert(more.end(), kSchema.begin(), kSchema.end());
  Status st = db_->migrate("test", more);
  ASSERT_TRUE(st.ok()) << st.to_string();
  st = db_->write([&](Tx& tx) {
    return tx.insert("INSERT INTO extra (a, b) VALUES ('x', 'y') RETURNING id").status();
  });
  EXPECT_TRUE(st.ok()) << st.to_string();
}

TEST_P(DbTest, MigrateRefusesANewerDatabaseAndLeavesItAlone) {
  const std::vector<Migration> only_v1 = {kSchema[0]};
  Status st = db_->migrate("test", only_v1);  // the database is at v2, this build knows v1
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.to_string();
  EXPECT_NE(st.message().find("newer"), std::string::npos);
  EXPECT_EQ(count("counters"), 1);
  // Other components are independent.
  st = db_->migrate("other", {{1, "CREATE TABLE other_t (a TEXT)"}});
  EXPECT_TRUE(st.ok()) << st.to_string();
}

TEST_P(DbTest, FailedMigrationIsRolledBackWhole) {
  Status st = db_->migrate("bad", {{1, "CREATE TABLE good1 (a TEXT)"},
                                   {2, "CREATE TABLE half (a TEXT); CREATE TABLE broken (a TEXT"}});
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("bad v2"), std::string::npos) << st.to_string();
  EXPECT_EQ(count("good1"), 0);  // v1 applied
  Status probe = db_->read([&](Tx& tx) { return tx.query("SELECT * FROM half").status(); });
  EXPECT_FALSE(probe.ok());  // v2's first statement rolled back with it
  auto versions = db_->read_value<int64_t>([&](Tx& tx) -> Result<int64_t> {
    CHIRON_ASSIGN_OR_RETURN(auto r, tx.query_one("SELECT max(version) FROM schema_migrations WHERE component = 'bad'"));
    return r->integer(0);
  });
  EXPECT_EQ(versions.value_or(-1), 1);
}

TEST_P(DbTest, MigrateRejectsBadVersions) {
  EXPECT_EQ(db_->migrate("x", {{0, "SELECT 1"}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db_->migrate("x", {{1, "SELECT 1"}, {1, "SELECT 2"}}).code(), StatusCode::kInvalidArgument);
}

TEST_P(DbTest, ExecScriptRunsSeveralStatements) {
  Status st = db_->write([&](Tx& tx) {
    return tx.exec_script(
        "CREATE TABLE s (id {{id}}, v TEXT); -- a comment; with a semicolon\n"
        "INSERT INTO s (v) VALUES ('a;b'); INSERT INTO s (v) VALUES ('c');");
  });
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(count("s"), 2);
}

TEST_P(DbTest, SeveralStatementsInExecAreRefused) {
  Status st = db_->write([&](Tx& tx) { return tx.exec("SELECT 1; SELECT 2").status(); });
  EXPECT_FALSE(st.ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, DbTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace chiron::service
