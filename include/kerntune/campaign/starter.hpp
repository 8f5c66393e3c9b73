#pragma once
// A starter recipe: what `kerntune init` writes from a few choices — a target
// kind, a shipped workload, shipped search spaces (whole or some of their
// parameters), an objective with optional limits and a budget — plus,
// optionally, the machine's current knob values as the baseline
// (docs/cli.md, "init"). The text is made of fixed comments and scalars the
// YAML emitter quotes, so no value can add a key or a line; callers load it
// back with load_recipe before they keep it.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kerntune/space/space.hpp"
#include "kerntune/util/result.hpp"
#include "kerntune/workloads/workload.hpp"

namespace kerntune::campaign {

/// The shipped files a starter recipe can name: `ROOT/search-spaces/*.yaml`
/// and `ROOT/recipes/workloads/*.yaml`, loaded (a file that does not load is
/// an Error: the project's own files must).
struct Catalog {
  std::string root;  ///< absolute
  struct SpaceFile {
    std::string file;  ///< file name, e.g. "sysctl-vm.yaml"
    std::string path;  ///< absolute
    space::Space space;
  };
  std::vector<SpaceFile> spaces;           ///< sorted by file name
  std::vector<workloads::Workload> workloads;  ///< sorted by name

  const SpaceFile* find_space(const std::string& file) const;
  const workloads::Workload* find_workload(const std::string& name) const;
};
util::Result<Catalog> load_catalog(const std::string& root);

/// The first of `start_dirs` or their parents that holds both search-spaces/
/// and recipes/workloads/; nullopt when none does.
std::optional<std::string> find_project_root(const std::vector<std::string>& start_dirs);

/// An objective or limit entry: `{metric, direction}`, `{metric, limit}` or both.
struct ObjectiveChoice {
  std::string metric;
  std::string direction;  ///< minimize | maximize | "" (limit only)
  std::string limit;      ///< e.g. ">= 95% baseline"; "" for none
};

struct StarterChoices {
  std::string target = "qemu";  ///< qemu | ssh | command
  /// ssh: the host, as [USER@]ADDRESS[:PORT] was split.
  std::string ssh_address, ssh_user = "root";
  int ssh_port = 22;
  std::string ssh_key;  ///< private key file ("" = ssh's defaults)
  std::vector<std::string> argv;  ///< command: the program and its arguments
  std::string workload;           ///< qemu/ssh: a Catalog workload
  std::vector<std::string> spaces;  ///< Catalog file names
  /// Parameters to keep: each belongs to the chosen file(s) that define it
  /// (`only:`); a chosen file none of them belongs to is kept whole.
  std::vector<std::string> only;
  std::vector<ObjectiveChoice> objectives;  ///< the first is the objective, the rest limits
  int trials = 20;
  std::string name;  ///< "" = the file name's stem
  /// ssh `--from-target`: `baseline: target`, the host's values read at trial 0.
  bool baseline_from_target = false;
  /// Parameter → value to measure as the baseline (written as `override: {P: {default: V}}`).
  std::map<std::string, space::Value> baseline;
  std::string baseline_source;  ///< where `baseline` came from, for the comment ("this machine (host-a)")
  std::vector<std::string> baseline_notes;  ///< parameters left at their defaults, and why (comments)
};

/// Checks the choices against the catalog: a known target kind, workload,
/// space files and `only` names (each in a chosen file), metrics of the workload
/// (or sys.* for a kernel target), directions, a positive budget. Errors are
/// invalid_input and name the choice, what is allowed and the closest match.
util::Status check_choices(const StarterChoices& choices, const Catalog& catalog);

/// The recipe text for a recipe written into `recipe_dir` (absolute):
/// shipped files are named as the recipe loader finds them from there (a
/// bare name when its search finds the shipped file, else a path).
std::string render_starter_recipe(const StarterChoices& choices, const Catalog& catalog, const std::string& recipe_dir);

/// What a machine runs for the sysctl, sysfs and cmdline parameters of
/// `space`, read from `ROOT/proc/sys/…`, `ROOT/sys/…` and `ROOT/proc/cmdline`
/// (ROOT "/" on the machine itself) with the readers the targets use
/// (guest::sysctl_path, guest::sysfs_path, normalize_knob_value) and parsed
/// to each parameter's type (space::parse_reported). A boot parameter absent
/// from the command line (words after "--" are init's) runs its default (a
/// bool: false). A knob that cannot be read, does not parse, or lies outside
/// its parameter's range or values is not a value but a note naming it and
/// why. Kconfig and generic parameters are not read.
struct HostValues {
  std::map<std::string, space::Value> values;
  std::vector<std::string> notes;     ///< "NAME (why it is not a value)"
  std::vector<std::string> warnings;  ///< values kept although outside a safe_range
};
HostValues read_host_values(const space::Space& space, const std::string& root = "/");

}  // namespace kerntune::campaign
