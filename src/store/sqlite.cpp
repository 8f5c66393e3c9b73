#include "sqlite.hpp"

#include <fmt/format.h>

#include <limits>
#include <utility>

namespace kerntune::store::detail {

std::string db_path(sqlite3* db) {
  const char* name = db ? sqlite3_db_filename(db, "main") : nullptr;
  return name && *name ? std::string(name) : std::string("(database)");
}

util::Error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  std::string text = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string generic = sqlite3_errstr(rc);
  if (text != generic) text = fmt::format("{} ({})", text, generic);
  // SQLITE_BUSY: another connection held the lock past the busy timeout, a
  // deadline (the caller may retry); anything else is an I/O failure.
  const auto kind = (rc & 0xff) == SQLITE_BUSY ? util::Error::Kind::timeout : util::Error::Kind::io;
  return util::Error{kind, fmt::format("{}: {}: {}", db_path(db), what, text), {}, 0, 0};
}

util::Status exec(sqlite3* db, const char* sql, std::string_view what) {
  char* message = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
  sqlite3_free(message);  // sqlite3_errmsg(db) still holds the text
  if (rc != SQLITE_OK) return std::unexpected(sqlite_error(db, rc, what));
  return {};
}

util::Result<Statement> Statement::prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sql.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw std::length_error("SQL text too long");
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return std::unexpected(sqlite_error(db, rc, fmt::format("preparing '{}'", sql.substr(0, 60))));
  }
  return Statement(db, stmt, std::string(sql));
}

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      sql_(std::move(other.sql_)),
      bind_rc_(other.bind_rc_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
    sql_ = std::move(other.sql_);
    bind_rc_ = other.bind_rc_;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::note_bind(int rc) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

Statement& Statement::bind(int index, std::int64_t value) {
  note_bind(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::bind(int index, double value) {
  note_bind(sqlite3_bind_double(stmt_, index, value));
  return *this;
}

Statement& Statement::bind_text(int index, std::string_view value) {
  note_bind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view value) {
  // A zero-length blob must still be a blob, not NULL: pass a non-null pointer.
  static const char empty = 0;
  note_bind(sqlite3_bind_blob64(stmt_, index, value.empty() ? &empty : value.data(), value.size(),
                                SQLITE_TRANSIENT));
  return *this;
}

util::Result<bool> Statement::step() {
  if (bind_rc_ != SQLITE_OK)
    return std::unexpected(sqlite_error(db_, bind_rc_, fmt::format("binding '{}'", sql_.substr(0, 60))));
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return std::unexpected(sqlite_error(db_, rc, fmt::format("running '{}'", sql_.substr(0, 60))));
}

util::Status Statement::run() {
  while (true) {
    KT_TRY(bool row, step());
    if (!row) return {};
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
}

std::int64_t Statement::column_int64(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::column_double(int column) const { return sqlite3_column_double(stmt_, column); }
bool Statement::column_is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::string Statement::column_text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size)) : std::string();
}

std::string Statement::column_blob(int column) const {
  const void* blob = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  return blob ? std::string(static_cast<const char*>(blob), static_cast<std::size_t>(size)) : std::string();
}

util::Result<Transaction> Transaction::begin(sqlite3* db, Mode mode) {
  const char* sql = mode == Mode::write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED";
  KT_TRY_STATUS(exec(db, sql, mode == Mode::write ? "starting a write transaction" : "starting a read transaction"));
  return Transaction(db);
}

Transaction::~Transaction() {
  if (db_ && !sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

util::Status Transaction::commit() {
  KT_TRY_STATUS(exec(db_, "COMMIT", "committing"));
  db_ = nullptr;
  return {};
}

util::Result<std::int64_t> query_int(sqlite3* db, const char* sql) {
  KT_TRY(auto stmt, Statement::prepare(db, sql));
  KT_TRY(bool row, stmt.step());
  if (!row) return util::io_error(fmt::format("{}: '{}' returned no row", db_path(db), sql));
  return stmt.column_int64(0);
}

}  // namespace kerntune::store::detail
