// Db on SQLite. DESIGN: one file, WAL (readers never block the writer and see one snapshot per
// transaction), synchronous=FULL (the WAL is fsync'd at every COMMIT, so an acknowledged write
// survives kill -9 and power loss), foreign_keys=ON. One writer connection behind an in-process
// mutex (group commit: concurrent writers share one transaction and one fsync, each function
// in its own SAVEPOINT), taking BEGIN IMMEDIATE so other processes' writers wait in busy_timeout instead of
// failing at COMMIT; `pool_size` reader connections (query_only) handed out from a free list.
// Each connection caches its prepared statements by SQL text.

#include <sqlite3.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <unordered_map>

#include "service/db.h"
#include "service/db_internal.h"

namespace chiron::service {
namespace {

constexpr size_t kMaxCachedStatements = 256;

Status sqlite_status(sqlite3* db, int rc, std::string_view sql) {
  const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string text = std::string("sqlite: ") + (msg ? msg : sqlite3_errstr(rc));
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_ROWID:
      return Status::already_exists(text);
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return Status::failed_precondition(text);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::unavailable(text + " (database busy)");
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_CORRUPT:
    case SQLITE_PROTOCOL:
      return Status::io_error(text);
    case SQLITE_NOTADB:
      return Status::failed_precondition(text);
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
      return Status::invalid_argument(text);
    case SQLITE_READONLY:
      return Status::internal(text + " (a write inside read()?): " + internal::sql_excerpt(sql));
    default:
      return Status::internal(text + ": " + internal::sql_excerpt(sql));
  }
}

// One sqlite3 handle and its statement cache. Used by one thread at a time (the pool hands it out).
class SqliteConn {
 public:
  SqliteConn() = default;
  ~SqliteConn() {
    for (auto& [sql, s] : cache_) sqlite3_finalize(s);
    if (db_) sqlite3_close_v2(db_);
  }
  SqliteConn(const SqliteConn&) = delete;
  SqliteConn& operator=(const SqliteConn&) = delete;

  Status open(const std::string& path, bool writer, uint32_t busy_timeout_ms) {
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) return sqlite_status(db_, rc, "open").context(path);
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, static_cast<int>(busy_timeout_ms));
    // Reads the header first: a file that is not SQLite is refused before anything is written.
    Status st = simple("SELECT count(*) FROM sqlite_master");
    if (!st.ok()) {
      if (st.message().find("not a database") != std::string::npos || st.code() == StatusCode::kFailedPrecondition)
        return Status::failed_precondition(path + " is not an SQLite database (" + st.message() + ")");
      return st.context(path);
    }
    if (writer) {
      auto mode = pragma_text("PRAGMA journal_mode=WAL");
      if (!mode.ok()) return std::move(mode).status().context(path);
      if (*mode != "wal") return Status::failed_precondition(path + ": the file system does not support WAL mode");
    }
    CHIRON_RETURN_IF_ERROR(simple("PRAGMA synchronous=FULL"));
    CHIRON_RETURN_IF_ERROR(simple("PRAGMA foreign_keys=ON"));
    if (!writer) CHIRON_RETURN_IF_ERROR(simple("PRAGMA query_only=1"));
    return Status();
  }

  sqlite3* db() const { return db_; }

  // Runs statements without parameters or results (pragmas, BEGIN/COMMIT, scripts).
  Status simple(std::string_view sql) {
    const char* p = sql.data();
    const char* end = sql.data() + sql.size();
    while (p < end) {
      sqlite3_stmt* s = nullptr;
      const char* tail = nullptr;
      int rc = sqlite3_prepare_v2(db_, p, static_cast<int>(end - p), &s, &tail);
      if (rc != SQLITE_OK) return sqlite_status(db_, rc, std::string_view(p, static_cast<size_t>(end - p)));
      if (s == nullptr) break;  // only whitespace / comments left
      while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      }
      Status st = rc == SQLITE_DONE ? Status() : sqlite_status(db_, rc, sqlite3_sql(s));
      sqlite3_finalize(s);
      CHIRON_RETURN_IF_ERROR(st);
      p = tail;
    }
    return Status();
  }

  Result<std::string> pragma_text(const char* sql) {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql, -1, &s, nullptr);
    if (rc != SQLITE_OK) return sqlite_status(db_, rc, sql);
    rc = sqlite3_step(s);
    std::string out;
    if (rc == SQLITE_ROW) {
      const auto* t = sqlite3_column_text(s, 0);
      out = t ? reinterpret_cast<const char*>(t) : "";
    }
    Status st = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? Status() : sqlite_status(db_, rc, sql);
    sqlite3_finalize(s);
    if (!st.ok()) return st;
    return out;
  }

  // A prepared statement for exactly one SQL statement, from the cache when possible.
  Result<sqlite3_stmt*> prepare(std::string_view sql) {
    std::string key(sql);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    sqlite3_stmt* s = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s, &tail);
    if (rc != SQLITE_OK) return sqlite_status(db_, rc, sql);
    if (s == nullptr) return Status::invalid_argument("empty SQL statement");
    if (!internal::is_blank_sql(std::string_view(tail, static_cast<size_t>(sql.data() + sql.size() - tail)))) {
      sqlite3_finalize(s);
      return Status::invalid_argument("several SQL statements in one exec()/query() (use exec_script): " +
                                      internal::sql_excerpt(sql));
    }
    if (cache_.size() >= kMaxCachedStatements) {
      for (auto& [k, old] : cache_) sqlite3_finalize(old);
      cache_.clear();
    }
    cache_.emplace(std::move(key), s);
    return s;
  }

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// Resets a cached statement when the call using it ends.
class StmtUse {
 public:
  explicit StmtUse(sqlite3_stmt* s) : s_(s) {}
  ~StmtUse() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  StmtUse(const StmtUse&) = delete;
  StmtUse& operator=(const StmtUse&) = delete;

