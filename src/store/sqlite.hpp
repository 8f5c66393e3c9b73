#pragma once
// Thin RAII layer over the SQLite C API, private to the store module.
// Every failure becomes a util::Error of kind io whose message names the
// database file, what was being done and SQLite's own error text.
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "kerntune/util/result.hpp"

namespace kerntune::store::detail {

/// Error kind io: "PATH: WHAT: sqlite message (extended code name)".
util::Error sqlite_error(sqlite3* db, int rc, std::string_view what);

/// Runs one or more statements that return no rows we need.
util::Status exec(sqlite3* db, const char* sql, std::string_view what);

/// A prepared statement. bind_* calls remember the first failure, which the
/// next step() reports, so call sites read as one chain.
class Statement {
 public:
  static util::Result<Statement> prepare(sqlite3* db, std::string_view sql);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  /// Parameters are 1-based, as in SQLite.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, double value);
  Statement& bind_text(int index, std::string_view value);
  Statement& bind_blob(int index, std::string_view value);

  /// true: a row is available; false: done. Errors (including SQLITE_BUSY
  /// after the busy timeout and SQLITE_FULL) come back as kind io.
  util::Result<bool> step();
  /// Steps to completion, ignoring rows.
  util::Status run();
  /// Ready to bind and step again (bindings cleared).
  void reset();

  std::int64_t column_int64(int column) const;
  double column_double(int column) const;
  std::string column_text(int column) const;
  std::string column_blob(int column) const;
  bool column_is_null(int column) const;

 private:
  Statement(sqlite3* db, sqlite3_stmt* stmt, std::string sql) : db_(db), stmt_(stmt), sql_(std::move(sql)) {}
  void note_bind(int rc);
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
  int bind_rc_ = SQLITE_OK;
};

/// BEGIN IMMEDIATE (take the write lock now, so a busy database fails at
/// begin rather than halfway) or a deferred read transaction. Rolls back in
/// the destructor unless commit() succeeded.
class Transaction {
 public:
  enum class Mode { read, write };
  static util::Result<Transaction> begin(sqlite3* db, Mode mode);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();
  util::Status commit();

 private:
  explicit Transaction(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

/// Single integer result of a query such as "PRAGMA user_version".
util::Result<std::int64_t> query_int(sqlite3* db, const char* sql);

/// The file name the connection has open ("main" database).
std::string db_path(sqlite3* db);

}  // namespace kerntune::store::detail
