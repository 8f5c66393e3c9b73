#pragma once
// JSON output that never throws. nlohmann::json::dump() throws (and an
// uncaught throw aborts kerntune) when a string is not well-formed UTF-8 —
// a metric name, an effective value or a log a black box printed. Every
// JSON kerntune prints or writes goes through dump_json (docs/hardening.md,
// "Bytes are data").
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace kerntune::util {

/// j.dump(indent) with every invalid UTF-8 sequence in a string or key
/// written as U+FFFD instead of throwing. Non-ASCII text stays as is.
std::string dump_json(const nlohmann::json& j, int indent = -1);

/// Deepest nesting of arrays/objects in JSON text (strings skipped), without
/// parsing it: a bound to check before nlohmann's recursive dump ever sees it.
std::size_t json_nesting(std::string_view text);

}  // namespace kerntune::util
