#pragma once
// Result<T>: either a value or an error Status (g++ 12 has no std::expected).
// Accessing value() of an error aborts with the status (a broken invariant).
// Thread-compatible.

#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "common/check.h"
#include "common/status.h"

namespace chiron {

template <class T>
class Result;

namespace detail {
template <class U>
inline constexpr bool kIsResult = false;
template <class U>
inline constexpr bool kIsResult<Result<U>> = true;
}  // namespace detail

template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::decay_t<T>, Status>, "Result<Status> makes no sense");

 public:
  Result(const T& value) : v_(value) {}  // NOLINT: implicit by design
  Result(T&& value) : v_(std::move(value)) {}  // NOLINT
  template <class U, class = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                              !std::is_same_v<std::decay_t<U>, Status> &&
                                              !detail::kIsResult<std::decay_t<U>>>>
  Result(U&& value) : v_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    CHIRON_CHECK(!std::get<1>(v_).ok(), "Result constructed from an OK status");
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  const Status& status() const& {
    static const Status kOk;
    return ok() ? kOk : std::get<1>(v_);
  }
  Status status() && { return ok() ? Status() : std::move(std::get<1>(v_)); }

  T& value() & { check_ok(); return std::get<0>(v_); }
  const T& value() const& { check_ok(); return std::get<0>(v_); }
  T&& value() && { check_ok(); return std::move(std::get<0>(v_)); }
  T value_or(T fallback) const& { return ok() ? std::get<0>(v_) : std::move(fallback); }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  // Prepends "what: " to the error message; a value passes through.
  Result context(std::string_view what) && {
    if (!ok()) return Result(std::get<1>(std::move(v_)).context(what));
    return std::move(*this);
  }

 private:
  void check_ok() const {
    if (!ok()) ::chiron::detail::check_failed(__FILE__, __LINE__, "Result::value() on error",
                                              std::get<1>(v_).to_string());
  }
  std::variant<T, Status> v_;
};

template <class T>
const Status& internal_status_of(const Result<T>& r) { return r.status(); }

}  // namespace chiron

#define CHIRON_CONCAT_INNER_(a, b) a##b
#define CHIRON_CONCAT_(a, b) CHIRON_CONCAT_INNER_(a, b)
// CHIRON_ASSIGN_OR_RETURN(auto x, make_x()); returns the error status from the enclosing function.
#define CHIRON_ASSIGN_OR_RETURN(lhs, expr) \
  CHIRON_ASSIGN_OR_RETURN_IMPL_(CHIRON_CONCAT_(chiron_res_, __LINE__), lhs, expr)
#define CHIRON_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).status();      \
  lhs = std::move(tmp).value()
