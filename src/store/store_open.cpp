// Opening a store: refuse foreign files without touching them, then migrate.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "kerntune/store/schema.hpp"
#include "kerntune/store/store.hpp"
#include "sqlite.hpp"

namespace kerntune::store {
namespace {

using util::Error;
using Kind = util::Error::Kind;

std::unexpected<Error> refuse(const std::string& path, std::string message) {
  return std::unexpected(Error{Kind::invalid_input, std::move(message), path, 0, 0});
}

// What a database holds, read without writing anything.
struct Inspection {
  std::int64_t application_id = 0;
  std::int64_t user_version = 0;
  std::vector<std::string> tables;  // user tables, sorted
  bool empty() const { return application_id == 0 && user_version == 0 && tables.empty(); }
  bool has(std::string_view table) const { return std::ranges::find(tables, table) != tables.end(); }
};

util::Result<Inspection> inspect(sqlite3* db, const std::string& path) {
  Inspection out;
  auto app = detail::query_int(db, "PRAGMA application_id");
  if (!app) {
    if (sqlite3_errcode(db) == SQLITE_NOTADB) return refuse(path, "file is not a database (not a SQLite file)");
    return std::unexpected(app.error());
  }
  out.application_id = *app;
  KT_TRY(out.user_version, detail::query_int(db, "PRAGMA user_version"));
  KT_TRY(auto stmt, detail::Statement::prepare(
                        db, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                            "ORDER BY name"));
  while (true) {
    KT_TRY(bool row, stmt.step());
    if (!row) break;
    out.tables.push_back(stmt.column_text(0));
  }
  return out;
}

// Decides from an inspection whether this is a store we can use (true), a new
// empty database we may initialise (false), or something to refuse.
util::Result<bool> classify(const Inspection& info, const std::string& path) {
  if (info.application_id == kApplicationId) {
    if (info.user_version > Store::schema_version())
      return refuse(path, fmt::format("kerntune store written by a newer kerntune (schema version {}, this "
                                      "build knows up to {}); upgrade kerntune to open it",
                                      info.user_version, Store::schema_version()));
    if (info.user_version < 1 || !info.has("kerntune_meta"))
      return refuse(path, "damaged kerntune store: it has the kerntune application_id but no kerntune_meta table");
    return true;
  }
  if (info.empty()) return false;
  std::string tables;
  for (std::size_t i = 0; i < info.tables.size() && i < 5; ++i) tables += (i ? ", " : "") + info.tables[i];
  if (info.tables.size() > 5) tables += ", …";
  return refuse(path, fmt::format("SQLite database but not a kerntune store (application_id {:#x}, "
                                  "user_version {}, tables: {}); refusing to modify it",
                                  info.application_id, info.user_version, tables.empty() ? "none" : tables));
}

// "file:PATH?immutable=1" with PATH percent-encoded (RFC 3986 unreserved
// characters and '/' pass through).
std::string immutable_uri(const std::string& path) {
  std::string out = "file:";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out + "?immutable=1";
}

// Owns a connection until handed to a Store.
struct Connection {
  sqlite3* db = nullptr;
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() { sqlite3_close_v2(db); }
  sqlite3* release() { return std::exchange(db, nullptr); }
};

util::Status connect(Connection& conn, const std::string& path, int flags, int busy_timeout_ms) {
  int rc = sqlite3_open_v2(path.c_str(), &conn.db, flags | SQLITE_OPEN_EXRESCODE, nullptr);
  if (rc != SQLITE_OK)
    return std::unexpected(Error{Kind::io, fmt::format("cannot open database: {}", conn.db ? sqlite3_errmsg(conn.db)
                                                                                           : sqlite3_errstr(rc)),
                                 path, 0, 0});
  sqlite3_busy_timeout(conn.db, busy_timeout_ms);
  return {};
}

// Applies every migration above the current user_version in one write
// transaction, re-checking what the file is under the write lock (another
// process may have created or migrated it since we looked).
util::Status migrate(sqlite3* db, const std::string& path) {
  KT_TRY(auto tx, detail::Transaction::begin(db, detail::Transaction::Mode::write));
  KT_TRY(auto info, inspect(db, path));
  KT_TRY(bool existing, classify(info, path));
  std::int64_t version = existing ? info.user_version : 0;
  if (version == Store::schema_version()) return {};  // tx rolls back: nothing was written
  for (const auto& migration : migrations()) {
    if (migration.version <= version) continue;
    KT_TRY_STATUS(detail::exec(db, migration.sql,
                               fmt::format("migrating to schema version {} ({})", migration.version,
                                           migration.description)));
  }
  KT_TRY_STATUS(detail::exec(db, fmt::format("PRAGMA user_version = {}", Store::schema_version()).c_str(),
                             "setting user_version"));
  KT_TRY_STATUS(detail::exec(db, fmt::format("PRAGMA application_id = {}", kApplicationId).c_str(),
                             "setting application_id"));
  return tx.commit();
}

}  // namespace

int Store::schema_version() { return migrations().back().version; }

int Store::user_version() const {
  auto v = detail::query_int(db_, "PRAGMA user_version");
  return v ? static_cast<int>(*v) : -1;
}

Store::Store(Store&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Store& Store::operator=(Store&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Store::~Store() { sqlite3_close_v2(db_); }

util::Result<Store> Store::open(const std::string& given, const OpenOptions& options) {
  namespace fs = std::filesystem;
  if (given.empty()) return refuse(given, "empty database path");
  std::error_code ec;
  // A --db that is a symlink is opened as the file it names (SQLite puts the
  // -wal and -shm files beside the target, so every check below must look
  // there too); a dangling link creates its target.
  std::string path = given;
  if (fs::is_symlink(fs::symlink_status(given, ec))) {
    fs::path target = fs::weakly_canonical(given, ec);
    if (ec) return std::unexpected(Error{Kind::io, fmt::format("cannot resolve the symlink: {}", ec.message()), given, 0, 0});
    path = target.string();
  }
  auto status = fs::status(path, ec);
  bool exists = fs::exists(status);
  if (exists && !fs::is_regular_file(status)) return refuse(path, "not a regular file, cannot be a kerntune store");
  std::uintmax_t size = 0;
  if (exists) size = fs::file_size(path, ec);
  if (exists && ec) return std::unexpected(Error{Kind::io, fmt::format("cannot stat: {}", ec.message()), path, 0, 0});
  if (!exists && (options.read_only || !options.create)) return refuse(path, "no such kerntune store");

  // A non-empty file must start with the SQLite header; check it ourselves so
  // a random file gets a clear message and is never handed to SQLite to write.
  if (size > 0) {
    static constexpr std::array<char, 16> kMagic{'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f',
                                                 'o', 'r', 'm', 'a', 't', ' ', '3', '\0'};
    std::array<char, 16> head{};
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::unexpected(Error{Kind::io, "cannot read file", path, 0, 0});
    in.read(head.data(), head.size());
    if (in.gcount() != static_cast<std::streamsize>(head.size()) || head != kMagic)
      return refuse(path, "file is not a database (not a SQLite file)");
  }

  // Look before writing anything. Without a live WAL beside the file, look
  // through an immutable read-only connection: it takes no locks and leaves
  // no -wal/-shm files behind, so a foreign file is left exactly as it was.
  // With a live WAL (a store some kerntune is writing right now) the header
  // may sit in the WAL, so use a normal read-only connection, which never
  // writes the database (it cannot checkpoint).
  if (size > 0) {
    std::error_code wal_ec;
    bool live_wal = fs::exists(path + "-wal", wal_ec) && fs::file_size(path + "-wal", wal_ec) > 0 && !wal_ec;
    Connection inspector;
    KT_TRY_STATUS(connect(inspector, live_wal ? path : immutable_uri(path), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                          options.busy_timeout_ms));
    KT_TRY(auto info, inspect(inspector.db, path));
    KT_TRY(bool existing, classify(info, path));
    if (options.read_only) {
      if (!existing) return refuse(path, "empty database, not a kerntune store");
      if (info.user_version < schema_version())
        return refuse(path, fmt::format("kerntune store at schema version {} needs migrating to {}; open it "
                                        "once read-write (e.g. `kerntune tune`) first",
                                        info.user_version, schema_version()));
      Connection reader;
      KT_TRY_STATUS(connect(reader, path, SQLITE_OPEN_READONLY, options.busy_timeout_ms));
      return Store(reader.release());
    }
  } else if (options.read_only) {
    return refuse(path, "empty file, not a kerntune store");
  }

  Connection writer;
  KT_TRY_STATUS(connect(writer, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, options.busy_timeout_ms));
  {
    // Two processes opening a new file at once: SQLite answers the second's
    // switch to WAL with "database is locked" at once, without calling the
    // busy handler (a lock upgrade that would deadlock). Try again until the
    // busy timeout, as the handler would have waited.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.busy_timeout_ms);
    while (true) {
      KT_TRY(auto mode, detail::Statement::prepare(writer.db, "PRAGMA journal_mode = WAL"));
      auto row = mode.step();
      if (!row) {
        if (std::chrono::steady_clock::now() < deadline) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
          continue;
        }
        return std::unexpected(row.error());
      }
      if (!*row || mode.column_text(0) != "wal")
        return std::unexpected(Error{Kind::io, "cannot switch the database to WAL mode", path, 0, 0});
      break;
    }
  }
  KT_TRY_STATUS(detail::exec(writer.db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL",
                             "setting connection pragmas"));
  KT_TRY_STATUS(migrate(writer.db, path));
  return Store(writer.release());
}

}  // namespace kerntune::store
