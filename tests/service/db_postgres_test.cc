// PostgreSQL-only behaviour of Db: URLs, describe(), reconnection. Runs against the throwaway
// server of db_testutil (skipped with a message when it cannot run here).

#include <gtest/gtest.h>

#include "db_testutil.h"
#include "service/db.h"

namespace chiron::service {
namespace {

using testing::PgServer;

#define REQUIRE_PG(pg)                                                     \
  PgServer* pg = PgServer::get(nullptr);                                   \
  if (pg == nullptr) {                                                     \
    std::string why;                                                       \
    PgServer::get(&why);                                                   \
    GTEST_SKIP() << "PostgreSQL tests skipped: " << why;                   \
  }

TEST(PostgresDbTest, DescribeNeverShowsThePassword) {
  REQUIRE_PG(pg);
  const std::string url = "postgresql://chiron:s3cret-pw@127.0.0.1:" + std::to_string(pg->port()) + "/postgres";
  auto db = Db::open_postgres(url);  // trust authentication ignores the password
  ASSERT_TRUE(db.ok()) << db.status().to_string();
  EXPECT_EQ((*db)->describe(), "postgres://chiron@127.0.0.1:" + std::to_string(pg->port()) + "/postgres");
  EXPECT_EQ((*db)->dialect(), Dialect::kPostgres);
}

TEST(PostgresDbTest, UnreachableServerIsUnavailableWithoutThePassword) {
  REQUIRE_PG(pg);
  // The throwaway server's port plus one, on which nothing listens (very probably).
  const std::string url =
      "postgresql://chiron:s3cret-pw@127.0.0.1:" + std::to_string(pg->port() + 1) + "/postgres?connect_timeout=2";
  auto db = Db::open_postgres(url);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable) << db.status().to_string();
  EXPECT_EQ(db.status().message().find("s3cret"), std::string::npos) << db.status().to_string();
}

TEST(PostgresDbTest, MalformedUrlIsInvalidArgument) {
  auto db = Db::open_postgres("postgresql://host:notaport:/x?nonsense_option=1");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kInvalidArgument) << db.status().to_string();
}

TEST(PostgresDbTest, ReconnectsAfterTheServerDropsTheConnection) {
  REQUIRE_PG(pg);
  auto url = pg->fresh_schema_url();
  ASSERT_TRUE(url.ok());
  auto db = Db::open_postgres(*url, DbOptions{.pool_size = 1});
  auto admin = Db::open_postgres(pg->base_url(), DbOptions{.pool_size = 1});
  ASSERT_TRUE(db.ok() && admin.ok());
  auto pid = (*db)->read_value<int64_t>([](Tx& tx) -> Result<int64_t> {
    CHIRON_ASSIGN_OR_RETURN(auto r, tx.query_one("SELECT pg_backend_pid()"));
    return r->integer(0);
  });
  ASSERT_TRUE(pid.ok());
  Status st = (*admin)->read([&](Tx& tx) { return tx.query("SELECT pg_terminate_backend(?)", {*pid}).status(); });
  ASSERT_TRUE(st.ok()) << st.to_string();
  // The pooled connection is dead; the next transaction reconnects (its BEGIN is retried).
  auto again = (*db)->read_value<int64_t>([](Tx& tx) -> Result<int64_t> {
    CHIRON_ASSIGN_OR_RETURN(auto r, tx.query_one("SELECT pg_backend_pid()"));
    return r->integer(0);
  });
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_NE(*again, *pid);
}

TEST(PostgresDbTest, ConnectionLostInsideATransactionIsUnavailable) {
  REQUIRE_PG(pg);
  auto url = pg->fresh_schema_url();
  ASSERT_TRUE(url.ok());
  auto db = Db::open_postgres(*url, DbOptions{.pool_size = 1});
  ASSERT_TRUE(db.ok());
  Status st = (*db)->write([](Tx& tx) -> Status {
    CHIRON_RETURN_IF_ERROR(tx.exec("CREATE TABLE t (a BIGINT)"));
    return tx.query("SELECT pg_terminate_backend(pg_backend_pid())").status();
  });
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.to_string();
  st = (*db)->write([](Tx& tx) { return tx.exec("CREATE TABLE t (a BIGINT)").status(); });
  EXPECT_TRUE(st.ok()) << st.to_string();  // reconnected; the first CREATE never committed
}

TEST(PostgresDbTest, IntegersArriveAsInt64AndSumsStayIntegers) {
  REQUIRE_PG(pg);
  auto db = Db::open_postgres(pg->base_url());
  ASSERT_TRUE(db.ok());
  auto row = (*db)->read_value<std::optional<Row>>([](Tx& tx) {
    return tx.query_one("SELECT 9223372036854775807::bigint, sum(x), avg(x), true, 1.5::float8 "
                        "FROM (VALUES (1::bigint), (2::bigint)) AS v(x)");
  });
  ASSERT_TRUE(row.ok()) << row.status().to_string();
  const Row& r = **row;
  EXPECT_EQ(std::get<int64_t>(r.value(0)), 9223372036854775807);
  EXPECT_EQ(std::get<int64_t>(r.value(1)), 3);
  EXPECT_DOUBLE_EQ(r.real(2), 1.5);
  EXPECT_EQ(r.integer(3), 1);
  EXPECT_DOUBLE_EQ(std::get<double>(r.value(4)), 1.5);
}

}  // namespace
}  // namespace chiron::service
