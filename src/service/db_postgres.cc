// Db on PostgreSQL (libpq). DESIGN: a pool of up to `pool_size` connections, opened on demand and
// handed out whole to one transaction. Statements go through PQexecParams with text-format
// parameters (`?` rewritten to `$n`), all of type `unknown` so the server infers each from its
// context, as for a quoted literal (typing int64 as int8 would break int4 function arguments
// such as substr(x, ?, ?)). Consequence: a parameter whose type nothing determines (`? IS NULL`,
// `SELECT ?`) is text or an error — write `CAST(? AS BIGINT)`, which SQLite takes too. write() is SERIALIZABLE and re-runs the function on a
// serialization failure or deadlock (SQLSTATE 40001 / 40P01), a bounded number of times with
// jittered backoff; read() is READ ONLY REPEATABLE READ (one snapshot). A connection that broke
// is reconnected when next taken from the pool; a BEGIN that fails on a dead connection is
// retried once on a fresh one (nothing has run yet, so that is safe).

#include <libpq-fe.h>

#include <charconv>
#include <limits>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "service/db.h"
#include "service/db_internal.h"

namespace chiron::service {
namespace {

constexpr int kMaxWriteAttempts = 40;
// Type OIDs (catalog/pg_type.dat); the server headers are not needed for these few.
constexpr Oid kBoolOid = 16, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kOidOid = 26, kFloat4Oid = 700,
              kFloat8Oid = 701, kNumericOid = 1700;

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

void ignore_notice(void*, const char*) {}

// Maps a failed result to a Status. `retryable` is set for serialization failures and deadlocks.
Status pg_status(PGconn* conn, const PGresult* res, std::string_view sql, bool* retryable) {
  const char* state_c = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const std::string state = state_c ? state_c : "";
  const char* primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string msg = primary ? primary : PQerrorMessage(conn);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  std::string text = "postgres: " + msg;
  if (!state.empty()) text += " [" + state + "]";
  if (state.empty() || PQstatus(conn) == CONNECTION_BAD) {
    if (PQstatus(conn) == CONNECTION_BAD) return Status::unavailable(text + " (connection lost)");
    if (state.empty()) return Status::internal(text + ": " + internal::sql_excerpt(sql));
  }
  const std::string_view cls = std::string_view(state).substr(0, 2);
  if (state == "23505") {
    const char* constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
    return Status::already_exists(text + (constraint ? std::string(" (constraint ") + constraint + ")" : ""));
  }
  if (cls == "23") return Status::failed_precondition(text);
  if (state == "40001" || state == "40P01") {
    if (retryable) *retryable = true;
    return Status::unavailable(text + " (concurrent update)");
  }
  if (state == "08P01") return Status::invalid_argument(text + ": " + internal::sql_excerpt(sql));  // bind count
  if (cls == "08" || cls == "57" || state == "53300" || state == "55P03") return Status::unavailable(text);
  if (state == "53100" || cls == "58") return Status::io_error(text);
  if (cls == "22") return Status::invalid_argument(text);
  if (state == "25006") return Status::internal(text + " (a write inside read()?): " + internal::sql_excerpt(sql));
  return Status::internal(text + ": " + internal::sql_excerpt(sql));
}

class PgConn {
 public:
  explicit PgConn(PGconn* c) : conn_(c) { PQsetNoticeProcessor(conn_, ignore_notice, nullptr); }
  ~PgConn() { PQfinish(conn_); }
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  static Result<std::unique_ptr<PgConn>> connect(const std::string& url) {
    // Keywords before dbname are defaults the URL may override (expand_dbname).
    const char* keys[] = {"connect_timeout", "application_name", "client_encoding", "dbname", nullptr};
    const char* values[] = {"10", "chiron", "UTF8", url.c_str(), nullptr};
    PGconn* c = PQconnectdbParams(keys, values, 1);
    if (c == nullptr) return Status::resource_exhausted("postgres: out of memory");
    if (PQstatus(c) != CONNECTION_OK) {
      std::string msg = PQerrorMessage(c);
      PQfinish(c);
      while (!msg.empty() && msg.back() == '\n') msg.pop_back();
      return Status::unavailable("postgres: cannot connect: " + msg);
    }
    return std::make_unique<PgConn>(c);
  }

  PGconn* get() const { return conn_; }
  bool broken() const { return PQstatus(conn_) == CONNECTION_BAD; }

  // A command without parameters (BEGIN, COMMIT, scripts): its result, or the error.
  Result<PgResult> command(std::string_view sql, bool* retryable = nullptr) {
    PgResult r(PQexec(conn_, std::string(sql).c_str()));
    const auto st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) return r;
    return pg_status(conn_, r.get(), sql, retryable);
  }

