// dashboard: the read-only web view of a store (docs/dashboard.md).
#include <fmt/format.h>

#include <iostream>

#include "commands.hpp"
#include "kerntune/dashboard/dashboard.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/stop.hpp"

namespace kerntune::cli {

void add_dashboard_commands(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<dashboard::Options>();
  o->db = default_db();
  CLI::App* cmd = app.add_subcommand("dashboard", "Serve a live, read-only web view of a store (safe while 'tune' runs)");
  cmd->add_option("--db", o->db, "SQLite database (default ./kerntune.db or $KERNTUNE_DB)");
  cmd->add_option("--campaign", o->campaign, "Campaign shown first (default: the most recent; the page can switch)");
  cmd->add_option("--bind", o->bind, "Address to listen on (default 127.0.0.1: this machine only)");
  cmd->add_option("--port", o->port, "TCP port (default 8765; 0 = any free port)")->check(CLI::Range(0, 65535));
  cmd->add_option("--poll", o->poll_ms, "Milliseconds between the page's refreshes (default 1000)")->check(CLI::Range(100, 600000));
  cmd->footer("Examples:\n"
              "  kerntune dashboard                              ./kerntune.db on http://127.0.0.1:8765/\n"
              "  kerntune dashboard --db lab.db --campaign qs-2 --port 0   any free port; the URL is printed\n"
              "  kerntune tune recipe.yaml & kerntune dashboard  follow a running campaign live\n"
              "Opens the store read-only (it cannot write it and never blocks 'tune'); the page loads nothing from\n"
              "outside the machine (Chart.js is served from the Debian package's file). Ctrl-C stops it.\n"
              "Prints the URL on stdout. Exit codes: 0 stopped by Ctrl-C, 1 cannot listen, 2 bad input\n"
              "(no such store or campaign). Guide: docs/dashboard.md.");
  cmd->callback([o, &exit_code] {
    util::install_stop_handlers();
    auto server = dashboard::Server::start(*o);
    if (!server) { exit_code = report_error(server.error()); return; }
    std::cout << (*server)->url() << std::endl;  // flushed: a script or test reads the URL from here
    util::log_info("dashboard of {} on {} (read-only; Ctrl-C stops it)", o->db, (*server)->url());
    (*server)->wait([] { return util::stop_requested(); });
    (*server)->stop();
    exit_code = 0;
  });
}

}  // namespace kerntune::cli
