#include "nameserver/store.h"

// DESIGN — the group-commit pipeline.
//
// submit() appends {seq, mutation} to queue_ under mu_ and, unless a flusher already holds
// the token (scheduled_), takes it and posts one drain() to the disk pipeline. drain() is the
// only code that writes through the SQLite connection: it takes up to max_batch mutations,
// commits them in one BEGIN IMMEDIATE … COMMIT (one WAL fsync with synchronous=FULL), advances
// durable_, runs the callbacks that became due — in sequence order, still holding the token so
// callbacks of later batches never overtake them — and loops until the queue is empty.
// A failed commit rolls back, puts the batch back at the head of the queue, fails every
// waiting callback for a submitted sequence and gives the token up; the next submit (or
// flush) retries. The token is what makes "at most one flush at a time" true without holding a
// mutex across I/O; db_mu_ only keeps load() off the connection while a drain uses it.
// flush() returns once the callbacks for what it waited on have run (acked_), so a caller that
// flushes sees every reply sent. If the runtime no longer accepts work (post() refused while
// stopping), submit() drains inline on the caller's thread: late writes still reach the disk.
//
// Why upserts instead of INSERT OR REPLACE: REPLACE deletes the old row first, which would be
// a different (non-idempotent) thing once triggers or foreign keys appear.

#include <sqlite3.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <string_view>
#include <system_error>
#include <utility>

#include "common/log.h"

namespace chiron::nameserver {
namespace {

// PRAGMA application_id: "CHNS", stored at offset 68 of the database header (SQLite file format §1.3).
constexpr int64_t kApplicationId = 0x43484E53;
constexpr int64_t kSchemaVersion = 1;
// Long enough for an external reader's checkpoint; a writer that holds the lock longer than
// this makes the commit fail (and be retried) rather than block the disk pipeline for ever.
constexpr int kBusyTimeoutMs = 2000;
constexpr std::string_view kSqliteMagic{"SQLite format 3\0", 16};  // header offset 0 (file format §1.3)

constexpr const char* kSchemaSql =
    "BEGIN IMMEDIATE;"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS services(name TEXT PRIMARY KEY, algorithm TEXT NOT NULL,"
    " secret TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE IF NOT EXISTS servers(service TEXT NOT NULL, id TEXT NOT NULL,"
    " weight INTEGER NOT NULL, admin TEXT NOT NULL, check_spec TEXT NOT NULL DEFAULT '',"
    " PRIMARY KEY(service, id));"
    "INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '1'),"
    " ('application', 'chiron-nameserver');"
    "PRAGMA application_id = 1128812115;"  // kApplicationId
    "COMMIT;";
static_assert(kApplicationId == 1128812115);

enum Stmt : size_t {
  kBegin,
  kCommit,
  kRollback,
  kPutService,
  kEnsureService,
  kDeleteServiceServers,
  kDeleteService,
  kPutServer,
  kDeleteServer,
  kLoadServices,
  kLoadServers,
  kStmtCount,
};

constexpr const char* kStmtSql[kStmtCount] = {
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "INSERT INTO services(name, algorithm, secret) VALUES(?1, ?2, ?3) ON CONFLICT(name) DO UPDATE"
    " SET algorithm = excluded.algorithm, secret = excluded.secret",
    "INSERT OR IGNORE INTO services(name, algorithm, secret) VALUES(?1, 'rr', '')",
    "DELETE FROM servers WHERE service = ?1",
    "DELETE FROM services WHERE name = ?1",
    "INSERT INTO servers(service, id, weight, admin, check_spec) VALUES(?1, ?2, ?3, ?4, ?5)"
    " ON CONFLICT(service, id) DO UPDATE SET weight = excluded.weight, admin = excluded.admin,"
    " check_spec = excluded.check_spec",
    "DELETE FROM servers WHERE service = ?1 AND id = ?2",
    "SELECT name, algorithm, secret FROM services ORDER BY name",
    "SELECT service, id, weight, admin, check_spec FROM servers ORDER BY service, id",
};

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

Status sqlite_error(sqlite3* db, int rc, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  msg += " (sqlite " + std::to_string(db != nullptr ? sqlite3_extended_errcode(db) : rc) + ")";
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::unavailable(std::move(msg));
    case SQLITE_FULL:
      return Status::resource_exhausted(std::move(msg));
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      return Status::io_error(std::move(msg));
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return Status::permission_denied(std::move(msg));
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return Status::failed_precondition(std::move(msg));
    default:
      return Status::internal(std::move(msg));
  }
}

std::string column_text(sqlite3_stmt* s, int col) {
  const unsigned char* p = sqlite3_column_text(s, col);
  return p == nullptr
             ? std::string()
             : std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s, col)));
}

