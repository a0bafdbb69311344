// The backend-independent parts of Db: Row conversions, Tx conveniences, migrations and the SQL
// rewriting (placeholders, dialect macros). The backends are db_sqlite.cc and db_postgres.cc.

#include "service/db.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>

#include "common/clock.h"
#include "common/strings.h"
#include "service/db_internal.h"

namespace chiron::service {
namespace internal {

bool is_ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

namespace {
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
thread_local bool t_in_tx = false;
}  // namespace

size_t skip_quoted(std::string_view sql, size_t i) {
  const size_t n = sql.size();
  const char c = sql[i];
  if (c == '\'') {
    // PostgreSQL E'..' strings take backslash escapes (E standing alone, not ending a word).
    const bool backslash = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') && (i < 2 || !is_ident_char(sql[i - 2]));
    for (size_t j = i + 1; j < n; ++j) {
      if (backslash && sql[j] == '\\') {
        ++j;
        continue;
      }
      if (sql[j] == '\'') {
        if (j + 1 < n && sql[j + 1] == '\'') {
          ++j;
          continue;
        }
        return j + 1;
      }
    }
    return n;
  }
  if (c == '"' || c == '`') {
    for (size_t j = i + 1; j < n; ++j) {
      if (sql[j] == c) {
        if (j + 1 < n && sql[j + 1] == c) {
          ++j;
          continue;
        }
        return j + 1;
      }
    }
    return n;
  }
  if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
    const size_t nl = sql.find('\n', i + 2);
    return nl == std::string_view::npos ? n : nl + 1;
  }
  if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
    const size_t end = sql.find("*/", i + 2);
    return end == std::string_view::npos ? n : end + 2;
  }
  return i;
}

bool is_blank_sql(std::string_view sql) {
  for (size_t i = 0; i < sql.size();) {
    const char c = sql[i];
    if (is_space(c)) {
      ++i;
      continue;
    }
    if ((c == '-' || c == '/') && skip_quoted(sql, i) != i) {
      i = skip_quoted(sql, i);
      continue;
    }
    return false;
  }
  return true;
}

TxScope::TxScope() {
  if (t_in_tx) {
    status_ = Status::internal("nested transaction: write()/read() called inside another on the same thread");
    return;
  }
  t_in_tx = true;
  owner_ = true;
}

TxScope::~TxScope() {
  if (owner_) t_in_tx = false;
}

std::string sql_excerpt(std::string_view sql, size_t max_chars) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (is_space(c)) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
    if (out.size() >= max_chars) {
      out += "...";
      break;
    }
  }
  return out;
}

}  // namespace internal

// ---- Row ----

namespace {

int64_t clamp_to_int64(double d) {
  if (std::isnan(d)) return 0;
  if (d >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
  if (d <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}

double parse_double(std::string_view s) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double d = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  (void)p;
  return ec == std::errc() ? d : 0.0;
}

int64_t parse_integer(std::string_view s) {
  s = trim(s);
  std::string_view digits = s;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec == std::errc() && p == digits.data() + digits.size()) return v;
  // "3.0", "1e3", an out-of-range number, a PostgreSQL NUMERIC: through double.
  return clamp_to_int64(parse_double(s));
}

std::string format_double(double d) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc() ? std::string(buf, p) : std::string();
}

}  // namespace

int64_t Row::integer(size_t i) const {
  const SqlValue& v = values_.at(i);
  if (const auto* x = std::get_if<int64_t>(&v)) return *x;
  if (const auto* x = std::get_if<double>(&v)) return clamp_to_int64(*x);
  if (const auto* x = std::get_if<std::string>(&v)) return parse_integer(*x);
  return 0;
}

double Row::real(size_t i) const {
  const SqlValue& v = values_.at(i);
  if (const auto* x = std::get_if<double>(&v)) return *x;
  if (const auto* x = std::get_if<int64_t>(&v)) return static_cast<double>(*x);
  if (const auto* x = std::get_if<std::string>(&v)) return parse_double(*x);
  return 0.0;
}

std::string Row::text(size_t i) const {
  const SqlValue& v = values_.at(i);
  if (const auto* x = std::get_if<std::string>(&v)) return *x;
  if (const auto* x = std::get_if<int64_t>(&v)) return std::to_string(*x);
  if (const auto* x = std::get_if<double>(&v)) return format_double(*x);
  return std::string();
}

std::optional<int64_t> Row::opt_integer(size_t i) const {
  if (is_null(i)) return std::nullopt;
  return integer(i);
}

std::optional<std::string> Row::opt_text(size_t i) const {
  if (is_null(i)) return std::nullopt;
  return text(i);
}

// ---- Tx ----

Result<std::optional<Row>> Tx::query_one(std::string_view sql, const Params& params) {
  CHIRON_ASSIGN_OR_RETURN(std::vector<Row> rows, query(sql, params));
  if (rows.empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows.front()));
}

Result<int64_t> Tx::insert(std::string_view sql, const Params& params) {
  CHIRON_ASSIGN_OR_RETURN(std::vector<Row> rows, query(sql, params));
  if (rows.empty() || rows.front().size() == 0)
    return Status::already_exists("insert returned no row (conflict): " + internal::sql_excerpt(sql));
  if (rows.front().is_null(0)) return Status::internal("insert returned a NULL id: " + internal::sql_excerpt(sql));
  return rows.front().integer(0);
}

Status Tx::exec_script(std::string_view sql) {
  const std::string expanded = expand_dialect_macros(sql, dialect());
  const std::string_view s = expanded;
  size_t start = 0;
  for (size_t i = 0; i <= s.size();) {
    if (i < s.size()) {
      const size_t j = internal::skip_quoted(s, i);
      if (j != i) {
        i = j;
        continue;
      }
    }
    if (i == s.size() || s[i] == ';') {
      const std::string_view stmt = s.substr(start, i - start);
      if (!internal::is_blank_sql(stmt)) CHIRON_RETURN_IF_ERROR(exec(stmt));
      start = i + 1;
    }
    ++i;
  }
  return Status();
}

