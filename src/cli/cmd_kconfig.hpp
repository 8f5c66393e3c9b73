#pragma once
// `kerntune space from-kconfig`: search-space YAML from a kernel tree's Kconfig
// (docs/kconfig.md). Registered on the `space` subcommand by main.cpp.
#include <CLI/CLI.hpp>

namespace kerntune::cli {

/// Adds `from-kconfig --source DIR (--symbols SYM... | --menu TITLE) [--base FILE]
/// [--arch ARCH] [--out FILE]` to `space`. Exit codes: 0 written, 2 bad input
/// (not a kernel tree, unknown symbol or menu, a Kconfig syntax error), 1 I/O.
void add_kconfig_commands(CLI::App& space, int& exit_code);

}  // namespace kerntune::cli