void bind_text(sqlite3_stmt* s, int idx, const std::string& v) {
  // SQLITE_STATIC: the string outlives the step; bindings are cleared right after.
  sqlite3_bind_text(s, idx, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

// Refuses a non-empty file that is not SQLite before SQLite sees it (SQLite would refuse it
// too, but only once a read happens; this keeps the "never modified" promise obvious).
Status check_magic(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return Status();  // absent: created; other: SQLite says why
  const auto size = std::filesystem::file_size(file, ec);
  if (ec || size == 0) return Status();
  std::ifstream in(file, std::ios::binary);
  char header[16] = {};
  in.read(header, sizeof header);
  if (!in || std::string_view(header, sizeof header) != kSqliteMagic) {
    return Status::failed_precondition("not an SQLite database, so not a chiron name-server store");
  }
  return Status();
}

// The Impl whose drain() runs on this thread, to catch flush() from a callback (a deadlock).
thread_local const void* t_draining = nullptr;

struct Pending {
  uint64_t seq;
  Mutation m;
};

using Callback = std::function<void(Status)>;

}  // namespace

struct Store::Impl {
  Impl(std::filesystem::path p, kernel::Runtime& rt, StoreOptions o) : path_(std::move(p)), runtime_(rt), options_(o) {}

  Status open_db();
  Result<int64_t> query_int(const char* sql);
  Status step_done(size_t id, std::string_view what);
  Status apply(const Mutation& m);
  Status commit_batch(const std::vector<Pending>& batch);
  Result<StoredState> load();
  Status drain();  // caller holds the flusher token (scheduled_ == true)
  uint64_t submit(Mutation m);
  void when_durable(uint64_t seq, Callback cb);
  Status flush();
  void close();

  // Moves the callbacks due for seq ≤ upto out of waiters_. Call with mu_ held.
  std::vector<Callback> take_waiters_locked(uint64_t upto) {
    std::vector<Callback> out;
    auto end = waiters_.upper_bound(upto);
    for (auto it = waiters_.begin(); it != end; ++it) out.push_back(std::move(it->second));
    waiters_.erase(waiters_.begin(), end);
    return out;
  }

  const std::filesystem::path path_;
  kernel::Runtime& runtime_;
  const StoreOptions options_;

  // The connection and its statements are used by the token holder (drain) or by load(),
  // which db_mu_ serialises; db_mu_ is never taken while mu_ is held.
  std::mutex db_mu_;
  std::unique_ptr<sqlite3, DbCloser> db_;
  std::unique_ptr<sqlite3_stmt, StmtFinalizer> stmts_[kStmtCount];

  mutable std::mutex mu_;
  std::condition_variable cv_;                 // durable_ advanced or scheduled_ dropped
  std::deque<Pending> queue_;                  // Guarded by mu_
  std::multimap<uint64_t, Callback> waiters_;  // Guarded by mu_
  uint64_t submitted_ = 0;                     // Guarded by mu_
  uint64_t durable_ = 0;                       // Guarded by mu_
  uint64_t acked_ = 0;                         // Guarded by mu_; callbacks up to here have run
  bool scheduled_ = false;                     // Guarded by mu_; the flusher token
  Status last_error_;                          // Guarded by mu_; OK once a commit succeeds
  StoreStats stats_;                           // Guarded by mu_
};

Result<int64_t> Store::Impl::query_int(const char* sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db_.get(), sql, -1, &raw, nullptr);
  std::unique_ptr<sqlite3_stmt, StmtFinalizer> s(raw);
  if (rc != SQLITE_OK) return sqlite_error(db_.get(), rc, sql);
  rc = sqlite3_step(s.get());
  if (rc == SQLITE_ROW) return static_cast<int64_t>(sqlite3_column_int64(s.get(), 0));
  if (rc == SQLITE_DONE) return Status::not_found(std::string(sql) + ": no row");
  return sqlite_error(db_.get(), rc, sql);
}

