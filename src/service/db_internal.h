#pragma once
// Internal to the service module: pieces the SQLite and PostgreSQL backends of Db share.

#include <cstddef>
#include <exception>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "service/db.h"

namespace chiron::service::internal {

// If sql[i] opens a string literal, quoted identifier or comment, the index just past its end
// (sql.size() when unterminated); otherwise i.
size_t skip_quoted(std::string_view sql, size_t i);

// Letters, digits, '_' and non-ASCII bytes: characters that continue a word.
bool is_ident_char(char c);

// True if sql holds nothing but whitespace and comments.
bool is_blank_sql(std::string_view sql);

// Marks the calling thread as running a transaction for its lifetime; a nested one is refused
// (a second connection from the same thread can deadlock the pool or the writer mutex).
class TxScope {
 public:
  TxScope();
  ~TxScope();
  TxScope(const TxScope&) = delete;
  TxScope& operator=(const TxScope&) = delete;
  // kInternal when this scope is nested inside another on the same thread.
  const Status& status() const { return status_; }

 private:
  bool owner_ = false;
  Status status_;
};

// The first `max_chars` of a statement, for error messages.
std::string sql_excerpt(std::string_view sql, size_t max_chars = 80);

// Runs a transaction function; an exception it throws becomes an error Status, so the caller's
// ROLLBACK path runs and the connection (and, on SQLite, the group-commit leadership) is never
// left behind by unwinding.
inline Status call_tx_fn(const std::function<Status(Tx&)>& fn, Tx& tx) {
  try {
    return fn(tx);
  } catch (const std::exception& e) {
    return Status::internal(std::string("transaction function threw: ") + e.what());
  } catch (...) {
    return Status::internal("transaction function threw");
  }
}

}  // namespace chiron::service::internal