 private:
  sqlite3_stmt* s_;
};

class SqliteTx final : public Tx {
 public:
  explicit SqliteTx(SqliteConn& conn) : conn_(conn) {}

  Result<int64_t> exec(std::string_view sql, const Params& params) override {
    CHIRON_RETURN_IF_ERROR(usable());
    auto r = run(sql, params, nullptr);
    if (!r.ok()) return fail(std::move(r).status());
    return *r;
  }

  Result<std::vector<Row>> query(std::string_view sql, const Params& params) override {
    CHIRON_RETURN_IF_ERROR(usable());
    std::vector<Row> rows;
    auto r = run(sql, params, &rows);
    if (!r.ok()) return fail(std::move(r).status());
    return rows;
  }

  Status exec_script(std::string_view sql) override {
    CHIRON_RETURN_IF_ERROR(usable());
    Status st = conn_.simple(expand_dialect_macros(sql, Dialect::kSqlite));
    if (!st.ok()) return fail(std::move(st));
    return Status();
  }

  Dialect dialect() const override { return Dialect::kSqlite; }
  const Status& failure() const { return failed_; }

 private:
  Status usable() const {
    if (failed_.ok()) return Status();
    return Status::aborted("transaction aborted by an earlier error: " + failed_.to_string());
  }
  Status fail(Status st) {
    if (failed_.ok()) failed_ = st;
    return st;
  }