// ---- migrations ----

namespace {
constexpr std::string_view kCreateMigrations =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "component TEXT NOT NULL, version BIGINT NOT NULL, applied_at TEXT NOT NULL, "
    "PRIMARY KEY (component, version))";

Result<std::set<int64_t>> applied_versions(Db& db, std::string_view component) {
  return db.read_value<std::set<int64_t>>([&](Tx& tx) -> Result<std::set<int64_t>> {
    CHIRON_ASSIGN_OR_RETURN(auto rows, tx.query("SELECT version FROM schema_migrations WHERE component = ?",
                                                 {std::string(component)}));
    std::set<int64_t> out;
    for (const Row& r : rows) out.insert(r.integer(0));
    return out;
  });
}
}  // namespace

Status Db::migrate(std::string_view component, const std::vector<Migration>& migrations) {
  const std::string what = "migrate " + std::string(component);
  std::vector<const Migration*> order;
  for (const Migration& m : migrations) order.push_back(&m);
  std::sort(order.begin(), order.end(), [](const Migration* a, const Migration* b) { return a->version < b->version; });
  for (size_t i = 0; i < order.size(); ++i) {
    if (order[i]->version < 1) return Status::invalid_argument(what + ": migration version must be >= 1");
    if (i > 0 && order[i]->version == order[i - 1]->version)
      return Status::invalid_argument(what + ": duplicate migration version " + std::to_string(order[i]->version));
  }
  const int64_t newest = order.empty() ? 0 : order.back()->version;

  // A no-op when the table exists, so a database we refuse below is not changed. Two processes
  // creating it at once on PostgreSQL can collide in the catalog; the loser retries.
  Status st = write([](Tx& tx) { return tx.exec(kCreateMigrations).status(); });
  if (!st.ok()) st = write([](Tx& tx) { return tx.exec(kCreateMigrations).status(); });
  if (!st.ok()) return st.context(what + ": schema_migrations");

  auto applied = applied_versions(*this, component);
  if (!applied.ok()) return std::move(applied).status().context(what);
  if (!applied->empty() && *applied->rbegin() > newest) {
    return Status::failed_precondition(what + ": the database is at schema version " +
                                       std::to_string(*applied->rbegin()) + ", newer than this build knows (" +
                                       std::to_string(newest) + "); refusing to touch it");
  }
  for (const Migration* m : order) {
    if (applied->count(m->version)) continue;
    const std::string where = what + " v" + std::to_string(m->version);
    st = write([&](Tx& tx) -> Status {
      CHIRON_ASSIGN_OR_RETURN(auto done, tx.query_one("SELECT 1 FROM schema_migrations WHERE component = ? AND version = ?",
                                                      {std::string(component), int64_t{m->version}}));
      if (done) return Status();  // another process applied it meanwhile
      CHIRON_RETURN_IF_ERROR(tx.exec_script(m->sql));
      return tx
          .exec("INSERT INTO schema_migrations (component, version, applied_at) VALUES (?, ?, ?)",
                {std::string(component), int64_t{m->version}, format_utc_ms(Clock::system().unix_ms())})
          .status();
    });
    if (!st.ok()) {
      // Lost a race with another process applying the same migration (PostgreSQL: the snapshot
      // predates its commit, so the DDL or the record collided): fine if it is recorded now.
      auto again = applied_versions(*this, component);
      if (again.ok() && again->count(m->version)) continue;
      return st.context(where);
    }
  }
  return Status();
}

// ---- SQL rewriting ----

std::string to_dollar_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int64_t largest = 0;
  constexpr int64_t kMaxNumber = 1'000'000'000;
  for (size_t i = 0; i < sql.size();) {
    const size_t j = internal::skip_quoted(sql, i);
    if (j != i) {
      out.append(sql.substr(i, j - i));
      i = j;
      continue;
    }
    if (sql[i] != '?') {
      out += sql[i++];
      continue;
    }
    size_t k = i + 1;
    while (k < sql.size() && sql[k] >= '0' && sql[k] <= '9') ++k;
    out += '$';
    if (k > i + 1) {  // ?NNN: explicit number
      const std::string_view digits = sql.substr(i + 1, k - i - 1);
      out.append(digits);
      int64_t n = 0;
      for (char d : digits) n = std::min(kMaxNumber, n * 10 + (d - '0'));
      largest = std::max(largest, n);
    } else {
      largest = std::min(kMaxNumber, largest + 1);
      out += std::to_string(largest);
      // `?E'..'` would become `$1E'..'`, where E no longer starts an E-string: keep words apart.
      if (k < sql.size() && internal::is_ident_char(sql[k])) out += ' ';
    }
    i = k;
  }
  return out;
}

std::string expand_dialect_macros(std::string_view sql, Dialect dialect) {
  static constexpr std::string_view kId = "{{id}}";
  const std::string_view id = dialect == Dialect::kSqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT"
                                                          : "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
  std::string out;
  out.reserve(sql.size() + 32);
  for (size_t i = 0; i < sql.size();) {
    const size_t j = internal::skip_quoted(sql, i);
    if (j != i) {
      out.append(sql.substr(i, j - i));
      i = j;
      continue;
    }
    if (sql.substr(i, kId.size()) == kId) {
      out.append(id);
      i += kId.size();
      if (i < sql.size() && internal::is_ident_char(sql[i])) out += ' ';  // as in to_dollar_placeholders
      continue;
    }
    out += sql[i++];
  }
  return out;
}

}  // namespace chiron::service
