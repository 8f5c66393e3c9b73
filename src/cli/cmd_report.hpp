#pragma once
// report, status, show trial: reading a campaign as a person would
// (docs/report.md, docs/cli.md).
#include <CLI/CLI.hpp>

namespace kerntune::cli {

/// Registers `report`, `status` and `show trial N` on the app.
void add_report_commands(CLI::App& app, int& exit_code);

}  // namespace kerntune::cli
