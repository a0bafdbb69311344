#pragma once
// Status: the outcome of an operation that can fail in an expected way.
// An OK status holds no allocation; an error holds a code and a message to
// which callers prepend context on the way up ("rtmp handshake: bad version").
// Thread-compatible: distinct objects may be used from distinct threads.

#include <memory>
#include <string>
#include <string_view>

namespace chiron {

enum class StatusCode : unsigned char {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kUnauthenticated,
  kResourceExhausted,
  kFailedPrecondition,
  kAborted,
  kOutOfRange,
  kUnimplemented,
  kInternal,
  kUnavailable,
  kIoError,
  kCancelled,
  kDeadlineExceeded,
};

// Stable lower-case name, used in logs and JSON error bodies ("not_found").
std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status invalid_argument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status not_found(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status already_exists(std::string msg) { return {StatusCode::kAlreadyExists, std::move(msg)}; }
  static Status permission_denied(std::string msg) { return {StatusCode::kPermissionDenied, std::move(msg)}; }
  static Status unauthenticated(std::string msg) { return {StatusCode::kUnauthenticated, std::move(msg)}; }
  static Status resource_exhausted(std::string msg) { return {StatusCode::kResourceExhausted, std::move(msg)}; }
  static Status failed_precondition(std::string msg) { return {StatusCode::kFailedPrecondition, std::move(msg)}; }
  static Status aborted(std::string msg) { return {StatusCode::kAborted, std::move(msg)}; }
  static Status out_of_range(std::string msg) { return {StatusCode::kOutOfRange, std::move(msg)}; }
  static Status unimplemented(std::string msg) { return {StatusCode::kUnimplemented, std::move(msg)}; }
  static Status internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
  static Status unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status io_error(std::string msg) { return {StatusCode::kIoError, std::move(msg)}; }
  static Status cancelled(std::string msg) { return {StatusCode::kCancelled, std::move(msg)}; }
  static Status deadline_exceeded(std::string msg) { return {StatusCode::kDeadlineExceeded, std::move(msg)}; }
  // An I/O error built from errno (or an explicit errno value): "open x: No such file or directory".
  static Status from_errno(std::string_view what, int err);

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // The message without the code name; empty for OK.
  const std::string& message() const;
  // "not_found: channel alice" or "ok".
  std::string to_string() const;

  // Returns this status with "what: " prepended to the message. OK stays OK.
  Status context(std::string_view what) const&;
  Status context(std::string_view what) &&;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<Rep> rep_;
};

inline Status ok_status() { return Status(); }

}  // namespace chiron

// Evaluates expr (a Status or Result); returns its status from the enclosing function if it failed.
#define CHIRON_RETURN_IF_ERROR(expr)                     \
  do {                                                   \
    if (auto chiron_st_ = (expr); !chiron_st_.ok())      \
      return ::chiron::internal_status_of(chiron_st_);   \
  } while (0)

namespace chiron {
inline const Status& internal_status_of(const Status& s) { return s; }
}  // namespace chiron
