// Status and Result<T>: the one error model of lambdaflow. Every fallible
// operation in storage, ingest, SQL and plans returns one of these; the CLI
// and HTTP edges turn them into exit codes and HTTP statuses.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace lf {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,  // the caller's input is wrong (bad SQL, bad flag, bad row)
  kNotFound,
  kCorruption,  // stored data fails a check
  kIOError,     // the operating system said no
  kOutOfRange,  // arithmetic overflow, value out of a type's range
  kUnimplemented,
  kInternal,
  kUnavailable,        // temporarily unable (e.g. the log cannot take writes); retry later
  kConflict,           // the request contradicts the stored state (e.g. an out-of-order producer sequence number)
  kAlreadyExists,      // a create-if-absent write found the name taken (someone else wrote first)
  kFenced,             // a newer owner epoch exists: this writer must stop writing for the resource
  kDeadlineExceeded,   // the work ran past its time budget (e.g. a query's)
  kResourceExhausted,  // the work needs more than its budget allows (e.g. a query's memory)
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status IOError(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
  static Status OutOfRange(std::string msg) { return {StatusCode::kOutOfRange, std::move(msg)}; }
  static Status Unimplemented(std::string msg) { return {StatusCode::kUnimplemented, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status Conflict(std::string msg) { return {StatusCode::kConflict, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {StatusCode::kAlreadyExists, std::move(msg)}; }
  static Status Fenced(std::string msg) { return {StatusCode::kFenced, std::move(msg)}; }
  static Status DeadlineExceeded(std::string msg) { return {StatusCode::kDeadlineExceeded, std::move(msg)}; }
  static Status ResourceExhausted(std::string msg) { return {StatusCode::kResourceExhausted, std::move(msg)}; }
  // Translates errno into an IOError that names what was being done.
  static Status FromErrno(int err, std::string_view context);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "IOError: open foo: No such file or directory"; "OK" when ok.
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace lf

#define LF_CONCAT_INNER(a, b) a##b
#define LF_CONCAT(a, b) LF_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)        \
  do {                               \
    ::lf::Status _lf_st = (expr);    \
    if (!_lf_st.ok()) return _lf_st; \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

// ASSIGN_OR_RETURN(auto x, Foo());
#define ASSIGN_OR_RETURN(lhs, expr) ASSIGN_OR_RETURN_IMPL(LF_CONCAT(_lf_res_, __LINE__), lhs, expr)

// Always-on invariant check for storage and engine invariants.
#define CHECK(cond, msg)                                                      \
  do {                                                                        \
    if (!(cond)) ::lf::internal::CheckFailed(#cond, msg, __FILE__, __LINE__); \
  } while (0)

namespace lf::internal {
[[noreturn]] void CheckFailed(const char* cond, const char* msg, const char* file, int line);
}
