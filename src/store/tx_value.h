#pragma once
// read_value / write_value: a value computed inside one Db transaction (the Status and the
// value kept apart, so a failed transaction never builds a Result from an OK status).

#include <functional>
#include <optional>

#include "common/result.h"
#include "service/db.h"

namespace chiron::store {

template <class T, class F>
Result<T> tx_value(service::Db& db, bool write, F&& fn) {
  std::optional<T> value;
  auto body = [&](service::Tx& tx) -> Status {
    Result<T> r = fn(tx);
    if (!r.ok()) return std::move(r).status();
    value.emplace(std::move(r).value());
    return Status();
  };
  Status st = write ? db.write(body) : db.read(body);
  if (!st.ok()) return st;
  return std::move(*value);
}

template <class T, class F>
Result<T> read_value(service::Db& db, F&& fn) { return tx_value<T>(db, false, std::forward<F>(fn)); }
template <class T, class F>
Result<T> write_value(service::Db& db, F&& fn) { return tx_value<T>(db, true, std::forward<F>(fn)); }

}  // namespace chiron::store
