// `kerntune space check|show|sample`: search-space files from the command line.
// Format reference: docs/search-spaces.md.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>

#include "commands.hpp"
#include "kerntune/space/space.hpp"
#include "kerntune/util/json.hpp"

namespace kerntune::cli {

namespace {

std::string range_text(const space::Parameter& p) {
  switch (p.type) {
    case space::Type::boolean: return "false|true";
    case space::Type::integer: return fmt::format("[{}, {}]", static_cast<long long>(p.lo), static_cast<long long>(p.hi));
    case space::Type::real: return fmt::format("[{}, {}]", p.lo, p.hi);
    default: return fmt::format("{}", fmt::join(p.values, "|"));
  }
}

/// The readable table of `space show`.
void print_table(const std::string& file, const space::Space& s) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"NAME", "DOMAIN", "TYPE", "RANGE/VALUES", "SCALE", "DEFAULT", "WHEN"});
  for (const auto& p : s.parameters()) {
    const bool numeric = p.type == space::Type::integer || p.type == space::Type::real;
    rows.push_back({p.name, space::to_string(p.domain), space::to_string(p.type), range_text(p),
                    numeric ? (p.log_scale ? "log" : "linear") : "-", space::to_string(p.default_value),
                    p.when_text.empty() ? "-" : p.when_text});
  }
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& r : rows)
    for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  std::string out = fmt::format("{}: {} parameters, {} constraints\n", file, s.size(), s.constraints().size());
  if (!s.description().empty()) out += s.description() + "\n";
  if (!s.kernel().empty()) out += fmt::format("kernel: {}\n", s.kernel());
  out += "\n";
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t c = 0; c < r.size(); ++c)
      line += c + 1 == r.size() ? r[c] : fmt::format("{:<{}}  ", r[c], width[c]);
    out += line + "\n";
  }
  if (!s.constraints().empty()) {
    out += "\nconstraints:\n";
    for (const auto& c : s.constraints()) out += fmt::format("  {}\n", c.text);
  }
  std::fputs(out.c_str(), stdout);
}

}  // namespace

void add_space_commands(CLI::App& space_cmd, int& exit_code) {
  // check
  struct CheckArgs {
    std::vector<std::string> files;
    bool json = false;
  };
  auto check_args = std::make_shared<CheckArgs>();
  CLI::App* check = space_cmd.add_subcommand("check", "Validate search-space files (exit 2 on the first fault of any file)");
  check->add_option("FILE", check_args->files, "Search-space YAML files")->required();
  check->add_flag("--json", check_args->json,
                  "Print a JSON list, one {file, ok, parameters, constraints | error: {file, line, column, message}} per file");
  check->footer(
      "Example:\n"
      "  kerntune space check search-spaces/*.yaml\n"
      "  search-spaces/example-generic.yaml: ok (7 parameters, 1 constraints)\n"
      "  kerntune space check --json search-spaces/*.yaml\n"
      "A fault prints FILE:LINE:COL: message on stderr and exits with code 2 (with --json it is\n"
      "also in the file's entry); the other files are still checked. A file that exists but\n"
      "cannot be read exits with code 1 (docs/cli.md, \"Exit codes\").");
  check->callback([check_args, &exit_code] {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& file : check_args->files) {
      auto s = space::Space::load_file(file);
      if (!s) {
        int code = report_error(s.error());
        if (exit_code == 0) exit_code = code;
        const util::Error& e = s.error();
        out.push_back({{"file", file}, {"ok", false},
                       {"error", {{"file", e.file}, {"line", e.line}, {"column", e.column}, {"message", e.message}}}});
        continue;
      }
      if (check_args->json)
        out.push_back({{"file", file}, {"ok", true}, {"parameters", s->size()}, {"constraints", s->constraints().size()}});
      else
        std::printf("%s: ok (%zu parameters, %zu constraints)\n", file.c_str(), s->size(), s->constraints().size());
    }
    if (check_args->json) std::printf("%s\n", util::dump_json(out, 2).c_str());
    std::fflush(stdout);
  });

  // show
  struct ShowArgs {
    std::string file;
    bool json = false;
  };
  auto show_args = std::make_shared<ShowArgs>();
  CLI::App* show = space_cmd.add_subcommand("show", "Print a search space as a table (or JSON)");
  show->add_option("FILE", show_args->file, "Search-space YAML file")->required();
  show->add_flag("--json", show_args->json, "Print JSON: {\"parameters\": [...], \"constraints\": [...]}");
  show->footer(
      "Example:\n"
      "  kerntune space show search-spaces/example-generic.yaml\n"
      "  kerntune space show search-spaces/example-generic.yaml --json");
  show->callback([show_args, &exit_code] {
    auto s = space::Space::load_file(show_args->file);
    if (!s) {
      exit_code = report_error(s.error());
      return;
    }
    if (show_args->json) std::printf("%s\n", util::dump_json(space::to_json(*s), 2).c_str());
    else print_table(show_args->file, *s);
    std::fflush(stdout);
  });

  // sample
  struct SampleArgs {
    std::string file;
    int count = 10;
    std::uint64_t seed = 0;
    bool json = false;
  };
  auto sample_args = std::make_shared<SampleArgs>();
  CLI::App* sample = space_cmd.add_subcommand("sample", "Draw random valid assignments (conditions and constraints respected)");
  sample->add_option("FILE", sample_args->file, "Search-space YAML file")->required();
  sample->add_option("-n,--count", sample_args->count, "Number of assignments")->check(CLI::NonNegativeNumber)->capture_default_str();
  sample->add_option("--seed", sample_args->seed, "Random seed (same seed, same assignments)")->capture_default_str();
  sample->add_flag("--json", sample_args->json, "Print a JSON list of assignments (inactive parameters omitted)");
  sample->footer(
      "Example:\n"
      "  kerntune space sample search-spaces/example-generic.yaml -n 3 --seed 1 --json\n"
      "Without --json: one assignment per line, name=value separated by spaces.");
  sample->callback([sample_args, &exit_code] {
    auto s = space::Space::load_file(sample_args->file);
    if (!s) {
      exit_code = report_error(s.error());
      return;
    }
    std::mt19937_64 rng(sample_args->seed);
    nlohmann::json list = nlohmann::json::array();
    std::string lines;
    for (int i = 0; i < sample_args->count; ++i) {
      auto a = s->sample(rng);
      if (!a) {
        exit_code = report_error(a.error());
        return;
      }
      if (sample_args->json) {
        list.push_back(space::to_json(*a));
      } else {
        std::vector<std::string> parts;
        for (const auto& p : s->parameters())  // space order, inactive ones omitted
          if (auto it = a->find(p.name); it != a->end())
            parts.push_back(fmt::format("{}={}", p.name, space::to_string(it->second)));
        lines += fmt::format("{}\n", fmt::join(parts, " "));
      }
    }
    if (sample_args->json) std::printf("%s\n", util::dump_json(list, 2).c_str());
    else std::fputs(lines.c_str(), stdout);
    std::fflush(stdout);
  });
}

}  // namespace kerntune::cli
