#pragma once
// export, verify (cmd_export.cpp) and gate (cmd_gate.cpp).
#include <CLI/CLI.hpp>

#include <string>

#include "kerntune/util/result.hpp"

namespace kerntune::cli {

void add_export_commands(CLI::App& app, int& exit_code);  // export, verify
void add_gate_commands(CLI::App& app, int& exit_code);    // gate

/// "2%" → 0.02, "0.5%" → 0.005, "0.02" → 0.02; invalid_input outside [0, 1).
util::Result<double> parse_fraction(const std::string& text);

}  // namespace kerntune::cli
