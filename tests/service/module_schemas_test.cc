// The other modules' schema migrations, unchanged, on both backends: SQL written once must run on
// SQLite and PostgreSQL alike. Their schema.cc files depend on service/db.h only, so they are
// compiled in here directly (service_tests must not link the higher modules).

#include <gtest/gtest.h>

#include "db_testutil.h"
#include "service/db.h"

#if __has_include("store/schema.h")
#include "store/schema.cc"  // NOLINT(bugprone-suspicious-include)
#define CHIRON_HAVE_STORE_SCHEMA 1
#endif
#if __has_include("review/schema.h")
#include "review/schema.cc"  // NOLINT(bugprone-suspicious-include)
#define CHIRON_HAVE_REVIEW_SCHEMA 1
#endif

namespace chiron::service {
namespace {

class ModuleSchemasTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = testing::open_test_db(GetParam(), dir_.path());
    if (!db.ok() && GetParam() == "postgres" && db.status().code() == StatusCode::kUnavailable)
      GTEST_SKIP() << "PostgreSQL tests skipped: " << db.status().to_string();
    ASSERT_TRUE(db.ok()) << db.status().to_string();
    db_ = std::move(db).value();
  }

  void migrate_twice(std::string_view component, const std::vector<Migration>& migrations) {
    ASSERT_FALSE(migrations.empty());
    Status st = db_->migrate(component, migrations);
    ASSERT_TRUE(st.ok()) << st.to_string();
    st = db_->migrate(component, migrations);
    ASSERT_TRUE(st.ok()) << st.to_string();
    auto n = db_->read_value<int64_t>([&](Tx& tx) -> Result<int64_t> {
      CHIRON_ASSIGN_OR_RETURN(auto r, tx.query_one("SELECT count(*) FROM schema_migrations WHERE component = ?",
                                                   {std::string(component)}));
      return r->integer(0);
    });
    EXPECT_EQ(n.value_or(-1), static_cast<int64_t>(migrations.size()));
  }

  testing::TempDir dir_;
  std::unique_ptr<Db> db_;
};

#ifdef CHIRON_HAVE_STORE_SCHEMA
TEST_P(ModuleSchemasTest, StoreMigrationsApply) { migrate_twice("store", store::store_migrations()); }
#endif
#ifdef CHIRON_HAVE_REVIEW_SCHEMA
TEST_P(ModuleSchemasTest, ReviewMigrationsApply) { migrate_twice("review", review::review_migrations()); }
#endif
#if defined(CHIRON_HAVE_STORE_SCHEMA) && defined(CHIRON_HAVE_REVIEW_SCHEMA)
TEST_P(ModuleSchemasTest, AllModulesShareOneDatabase) {
  migrate_twice("review", review::review_migrations());
  migrate_twice("store", store::store_migrations());
}
#endif

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ModuleSchemasTest);
INSTANTIATE_TEST_SUITE_P(Backends, ModuleSchemasTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace chiron::service
