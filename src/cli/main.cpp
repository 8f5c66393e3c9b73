// kerntune: the command-line entry point. Parsing and output only; the work
// happens in the libraries. Exit codes (docs/cli.md): 0 ok, 1 failure,
// 2 bad input, 3 inconclusive, 130 interrupted.
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>

#include "cmd_export_gate.hpp"
#include "cmd_kconfig.hpp"
#include "cmd_report.hpp"
#include "commands.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::cli {

namespace {
int exit_code_for(util::Error::Kind kind) {
  // No default: a new kind must be given its code here and in docs/cli.md.
  switch (kind) {
    case util::Error::Kind::invalid_input: return 2;
    case util::Error::Kind::io:
    case util::Error::Kind::timeout:
    case util::Error::Kind::internal: return 1;
    case util::Error::Kind::interrupted: return 130;
  }
  return 1;
}
}  // namespace

int report_error(const util::Error& error) {
  // The message may quote a value or output from outside: printed without control sequences.
  std::fprintf(stderr, "kerntune: error: %s\n", util::printable(error.format(), true).c_str());
  return exit_code_for(error.kind);
}

std::string default_db() {
  const char* env = std::getenv("KERNTUNE_DB");
  return env && *env ? env : "kerntune.db";
}

}  // namespace kerntune::cli

int main(int argc, char** argv) {
  using namespace kerntune;
  CLI::App app{"kerntune — offline Linux kernel configuration autotuner.\n"
               "Proposes Kconfig symbols, boot parameters and sysctls, realizes them on a target\n"
               "(a command, a QEMU VM, …), measures a workload and converges with Bayesian optimization.\n"
               "Every trial is stored in SQLite; running the same command again resumes.",
               "kerntune"};
  app.set_version_flag("--version", std::string(KERNTUNE_VERSION_STRING));
  app.require_subcommand(1);
  app.fallthrough();  // -q/-v may follow the subcommand
  app.footer("Examples:\n"
             "  kerntune init --list                            the choices of a starter recipe\n"
             "  kerntune tune recipes/quickstart.yaml          run (or resume) a campaign\n"
             "  kerntune best --json                            the best trial so far\n"
             "  kerntune space check search-spaces/*.yaml       validate search-space files\n"
             "Exit codes: 0 ok, 1 failure, 2 bad input, 3 inconclusive, 130 interrupted. See docs/cli.md.");
  int exit_code = 0;
  bool quiet = false, verbose = false;
  app.add_flag("-q,--quiet", quiet, "Only errors on stderr");
  app.add_flag("-v,--verbose", verbose, "More detail on stderr");
  app.parse_complete_callback([&] {
    util::set_log_level(quiet ? util::LogLevel::warn : verbose ? util::LogLevel::debug : util::LogLevel::info);
  });

  CLI::App* space = app.add_subcommand("space", "Check, show and sample search-space files");
  space->require_subcommand(1);
  cli::add_space_commands(*space, exit_code);
  cli::add_kconfig_commands(*space, exit_code);
  cli::add_init_commands(app, exit_code);
  cli::add_campaign_commands(app, exit_code);
  cli::add_export_commands(app, exit_code);
  cli::add_gate_commands(app, exit_code);
  cli::add_report_commands(app, exit_code);
  cli::add_dashboard_commands(app, exit_code);
  // @@MORE-COMMANDS@@

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  } catch (const std::exception& e) {
    // A bug, not bad input: still no abort, and every scope guard (temporary
    // folders, the campaign's status) has run by now.
    std::fprintf(stderr, "kerntune: internal error: %s\n", util::printable(e.what()).c_str());
    return 1;
  }
  return exit_code;
}
