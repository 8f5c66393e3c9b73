#pragma once
// The search space: parameters of five domains and five types, conditions
// (`when:`) and constraints, YAML loading with located errors, sampling, and
// the encoding that optimizers see (vectors and categories, no kernel names).
// Format reference: docs/search-spaces.md.
#include <yaml-cpp/yaml.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "kerntune/util/result.hpp"

namespace kerntune::space {

enum class Domain { kconfig, cmdline, sysctl, sysfs, generic };
enum class Type { boolean, tristate, integer, real, choice };

/// bool → bool, int → long long, real → double, tristate ("n"/"m"/"y") and choice → string.
using Value = std::variant<bool, long long, double, std::string>;
/// Parameter name → value; holds only *active* parameters.
using Assignment = std::map<std::string, Value>;

std::string to_string(Domain d);
std::string to_string(Type t);
/// Human/kernel text of a value: true/false, 42, 0.5, "y", "full".
std::string to_string(const Value& v);
nlohmann::json to_json(const Value& v);
nlohmann::json to_json(const Assignment& a);

class Expr;  // parsed condition/constraint expression (expr.hpp)

struct Parameter {
  std::string name;
  Domain domain = Domain::generic;
  Type type = Type::real;
  double lo = 0, hi = 1;            ///< int/real range (inclusive)
  bool log_scale = false;
  std::vector<std::string> values;  ///< choice values; tristate: {"n","m","y"}
  Value default_value;
  std::string when_text;            ///< empty: always active
  std::shared_ptr<const Expr> when;
  std::string description;
  /// Int/real: the documented safe values (`safe_range:`, docs/search-spaces.md
  /// "Safe ranges"). `range` lies inside it unless `unsafe_allowed`; a value
  /// outside it trades away safety (export refuses it without --allow-unsafe).
  std::optional<std::pair<double, double>> safe_range;
  bool unsafe_allowed = false;      ///< a recipe override acknowledged a range beyond safe_range
  std::string file;                 ///< where it was defined (for errors)
  int line = 0;
  int column = 0;
  int when_line = 0;                ///< where when_text starts (for located expression errors)
  int when_column = 0;
};

struct Constraint {
  std::string text;
  std::shared_ptr<const Expr> expr;
  std::string file;
  int line = 0;
  int column = 0;                   ///< where text starts
};

/// How one parameter appears to an optimizer. Points are std::vector<double>,
/// one coordinate per parameter in space order: continuous/integer in [0,1]
/// (log-scaled where the space says so), categorical as the index 0..k-1
/// (bool: false=0,true=1; tristate n=0,m=1,y=2), NaN when inactive.
struct EncodedDim {
  enum class Kind { continuous, integer, categorical };
  Kind kind = Kind::continuous;
  long long levels = 0;  ///< integer: number of distinct values (hi-lo+1)
  int categories = 0;    ///< categorical: number of categories
};

class Space {
 public:
  /// A search-space file: a YAML mapping with `parameters:` (a list) and
  /// optional `constraints:` (a list of strings), or a bare list of parameters.
  static util::Result<Space> load_file(const std::string& path);
  /// Parameters from a YAML list (inline `parameters:` in a recipe) plus optional constraints.
  static util::Result<Space> from_yaml(const YAML::Node& parameters, const YAML::Node& constraints,
                                       const std::string& file);
  /// Same as load_file for text in memory; `name` is used as the file in errors.
  static util::Result<Space> load_string(const std::string& text, const std::string& name);
  /// A space from parameters built in code (their when/constraint expressions
  /// are parsed from when_text / text); runs finalize().
  static util::Result<Space> make(std::vector<Parameter> params, std::vector<Constraint> constraints = {});
  /// Appends constraints (a YAML list of strings, e.g. a recipe's `constraints:`
  /// naming parameters of merged search-space files) and re-finalizes.
  util::Status add_constraints(const YAML::Node& constraints, const std::string& file);
  /// A recipe's `override:` entry for parameter `name` (node: its mapping of
  /// range / default / safe_range / allow_unsafe) applied in place and
  /// re-finalized; errors are located in `file`. A range or safe_range that
  /// leaves the shipped safe_range needs `allow_unsafe: true`. On failure the
  /// space is unchanged.
  util::Status apply_override(const YAML::Node& name, const YAML::Node& node, const std::string& file);
  /// Adds another space's parameters and constraints; fails on duplicate
  /// names. On any failure (here and in add_constraints) the space is unchanged.
  util::Status merge(const Space& other);
  /// Re-checks cross references (when: / constraints naming unknown parameters,
  /// cycles). Called by load_file/from_yaml and after merge.
  util::Status finalize();