Status Store::Impl::open_db() {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path_.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  db_.reset(raw);
  if (rc != SQLITE_OK) return sqlite_error(raw, rc, "open");
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);

  // Ownership first: nothing may write to the file until it is known to be ours (or empty).
  CHIRON_ASSIGN_OR_RETURN(int64_t app_id, query_int("PRAGMA application_id"));
  CHIRON_ASSIGN_OR_RETURN(int64_t objects, query_int("SELECT count(*) FROM sqlite_master"));
  const bool fresh = app_id == 0 && objects == 0;
  if (app_id != kApplicationId && !fresh) {
    return Status::failed_precondition("not a chiron name-server store (application_id " + std::to_string(app_id) +
                                       ", " + std::to_string(objects) + " schema objects)");
  }
  if (!fresh) {
    auto version = query_int("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema_version'");
    if (!version.ok()) return std::move(version).status().context("damaged chiron store: schema_version");
    if (*version > kSchemaVersion) {
      return Status::failed_precondition("schema version " + std::to_string(*version) +
                                         " is newer than this build supports (" + std::to_string(kSchemaVersion) + ")");
    }
    if (*version < 1) return Status::failed_precondition("damaged chiron store: bad schema_version");
  }

  // WAL: readers never block the committer; synchronous=FULL fsyncs the WAL on every COMMIT,
  // so an acknowledged commit survives power loss, not only a process crash.
  {
    sqlite3_stmt* s = nullptr;
    rc = sqlite3_prepare_v2(raw, "PRAGMA journal_mode=WAL", -1, &s, nullptr);
    std::unique_ptr<sqlite3_stmt, StmtFinalizer> guard(s);
    if (rc != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW)
      return sqlite_error(raw, sqlite3_errcode(raw), "journal_mode=WAL");
    if (column_text(s, 0) != "wal") return Status::failed_precondition("the file system does not support WAL mode");
  }
  char* err = nullptr;
  rc = sqlite3_exec(raw, "PRAGMA synchronous=FULL", nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return sqlite_error(raw, rc, "synchronous=FULL");
  if (fresh) {
    rc = sqlite3_exec(raw, kSchemaSql, nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) {
      Status st = sqlite_error(raw, rc, "create schema");
      if (sqlite3_get_autocommit(raw) == 0) sqlite3_exec(raw, "ROLLBACK", nullptr, nullptr, nullptr);
      return st;
    }
  }
  for (size_t i = 0; i < kStmtCount; ++i) {
    sqlite3_stmt* s = nullptr;
    rc = sqlite3_prepare_v3(raw, kStmtSql[i], -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    stmts_[i].reset(s);
    if (rc != SQLITE_OK) return sqlite_error(raw, rc, std::string("prepare ") + kStmtSql[i]);
  }
  return Status();
}

Status Store::Impl::step_done(size_t id, std::string_view what) {
  sqlite3_stmt* s = stmts_[id].get();
  const int rc = sqlite3_step(s);
  Status st = rc == SQLITE_DONE ? Status() : sqlite_error(db_.get(), rc, what);
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return st;
}

Status Store::Impl::apply(const Mutation& m) {
  switch (m.kind) {
    case Mutation::Kind::kPutService: {
      sqlite3_stmt* s = stmts_[kPutService].get();
      bind_text(s, 1, m.service.name);
      bind_text(s, 2, m.service.algorithm);
      bind_text(s, 3, m.service.secret);
      return step_done(kPutService, "put service " + m.service.name);
    }
    case Mutation::Kind::kDeleteService:
      bind_text(stmts_[kDeleteServiceServers].get(), 1, m.service.name);
      CHIRON_RETURN_IF_ERROR(step_done(kDeleteServiceServers, "delete servers of " + m.service.name));
      bind_text(stmts_[kDeleteService].get(), 1, m.service.name);
      return step_done(kDeleteService, "delete service " + m.service.name);
    case Mutation::Kind::kPutServer: {
      bind_text(stmts_[kEnsureService].get(), 1, m.server.service);
      CHIRON_RETURN_IF_ERROR(step_done(kEnsureService, "create service " + m.server.service));
      sqlite3_stmt* s = stmts_[kPutServer].get();
      const std::string admin(ns::to_string(m.server.admin));
      bind_text(s, 1, m.server.service);
      bind_text(s, 2, m.server.id);
      sqlite3_bind_int64(s, 3, m.server.weight);
      bind_text(s, 4, admin);
      bind_text(s, 5, m.server.check);
      return step_done(kPutServer, "put server " + m.server.service + " " + m.server.id);
    }
    case Mutation::Kind::kDeleteServer: {
      sqlite3_stmt* s = stmts_[kDeleteServer].get();
      bind_text(s, 1, m.server.service);
      bind_text(s, 2, m.server.id);
      return step_done(kDeleteServer, "delete server " + m.server.service + " " + m.server.id);
    }
  }
  return Status::invalid_argument("unknown mutation kind");
}

Status Store::Impl::commit_batch(const std::vector<Pending>& batch) {
  std::lock_guard lock(db_mu_);
  Status st = step_done(kBegin, "begin");
  for (size_t i = 0; st.ok() && i < batch.size(); ++i) st = apply(batch[i].m);
  if (st.ok()) st = step_done(kCommit, "commit");
  if (!st.ok() && sqlite3_get_autocommit(db_.get()) == 0) {
    if (Status rb = step_done(kRollback, "rollback"); !rb.ok()) {
      log::error("store", "rollback failed", {{"error", rb.to_string()}});
    }
  }
  return st;
}

Status Store::Impl::drain() {
  const void* const outer = std::exchange(t_draining, this);
  struct Restore {
    const void* prev;
    ~Restore() { t_draining = prev; }
  } restore{outer};
  uint64_t ran_upto = 0;  // callbacks for seq ≤ ran_upto have run
  for (;;) {
    std::vector<Pending> batch;
    uint64_t submitted_at_take = 0;
    {
      std::lock_guard lock(mu_);
      if (ran_upto > acked_) {
        acked_ = ran_upto;
        cv_.notify_all();
      }
      if (queue_.empty()) {
        scheduled_ = false;
        cv_.notify_all();
        return Status();
      }
      const size_t n = std::min(options_.max_batch, queue_.size());
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.begin() + n));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      submitted_at_take = submitted_;
    }
    const int64_t start_us = runtime_.clock().steady_us();
    Status st = commit_batch(batch);
    const auto took_us = static_cast<uint64_t>(std::max<int64_t>(0, runtime_.clock().steady_us() - start_us));

    std::vector<Callback> due;
    {
      std::lock_guard lock(mu_);
      if (st.ok()) {
        durable_ = batch.back().seq;
        stats_.durable = durable_;
        ++stats_.commits;
        stats_.last_commit_us = took_us;
        stats_.max_commit_us = std::max(stats_.max_commit_us, took_us);
        last_error_ = Status();
        due = take_waiters_locked(durable_);
      } else {
        st = std::move(st).context("store commit");
        queue_.insert(queue_.begin(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
        ++stats_.failures;
        last_error_ = st;
        // Nothing after the failed batch can become durable before it, so fail every waiter.
        due = take_waiters_locked(submitted_);
      }
      cv_.notify_all();
    }
    // Still the token holder: callbacks of the next batch cannot overtake these.
    for (auto& cb : due) cb(st);
    if (st.ok()) {
      ran_upto = batch.back().seq;
      continue;
    }

    log::warn("store", "commit failed; batch kept for retry", {{"error", st.to_string()}});
    std::unique_lock lock(mu_);
    if (submitted_ > submitted_at_take) continue;  // a submit during the attempt asks for a retry
    // Give the token up. Waiters registered while the callbacks ran are failed too.
    due = take_waiters_locked(submitted_);
    scheduled_ = false;
    cv_.notify_all();
    lock.unlock();
    // From here on the destructor may be running: touch only locals.
    for (auto& cb : due) cb(st);
    return st;
  }
}

uint64_t Store::Impl::submit(Mutation m) {
  uint64_t seq;
  bool post = false;
  {
    std::lock_guard lock(mu_);
    seq = ++submitted_;
    stats_.submitted = seq;
    queue_.push_back(Pending{seq, std::move(m)});
    if (!scheduled_) scheduled_ = post = true;
  }
  if (post) {
    // post() may block briefly while the disk queue is full; it is called outside mu_ so a
    // running drain can never wait on us.
    const bool posted = runtime_.post(kernel::Device::kDisk, [this] {
      if (Status st = drain(); !st.ok()) log::debug("store", "drain ended on error", {{"error", st.to_string()}});
    });
    // The runtime is stopping: this thread is the only one left to commit on.
    if (!posted) static_cast<void>(drain());
  }
  return seq;
}

void Store::Impl::when_durable(uint64_t seq, Callback cb) {
  Status now;
  {
    std::lock_guard lock(mu_);
    if (seq > durable_) {
      if (scheduled_ || last_error_.ok() || seq > submitted_) {
        waiters_.emplace(seq, std::move(cb));
        return;
      }
      now = last_error_;  // idle after a failed commit: that commit was this seq's chance
    }
  }
  cb(std::move(now));
}

Status Store::Impl::flush() {
  CHIRON_CHECK(t_draining != this, "Store::flush() from a when_durable callback would wait for itself");
  std::unique_lock lock(mu_);
  const uint64_t target = submitted_;
  for (;;) {
    if (acked_ >= target) return Status();
    if (!scheduled_) {
      scheduled_ = true;
      lock.unlock();
      Status st = drain();
      if (!st.ok()) return st;
      lock.lock();
      continue;
    }
    cv_.wait(lock);
  }
}

Result<StoredState> Store::Impl::load() {
  std::lock_guard lock(db_mu_);
  StoredState state;
  sqlite3_stmt* s = stmts_[kLoadServices].get();
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    state.services.push_back(StoredService{column_text(s, 0), column_text(s, 1), column_text(s, 2)});
  }
  Status st = rc == SQLITE_DONE ? Status() : sqlite_error(db_.get(), rc, "read services");
  sqlite3_reset(s);
  CHIRON_RETURN_IF_ERROR(std::move(st).context("store load"));

  s = stmts_[kLoadServers].get();
  while (st.ok() && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    StoredServer row;
    row.service = column_text(s, 0);
    row.id = column_text(s, 1);
    const std::string where = "servers row (" + row.service + ", " + row.id + ")";
    const int64_t weight = sqlite3_column_int64(s, 2);
    if (sqlite3_column_type(s, 2) != SQLITE_INTEGER || weight < 0 || weight > ns::kMaxWeight) {
      st = Status::failed_precondition(where + ": weight '" + column_text(s, 2) + "' is not 0.." +
                                       std::to_string(ns::kMaxWeight));
      break;
    }
    row.weight = static_cast<uint32_t>(weight);
    auto admin = ns::parse_admin_state(column_text(s, 3));
    if (!admin.ok()) {
      st = Status::failed_precondition(where + ": " + admin.status().message());
      break;
    }
    row.admin = *admin;
    row.check = column_text(s, 4);
    state.servers.push_back(std::move(row));
  }
  if (st.ok() && rc != SQLITE_DONE) st = sqlite_error(db_.get(), rc, "read servers");
  sqlite3_reset(s);
  CHIRON_RETURN_IF_ERROR(std::move(st).context("store load"));
  return state;
}