 private:
  PGconn* conn_;
};

std::string format_param(double d) {
  if (d != d) return "NaN";
  if (d == std::numeric_limits<double>::infinity()) return "Infinity";
  if (d == -std::numeric_limits<double>::infinity()) return "-Infinity";
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc() ? std::string(buf, p) : "0";
}

SqlValue column_value(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return std::monostate();
  const char* v = PQgetvalue(r, row, col);
  const size_t n = static_cast<size_t>(PQgetlength(r, row, col));
  switch (PQftype(r, col)) {
    case kBoolOid:
      return int64_t{n > 0 && v[0] == 't' ? 1 : 0};
    case kInt8Oid:
    case kInt2Oid:
    case kInt4Oid:
    case kOidOid:
    case kNumericOid: {  // sum(bigint) is NUMERIC: an integer value stays an int64
      int64_t x = 0;
      auto [p, ec] = std::from_chars(v, v + n, x);
      if (ec == std::errc() && p == v + n) return x;
      double d = 0;
      auto [q, ec2] = std::from_chars(v, v + n, d);
      if (ec2 == std::errc() && q == v + n) return d;
      return std::string(v, n);
    }
    case kFloat4Oid:
    case kFloat8Oid: {
      double d = 0;
      auto [q, ec] = std::from_chars(v, v + n, d);
      if (ec == std::errc() && q == v + n) return d;
      return std::string(v, n);  // NaN / Infinity spelled out; Row::real parses those
    }
    default:
      return std::string(v, n);
  }
}

class PgTx final : public Tx {
 public:
  explicit PgTx(PgConn& conn) : conn_(conn) {}

  Result<int64_t> exec(std::string_view sql, const Params& params) override {
    CHIRON_ASSIGN_OR_RETURN(PgResult r, run(sql, params));
    const char* n = PQcmdTuples(r.get());
    int64_t count = 0;
    if (n && *n) std::from_chars(n, n + std::char_traits<char>::length(n), count);
    return count;
  }

  Result<std::vector<Row>> query(std::string_view sql, const Params& params) override {
    CHIRON_ASSIGN_OR_RETURN(PgResult r, run(sql, params));
    const int rows = PQntuples(r.get());
    const int cols = PQnfields(r.get());
    std::vector<Row> out;
    out.reserve(static_cast<size_t>(rows));
    for (int i = 0; i < rows; ++i) {
      std::vector<SqlValue> values;
      values.reserve(static_cast<size_t>(cols));
      for (int c = 0; c < cols; ++c) values.push_back(column_value(r.get(), i, c));
      out.emplace_back(std::move(values));
    }
    return out;
  }

  Status exec_script(std::string_view sql) override {
    CHIRON_RETURN_IF_ERROR(usable());
    auto r = conn_.command(expand_dialect_macros(sql, Dialect::kPostgres), &retryable_);
    if (!r.ok()) return fail(std::move(r).status());
    return Status();
  }

  Dialect dialect() const override { return Dialect::kPostgres; }
  const Status& failure() const { return failed_; }
  bool retryable() const { return retryable_; }

 private:
  Status usable() const {
    if (failed_.ok()) return Status();
    return Status::aborted("transaction aborted by an earlier error: " + failed_.to_string());
  }
  Status fail(Status st) {
    if (failed_.ok()) failed_ = st;
    return st;
  }

  Result<PgResult> run(std::string_view sql, const Params& params) {
    CHIRON_RETURN_IF_ERROR(usable());
    const std::string text = to_dollar_placeholders(sql);
    std::vector<std::string> storage(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
      if (const auto* x = std::get_if<int64_t>(&params[i])) {
        storage[i] = std::to_string(*x);
      } else if (const auto* d = std::get_if<double>(&params[i])) {
        storage[i] = format_param(*d);
      } else if (const auto* s = std::get_if<std::string>(&params[i])) {
        if (s->find('\0') != std::string::npos)
          return fail(Status::invalid_argument("postgres: text parameter " + std::to_string(i + 1) + " holds a NUL byte"));
        storage[i] = *s;
      } else {
        continue;  // NULL
      }
      values[i] = storage[i].c_str();
    }
    PgResult r(PQexecParams(conn_.get(), text.c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                            nullptr, nullptr, 0));
    const auto st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
    if (st == PGRES_EMPTY_QUERY) return fail(Status::invalid_argument("empty SQL statement"));
    return fail(pg_status(conn_.get(), r.get(), sql, &retryable_));
  }

  PgConn& conn_;
  Status failed_;
  bool retryable_ = false;
};

std::string describe_url(const std::string& url) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (err) PQfreemem(err);
  if (opts == nullptr) return "postgres://(unparsable URL)";
  std::string host, port, db, user;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (o->val == nullptr) continue;
    const std::string_view k = o->keyword;
    if (k == "host" || (k == "hostaddr" && host.empty())) host = o->val;
    if (k == "port") port = o->val;
    if (k == "dbname") db = o->val;
    if (k == "user") user = o->val;
  }
  PQconninfoFree(opts);
  std::string out = "postgres://";
  if (!user.empty()) out += user + "@";
  out += host.empty() ? "localhost" : host;
  if (!port.empty()) out += ":" + port;
  out += "/" + db;
  return out;
}

