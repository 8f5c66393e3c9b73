#pragma once
// `kerntune dashboard`: a local, read-only web view of a kerntune store that
// follows a running campaign (docs/dashboard.md).
//
// Every request opens the store read-only (store::OpenOptions::read_only:
// SQLITE_OPEN_READONLY, the busy timeout, never a migration), reads the
// campaign through results::load_view and answers JSON built by the same
// functions `status`, `best` and `report` use (report::status,
// results::recommend, report::importance, report::front_marks). The page and
// its script are compiled in; Chart.js is read from the Debian package's file
// and served by the dashboard itself, so the browser loads nothing from
// elsewhere (a Content-Security-Policy of 'self' says so too).
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "kerntune/store/store.hpp"
#include "kerntune/util/result.hpp"

namespace kerntune::dashboard {

struct Options {
  std::string db;                        ///< the SQLite store
  std::string campaign;                  ///< shown first; empty: the most recent
  std::string bind = "127.0.0.1";        ///< address to listen on
  int port = 8765;                       ///< 0: any free port
  std::string chart_js = KERNTUNE_CHART_JS_PATH;  ///< Chart.js (libjs-chart.js)
  int poll_ms = 1000;                    ///< how often the page asks for news
  int busy_timeout_ms = 2000;            ///< SQLite busy timeout of each read
};

/// The store as every request opens it: read-only (SQLITE_OPEN_READONLY, no
/// migration, no -wal/-shm created beside a store nobody writes), with the
/// busy timeout, never creating a file.
util::Result<store::Store> open_store(const Options& options);

/// One answer. Status 200 with JSON or a page, 4xx with {"error": "..."}.
struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

/// The routes without a socket (the server calls this; tests too):
///   GET /                         the page
///   GET /app.js                   its script
///   GET /chart.js                 Chart.js from `options.chart_js`
///   GET /api/campaigns            every campaign: name, status, trials
///   GET /api/campaign/NAME        status and ETA, objectives, parameters,
///                                 recommendation and interval, Pareto marks,
///                                 importance, recent events
///   GET /api/trials?campaign=NAME&since=SEQ   trials with seq > SEQ
///   GET /api/trial?campaign=NAME&seq=N        one trial with its logs
/// `query` holds the decoded query parameters. Anything else is 404; a bad
/// parameter 400; a method other than GET or HEAD 405.
class Handler {
 public:
  explicit Handler(Options options);
  ~Handler();
  Handler(const Handler&) = delete;
  Handler& operator=(const Handler&) = delete;
  Response handle(const std::string& method, const std::string& path, const std::multimap<std::string, std::string>& query);

 private:
  struct Cache;
  Options options_;
  std::unique_ptr<Cache> cache_;
};

/// A running server (its own threads). Stopped at destruction.
class Server {
 public:
  /// Checks the store opens read-only and Chart.js is readable, binds, and
  /// starts serving. Errors: invalid_input (no store, unreadable Chart.js,
  /// a bad address), io (the port is taken).
  static util::Result<std::unique_ptr<Server>> start(const Options& options);
  ~Server();
  int port() const;
  std::string url() const;  ///< http://ADDRESS:PORT/
  void stop();
  /// Blocks until stop() or `should_stop` returns true (polled every 100 ms).
  void wait(const std::function<bool()>& should_stop);

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kerntune::dashboard