void Store::Impl::close() {
  if (Status st = flush(); !st.ok()) {
    log::error("store", "closing with uncommitted mutations", {{"error", st.to_string()}});
  }
  std::vector<Callback> orphans;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return !scheduled_; });  // a posted drain may still be finishing
    orphans = take_waiters_locked(UINT64_MAX);
  }
  for (auto& cb : orphans) cb(Status::cancelled("store closed before the mutation was durable"));
  std::lock_guard lock(db_mu_);
  for (auto& s : stmts_) s.reset();
  db_.reset();
}

Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path& file, kernel::Runtime& runtime,
                                           StoreOptions options) {
  const std::string what = "store open " + file.string();
  if (options.max_batch == 0) return Status::invalid_argument("max_batch must be > 0").context(what);
  std::error_code ec;
  if (file.has_parent_path()) {
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) return Status::from_errno("create directory " + file.parent_path().string(), ec.value()).context(what);
  }
  CHIRON_RETURN_IF_ERROR(check_magic(file).context(what));
  auto impl = std::make_unique<Impl>(file, runtime, options);
  CHIRON_RETURN_IF_ERROR(impl->open_db().context(what));
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Store::~Store() {
  impl_->close();
}

Result<StoredState> Store::load() {
  return impl_->load();
}

uint64_t Store::submit(Mutation m) {
  return impl_->submit(std::move(m));
}

uint64_t Store::submitted() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->submitted_;
}

void Store::when_durable(uint64_t seq, std::function<void(Status)> cb) {
  impl_->when_durable(seq, std::move(cb));
}

Status Store::flush() {
  return impl_->flush();
}

StoreStats Store::stats() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->stats_;
}

const std::filesystem::path& Store::path() const {
  return impl_->path_;
}

}  // namespace chiron::nameserver