void backoff(int attempt) {
  thread_local std::minstd_rand rng(static_cast<unsigned>(
      std::hash<std::thread::id>()(std::this_thread::get_id()) ^
      static_cast<size_t>(std::chrono::steady_clock::now().time_since_epoch().count())));
  const int cap_ms = std::min(64, 1 << std::min(attempt, 6));
  std::uniform_int_distribution<int> dist(cap_ms * 250, cap_ms * 1000);  // microseconds
  std::this_thread::sleep_for(std::chrono::microseconds(dist(rng)));
}

class PgDb final : public Db {
 public:
  PgDb(std::string url, DbOptions options)
      : url_(std::move(url)), options_(options), description_(describe_url(url_)) {}

  Status open() {
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(url_.c_str(), &err);
    if (opts == nullptr) {
      std::string msg = err ? err : "unparsable";
      if (err) PQfreemem(err);
      while (!msg.empty() && msg.back() == '\n') msg.pop_back();
      return Status::invalid_argument("postgres URL: " + msg);
    }
    PQconninfoFree(opts);
    CHIRON_ASSIGN_OR_RETURN(auto conn, PgConn::connect(url_));
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(conn));
    total_ = 1;
    return Status();
  }

  Status write(const std::function<Status(Tx&)>& fn) override {
    internal::TxScope scope;
    CHIRON_RETURN_IF_ERROR(scope.status());
    Status last;
    for (int attempt = 0; attempt < kMaxWriteAttempts; ++attempt) {
      if (attempt > 0) backoff(attempt);
      bool retryable = false;
      last = run("BEGIN ISOLATION LEVEL SERIALIZABLE", fn, &retryable);
      if (last.ok() || !retryable) return last;
    }
    return Status::unavailable("postgres: gave up after " + std::to_string(kMaxWriteAttempts) +
                               " serialization failures: " + last.message());
  }

  Status read(const std::function<Status(Tx&)>& fn) override {
    internal::TxScope scope;
    CHIRON_RETURN_IF_ERROR(scope.status());
    bool retryable = false;
    return run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", fn, &retryable);
  }

  Dialect dialect() const override { return Dialect::kPostgres; }
  std::string describe() const override { return description_; }

 private:
  Result<std::unique_ptr<PgConn>> acquire() {
    {
      std::unique_lock lock(mu_);
      const size_t limit = std::max<size_t>(1, options_.pool_size);
      cv_.wait(lock, [&] { return !idle_.empty() || total_ < limit; });
      if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        if (!c->broken()) return c;
        --total_;  // dropped below; reconnect instead
      }
      ++total_;
    }
    auto c = PgConn::connect(url_);
    if (!c.ok()) {
      {
        std::lock_guard lock(mu_);
        --total_;
      }
      cv_.notify_one();
    }
    return c;
  }

  void release(std::unique_ptr<PgConn> c) {
    {
      std::lock_guard lock(mu_);
      if (c->broken()) {
        --total_;
      } else {
        idle_.push_back(std::move(c));
      }
    }
    cv_.notify_one();
  }

  // One transaction: BEGIN, fn, COMMIT (or ROLLBACK).
  Status run(const char* begin, const std::function<Status(Tx&)>& fn, bool* retryable) {
    CHIRON_ASSIGN_OR_RETURN(auto conn, acquire());
    auto began = conn->command(begin);
    if (!began.ok() && conn->broken()) {
      // The server dropped an idle connection (restart, idle timeout): nothing ran, so retry once.
      release(std::move(conn));
      CHIRON_ASSIGN_OR_RETURN(conn, acquire());
      began = conn->command(begin);
    }
    if (!began.ok()) {
      release(std::move(conn));
      return std::move(began).status();
    }
    PgTx tx(*conn);
    Status st = internal::call_tx_fn(fn, tx);
    if (st.ok() && !tx.failure().ok()) st = tx.failure();
    if (st.ok()) {
      auto committed = conn->command("COMMIT", retryable);
      if (committed.ok() && std::string_view(PQcmdStatus(committed->get())) != "COMMIT")
        st = Status::aborted("postgres: transaction rolled back at COMMIT");
      else if (!committed.ok())
        st = std::move(committed).status();
    } else {
      (void)conn->command("ROLLBACK");
    }
    if (tx.retryable()) *retryable = true;
    release(std::move(conn));
    return st;
  }

  const std::string url_;
  const DbOptions options_;
  const std::string description_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConn>> idle_;  // Guarded by mu_
  size_t total_ = 0;                           // connections open or being opened; guarded by mu_
};

}  // namespace

Result<std::unique_ptr<Db>> Db::open_postgres(const std::string& url, DbOptions options) {
  auto db = std::make_unique<PgDb>(url, options);
  CHIRON_RETURN_IF_ERROR(db->open());
  return std::unique_ptr<Db>(std::move(db));
}

}  // namespace chiron::service
