#pragma once
// Each command family lives in its own cmd_*.cpp and registers its
// subcommands on the CLI11 app. A callback stores its exit code in
// `exit_code` (0 ok, 1 failure/regression, 2 bad input, 3 inconclusive;
// see docs/cli.md). Logs go to stderr, data to stdout.
#include <CLI/CLI.hpp>

#include "kerntune/util/result.hpp"

namespace kerntune::cli {

/// Prints "kerntune: error: FILE:LINE:COL: message" to stderr and returns the
/// exit code for it (2 for invalid input, 1 otherwise, 130 when interrupted).
int report_error(const util::Error& error);

/// The --db default of every command: $KERNTUNE_DB, else ./kerntune.db.
std::string default_db();

void add_space_commands(CLI::App& space, int& exit_code);    // cmd_space.cpp: check, show, sample
void add_campaign_commands(CLI::App& app, int& exit_code);   // cmd_campaign.cpp: tune, trials, best
void add_init_commands(CLI::App& app, int& exit_code);       // cmd_init.cpp: init
void add_dashboard_commands(CLI::App& app, int& exit_code);  // cmd_dashboard.cpp: dashboard

}  // namespace kerntune::cli