  Result<int64_t> run(std::string_view sql, const Params& params, std::vector<Row>* rows) {
    CHIRON_ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_.prepare(sql));
    StmtUse use(s);
    const int expected = sqlite3_bind_parameter_count(s);
    if (static_cast<size_t>(expected) != params.size()) {
      return Status::invalid_argument("statement takes " + std::to_string(expected) + " parameters, " +
                                      std::to_string(params.size()) + " given: " + internal::sql_excerpt(sql));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const int idx = static_cast<int>(i + 1);
      int rc = SQLITE_OK;
      if (const auto* x = std::get_if<int64_t>(&params[i])) {
        rc = sqlite3_bind_int64(s, idx, *x);
      } else if (const auto* d = std::get_if<double>(&params[i])) {
        rc = sqlite3_bind_double(s, idx, *d);
      } else if (const auto* t = std::get_if<std::string>(&params[i])) {
        rc = sqlite3_bind_text64(s, idx, t->data(), t->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      } else {
        rc = sqlite3_bind_null(s, idx);
      }
      if (rc != SQLITE_OK) return sqlite_status(conn_.db(), rc, sql);
    }
    const int columns = sqlite3_column_count(s);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      if (rows == nullptr) continue;
      std::vector<SqlValue> values;
      values.reserve(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(s, c)) {
          case SQLITE_INTEGER:
            values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(s, c)));
            break;
          case SQLITE_FLOAT:
            values.emplace_back(sqlite3_column_double(s, c));
            break;
          case SQLITE_NULL:
            values.emplace_back(std::monostate());
            break;
          default: {  // TEXT or BLOB: bytes
            const void* p = sqlite3_column_blob(s, c);
            const int n = sqlite3_column_bytes(s, c);
            values.emplace_back(std::string(static_cast<const char*>(p), p ? static_cast<size_t>(n) : 0));
          }
        }
      }
      rows->emplace_back(std::move(values));
    }
    if (rc != SQLITE_DONE) return sqlite_status(conn_.db(), rc, sql);
    return static_cast<int64_t>(sqlite3_changes64(conn_.db()));
  }

  SqliteConn& conn_;
  Status failed_;
};

class SqliteDb final : public Db {
 public:
  SqliteDb(std::string path, DbOptions options) : path_(std::move(path)), options_(options) {}

  Status open() {
    if (path_.empty() || path_ == ":memory:" || path_.rfind("file:", 0) == 0)
      return Status::invalid_argument("sqlite: a file path is required, not '" + path_ + "'");
    const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
    if (!parent.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(parent, ec);
      if (ec) return Status::io_error("create " + parent.string() + ": " + ec.message());
    }
    writer_ = std::make_unique<SqliteConn>();
    CHIRON_RETURN_IF_ERROR(writer_->open(path_, true, options_.busy_timeout_ms));
    const size_t readers = std::max<size_t>(1, options_.pool_size);
    for (size_t i = 0; i < readers; ++i) {
      auto c = std::make_unique<SqliteConn>();
      CHIRON_RETURN_IF_ERROR(c->open(path_, false, options_.busy_timeout_ms));
      idle_.push_back(std::move(c));
    }
    return Status();
  }

  // Group commit: concurrent writers queue; the first becomes the leader and runs the queued
  // functions one after another in ONE transaction, each inside its own SAVEPOINT (a failing
  // function is rolled back alone and gets its own error), then COMMITs once — one WAL fsync
  // for the whole group instead of one per writer. A writer returns only after the COMMIT that
  // holds its changes (or with the error that lost them).
  Status write(const std::function<Status(Tx&)>& fn) override {
    internal::TxScope scope;
    CHIRON_RETURN_IF_ERROR(scope.status());
    PendingWrite me{&fn, Status(), false};
    std::unique_lock lock(group_mu_);
    queue_.push_back(&me);
    while (!me.done) {
      if (leader_active_) {
        group_cv_.wait(lock);
        continue;
      }
      leader_active_ = true;
      std::vector<PendingWrite*> batch;
      const size_t n = std::min(queue_.size(), kMaxGroup);
      batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      lock.unlock();
      std::vector<PendingWrite*> unrun = run_group(batch);
      lock.lock();
      // Writers a lost transaction never reached go first in the next group.
      queue_.insert(queue_.begin(), unrun.begin(), unrun.end());
      for (PendingWrite* p : batch)
        if (std::find(unrun.begin(), unrun.end(), p) == unrun.end()) p->done = true;
      leader_active_ = false;
      group_cv_.notify_all();
    }
    return me.result;
  }