  const std::vector<Parameter>& parameters() const { return params_; }
  const std::vector<Constraint>& constraints() const { return constraints_; }
  const Parameter* find(const std::string& name) const;
  std::size_t size() const { return params_.size(); }

  /// Whether a parameter is active given the other values (its `when:`).
  /// Conditions chain: a `when:` naming an inactive parameter sees it undefined.
  bool is_active(const Parameter& p, const Assignment& a) const;
  /// is_active for every parameter at once (space order); values absent from
  /// `a` count as undefined.
  std::vector<bool> active_mask(const Assignment& a) const;
  /// Type/range/activity/constraint check of a full assignment: every active
  /// parameter present, no inactive one present, all constraints hold (a
  /// constraint naming an inactive parameter does not apply). A constraint
  /// failure's message starts with "constraint ".
  util::Status validate(const Assignment& a) const;
  /// Defaults of the active parameters.
  Assignment defaults() const;
  /// A uniformly random valid assignment (log scale respected; rejection
  /// sampling for constraints; a located Error after 10000 rejected draws).
  /// Deterministic for a given rng state on every platform.
  util::Result<Assignment> sample(std::mt19937_64& rng) const;

  /// One EncodedDim per parameter, in space order (docs/search-spaces.md, "Encoding").
  std::vector<EncodedDim> encoding() const;
  /// Real: (v-lo)/(hi-lo), over log v with log scale. Int: centre of v's bin
  /// among hi-lo+1 equal bins of [0,1] (equal in log space with log scale).
  /// Categorical: index. Inactive or absent: NaN. Throws std::invalid_argument
  /// for a value of the wrong type (a programming error).
  std::vector<double> encode(const Assignment& a) const;
  /// Clamps to [0,1], snaps integers to their bin, rounds/clamps categorical
  /// indices, fills NaN of an active parameter with its default, drops
  /// inactive parameters. decode(encode(a)) == a for a valid assignment, and
  /// encode(decode(x)) is the canonical ("repaired") form of x. Constraints
  /// are not checked (use validate). Throws std::invalid_argument when
  /// x.size() != size().
  Assignment decode(const std::vector<double>& x) const;

  /// Parses a JSON object (name → value) into an assignment (types and
  /// ranges checked per value; call validate() for activity and constraints).
  util::Result<Assignment> from_json(const nlohmann::json& j) const;

  /// Top-level `description:` and `kernel:` (the kernel version the file
  /// documents) of a search-space file; empty when absent.
  const std::string& description() const { return description_; }
  const std::string& kernel() const { return kernel_; }

 private:
  std::vector<Parameter> params_;
  std::vector<Constraint> constraints_;
  std::unordered_map<std::string, std::size_t> index_;  ///< name → position in params_
  std::vector<std::size_t> order_;  ///< params_ indices, every `when:` reference before its user
  std::string description_;
  std::string kernel_;

  /// Values per parameter index for expressions: the value in `a` if the
  /// parameter is active, else nullptr. `active` receives the mask.
  std::vector<const Value*> resolve(const Assignment& a, std::vector<bool>& active) const;
  util::Status check_constraints(std::span<const Value* const> values) const;
};

/// Whether `v` lies outside p's safe_range (false without one, or for non-numbers).
bool outside_safe_range(const Parameter& p, const Value& v);
/// p's safe_range as [lo, hi] (integers for int parameters), or null.
nlohmann::json safe_range_json(const Parameter& p);

/// The whole space as JSON: {"parameters": [...], "constraints": [...]} (for `space show --json`).
nlohmann::json to_json(const Space& space);

}  // namespace kerntune::space
