#pragma once
// Result<T>: the return type of every operation that can fail for reasons
// outside the program (bad input, I/O, a process that will not start).
// Programming errors throw; a trial that fails is an outcome value, not an Error.
#include <expected>
#include <string>
#include <utility>

namespace kerntune::util {

/// Why an operation failed. `file`/`line`/`column` locate the fault in user
/// input when there is one (line and column are 1-based; 0 = unknown).
struct Error {
  enum class Kind {
    invalid_input,  ///< user input is malformed: CLI exits with code 2
    io,             ///< file system / database / process infrastructure
    timeout,        ///< an operation ran out of time (callers may retry)
    interrupted,    ///< SIGINT/SIGTERM asked us to stop
    internal,       ///< a bug or an unexpected state
  };
  Kind kind = Kind::invalid_input;
  std::string message;
  std::string file;
  int line = 0;
  int column = 0;

  /// "FILE:LINE:COL: message" (parts omitted when unknown).
  std::string format() const;
};

template <class T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

// Every failure names its kind: there is no default, so each site decides.
// The CLI maps kinds to exit codes (docs/cli.md): invalid_input 2,
// interrupted 130, io/timeout/internal 1.
inline std::unexpected<Error> fail(std::string message, Error::Kind kind) {
  return std::unexpected<Error>(Error{kind, std::move(message), {}, 0, 0});
}
inline std::unexpected<Error> fail(Error e) { return std::unexpected<Error>(std::move(e)); }
/// Malformed user input (recipe, space, bundle, CLI values, file contents).
/// Use fail_at when the fault can be located in a file.
inline std::unexpected<Error> invalid_input(std::string message) {
  return fail(std::move(message), Error::Kind::invalid_input);
}
inline std::unexpected<Error> fail_at(std::string file, int line, int column, std::string message) {
  return std::unexpected<Error>(
      Error{Error::Kind::invalid_input, std::move(message), std::move(file), line, column});
}
/// Infrastructure: files, the database, subprocesses, hosts, VMs, schedulers.
inline std::unexpected<Error> io_error(std::string message) {
  return fail(std::move(message), Error::Kind::io);
}
/// A deadline passed (callers may retry).
inline std::unexpected<Error> timeout_error(std::string message) {
  return fail(std::move(message), Error::Kind::timeout);
}
/// An impossible state: a bug in kerntune.
inline std::unexpected<Error> internal_error(std::string message) {
  return fail(std::move(message), Error::Kind::internal);
}
/// A new message for a failure `cause`, keeping its kind (a wrapper must not
/// turn an I/O failure into bad input) and its location.
inline std::unexpected<Error> fail_like(const Error& cause, std::string message) {
  return std::unexpected<Error>(Error{cause.kind, std::move(message), cause.file, cause.line, cause.column});
}

}  // namespace kerntune::util

/// KT_TRY(auto x, expr): evaluate expr (a Result); on error return it upward.
#define KT_CONCAT_INNER(a, b) a##b
#define KT_CONCAT(a, b) KT_CONCAT_INNER(a, b)
#define KT_TRY(decl, expr)                                              \
  auto KT_CONCAT(kt_try_, __LINE__) = (expr);                           \
  if (!KT_CONCAT(kt_try_, __LINE__))                                    \
    return std::unexpected(std::move(KT_CONCAT(kt_try_, __LINE__).error())); \
  decl = std::move(*KT_CONCAT(kt_try_, __LINE__))
/// KT_TRY_STATUS(expr): for Status-returning expressions.
#define KT_TRY_STATUS(expr)                                             \
  do {                                                                  \
    auto kt_try_status_ = (expr);                                       \
    if (!kt_try_status_) return std::unexpected(std::move(kt_try_status_.error())); \
  } while (0)