  Status read(const std::function<Status(Tx&)>& fn) override {
    internal::TxScope scope;
    CHIRON_RETURN_IF_ERROR(scope.status());
    std::unique_ptr<SqliteConn> conn;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !idle_.empty(); });
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
    Status st = run(*conn, "BEGIN", fn);
    {
      std::lock_guard lock(mu_);
      idle_.push_back(std::move(conn));
    }
    cv_.notify_one();
    return st;
  }

  Dialect dialect() const override { return Dialect::kSqlite; }
  std::string describe() const override { return "sqlite:" + path_; }

 private:
  static Status run(SqliteConn& conn, const char* begin, const std::function<Status(Tx&)>& fn) {
    CHIRON_RETURN_IF_ERROR(conn.simple(begin));
    SqliteTx tx(conn);
    Status st = internal::call_tx_fn(fn, tx);
    if (st.ok() && !tx.failure().ok()) st = tx.failure();
    if (st.ok()) {
      st = conn.simple("COMMIT");
      if (st.ok()) return st;
    }
    if (sqlite3_get_autocommit(conn.db()) == 0) (void)conn.simple("ROLLBACK");
    return st;
  }

  struct PendingWrite {
    const std::function<Status(Tx&)>* fn;
    Status result;
    bool done = false;  // Guarded by group_mu_
  };
  static constexpr size_t kMaxGroup = 64;

  // Runs a group on the writer connection (only the leader calls it, so no lock is needed).
  // Returns the writers it did not run because the transaction was lost before their turn.
  std::vector<PendingWrite*> run_group(const std::vector<PendingWrite*>& batch) {
    if (batch.size() == 1) {
      batch[0]->result = run(*writer_, "BEGIN IMMEDIATE", *batch[0]->fn);
      return {};
    }
    SqliteConn& conn = *writer_;
    if (Status st = conn.simple("BEGIN IMMEDIATE"); !st.ok()) {
      for (PendingWrite* p : batch) p->result = st;
      return {};
    }
    std::vector<PendingWrite*> kept, unrun;
    Status lost;  // set when the whole transaction is gone (SQLite rolls back on disk errors)
    for (PendingWrite* p : batch) {
      if (!lost.ok()) {
        unrun.push_back(p);
        continue;
      }
      Status st = conn.simple("SAVEPOINT chiron_group");
      if (st.ok()) {
        SqliteTx tx(conn);
        st = internal::call_tx_fn(*p->fn, tx);
        if (st.ok() && !tx.failure().ok()) st = tx.failure();
      }
      if (sqlite3_get_autocommit(conn.db()) != 0) {
        // The transaction itself was rolled back: everything of this group is lost.
        lost = st.ok() ? Status::aborted("group transaction rolled back") : st;
        p->result = lost;
        for (PendingWrite* k : kept) k->result = lost;
        kept.clear();
        continue;
      }
      if (st.ok()) st = conn.simple("RELEASE chiron_group");
      if (st.ok()) {
        kept.push_back(p);
      } else {
        (void)conn.simple("ROLLBACK TO chiron_group");
        (void)conn.simple("RELEASE chiron_group");
        p->result = st;
      }
    }
    if (!lost.ok()) return unrun;
    Status commit = conn.simple("COMMIT");
    if (!commit.ok() && sqlite3_get_autocommit(conn.db()) == 0) (void)conn.simple("ROLLBACK");
    for (PendingWrite* k : kept) k->result = commit;
    return unrun;
  }

  const std::string path_;
  const DbOptions options_;
  std::mutex group_mu_;
  std::condition_variable group_cv_;
  std::vector<PendingWrite*> queue_;  // Guarded by group_mu_
  bool leader_active_ = false;        // Guarded by group_mu_
  std::unique_ptr<SqliteConn> writer_;  // only the group leader uses it
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<SqliteConn>> idle_;  // Guarded by mu_
};

}  // namespace

Result<std::unique_ptr<Db>> Db::open_sqlite(const std::string& path, DbOptions options) {
  auto db = std::make_unique<SqliteDb>(path, options);
  CHIRON_RETURN_IF_ERROR(db->open());
  return std::unique_ptr<Db>(std::move(db));
}

}  // namespace chiron::service
