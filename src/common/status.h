// Status and Result<T>: error values returned across module boundaries instead of exceptions.
//
// A Status is either OK or carries a Code and a human-readable message that says what went
// wrong and where (e.g. "quote: truncated at offset 1012: need 2 bytes, have 0"). Result<T>
// holds either a T or a non-OK Status. Both are plain values: const use from many threads is
// safe, as for any std type.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace confcom {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,   // the caller's input is malformed or out of range
    kNotFound,          // a named thing does not exist
    kAlreadyExists,     // e.g. another live daemon owns the socket
    kPermissionDenied,  // file modes, access rights
    kUnavailable,       // a peer or service is not reachable
    kDeadlineExceeded,  // an I/O deadline passed
    kCorruption,        // stored or received data is inconsistent
    kIoError,           // a system call failed
    kUnsupported,       // a valid request we do not implement
    kInternal,          // a bug or a library failure we cannot attribute
  };

  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) { return {Code::kDeadlineExceeded, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status IoError(std::string m) { return {Code::kIoError, std::move(m)}; }
  static Status Unsupported(std::string m) { return {Code::kUnsupported, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
  // An IoError whose message ends with strerror(err).
  static Status FromErrno(std::string_view what, int err);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<code name>: <message>", or "OK".
  std::string ToString() const;
  // Returns a copy whose message is "<context>: <message>".
  Status WithContext(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// "InvalidArgument", "NotFound", …; pure.
const char* CodeName(Status::Code code);

// Holds a T or an error E (by default a non-OK Status). E must have `bool ok() const`.
template <typename T, typename E = Status>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(E error) : v_(std::move(error)) { assert(!std::get<E>(v_).ok()); }  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  // The error; a default-constructed (OK) E when ok().
  const E& status() const {
    static const E kOk{};
    return ok() ? kOk : std::get<E>(v_);
  }
  const E& error() const { return status(); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, E> v_;
};

}  // namespace confcom

// Early-return helpers, in the leveldb/absl style.
#define CONFCOM_RETURN_IF_ERROR(expr) \
  do {                                \
    ::confcom::Status _st = (expr);   \
    if (!_st.ok()) return _st;        \
  } while (0)

#define CONFCOM_CONCAT_INNER(a, b) a##b
#define CONFCOM_CONCAT(a, b) CONFCOM_CONCAT_INNER(a, b)
#define CONFCOM_ASSIGN_OR_RETURN(lhs, expr) \
  CONFCOM_ASSIGN_OR_RETURN_IMPL(CONFCOM_CONCAT(_res_, __LINE__), lhs, expr)
#define CONFCOM_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
