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
#include <string>
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
  std::string file;                 ///< where it was defined (for errors)
  int line = 0;
};

struct Constraint {
  std::string text;
  std::shared_ptr<const Expr> expr;
  std::string file;
  int line = 0;
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
  /// Adds another space's parameters and constraints; fails on duplicate names.
  util::Status merge(const Space& other);
  /// Re-checks cross references (when: / constraints naming unknown parameters,
  /// cycles). Called by load_file/from_yaml and after merge.
  util::Status finalize();

  const std::vector<Parameter>& parameters() const { return params_; }
  const std::vector<Constraint>& constraints() const { return constraints_; }
  const Parameter* find(const std::string& name) const;
  std::size_t size() const { return params_.size(); }

  /// Whether a parameter is active given the other values (its `when:`).
  bool is_active(const Parameter& p, const Assignment& a) const;
  /// Type/range/activity/constraint check of a full assignment: every active
  /// parameter present, no inactive one present, all constraints hold.
  util::Status validate(const Assignment& a) const;
  /// Defaults of the active parameters.
  Assignment defaults() const;
  /// A uniformly random valid assignment (log scale respected; rejection
  /// sampling for constraints; Error if none found in many tries).
  util::Result<Assignment> sample(std::mt19937_64& rng) const;

  std::vector<EncodedDim> encoding() const;
  std::vector<double> encode(const Assignment& a) const;
  /// Rounds integers, clamps to range, drops inactive parameters.
  Assignment decode(const std::vector<double>& x) const;

  /// Parses a JSON object (name → value) into an assignment (types checked).
  util::Result<Assignment> from_json(const nlohmann::json& j) const;

 private:
  std::vector<Parameter> params_;
  std::vector<Constraint> constraints_;
};

}  // namespace kerntune::space
