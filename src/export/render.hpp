#pragma once
// Text of each bundle file from the exported parameter values (internal to
// the export module; formats described in docs/export.md).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kerntune/util/result.hpp"

namespace kerntune::bundle::detail {

struct ParamValue {
  std::string name;
  std::string domain;  ///< kconfig | cmdline | sysctl | sysfs | generic
  std::string type;    ///< bool | tristate | int | real | choice
  nlohmann::json default_value;
  nlohmann::json proposed;   ///< null when the parameter was inactive
  nlohmann::json effective;  ///< null when the target did not report it
  std::vector<std::string> choices;  ///< a choice's members (the space's `values`)
  /// The value the bundle sets: effective when reported, else proposed.
  const nlohmann::json& value() const { return effective.is_null() ? proposed : effective; }
};

/// A value as sysctl/sysfs/kernel text: booleans 1/0, numbers without
/// trailing zeros, strings verbatim.
std::string value_text(const nlohmann::json& v);

/// Why a parameter cannot be written into a line-based file (its name or the
/// value it sets breaks its domain's rule, space/destination.hpp), or "" when
/// it can. Every writer below refuses such a parameter again on its own: a
/// value never becomes a second line, section or boot parameter.
std::string unsafe_reason(const ParamValue& p, bool use_default);
/// Text for a `# …` comment line: control characters escaped (util::printable).
std::string comment_text(std::string_view text);

// Each writer fails (invalid_input, naming the parameter) on a parameter
// with an unsafe_reason.

/// `key = value` lines of the sysctl-domain parameters (`use_default`: the
/// baseline values, for rollback/). Empty when there is none.
util::Result<std::string> sysctl_conf(const std::vector<ParamValue>& params, bool use_default, const std::string& header);
/// sysfsutils format (/etc/sysfs.d/*.conf): `path/under/sys = value`.
util::Result<std::string> sysfs_conf(const std::vector<ParamValue>& params, bool use_default, const std::string& header);
/// The cmdline-domain words: a true bool is the bare word, a false bool is
/// left out, anything else is name=value (as campaign::realize renders it).
util::Result<std::string> cmdline_words(const std::vector<ParamValue>& params, bool use_default);
/// /etc/default/grub.d/90-kerntune.cfg: appends the words to
/// GRUB_CMDLINE_LINUX_DEFAULT (sh double-quote escaping).
util::Result<std::string> grub_cfg(const std::string& words, const std::string& header);
/// merge_config.sh fragment of the kconfig-domain parameters: CONFIG_X=y/m,
/// "# CONFIG_X is not set", numbers, quoted strings; a choice value names
/// the member symbol to set, and its other listed members are written as not
/// set (so the choice reads the same whichever member the base config had).
util::Result<std::string> kconfig_fragment(const std::vector<ParamValue>& params, bool use_default, const std::string& header);
/// TuneD profile: [main] summary=, [sysctl], [sysfs] (/sys/… paths),
/// [bootloader] cmdline=.
util::Result<std::string> tuned_conf(const std::vector<ParamValue>& params, const std::string& summary);

}  // namespace kerntune::bundle::detail
