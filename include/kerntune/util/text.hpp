#pragma once
// Small text helpers shared by parsers and the CLI.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kerntune/util/result.hpp"

namespace kerntune::util {

/// Edit distance (Levenshtein with adjacent transpositions).
std::size_t edit_distance(std::string_view a, std::string_view b);
/// The closest candidate within a small edit distance, if any.
std::optional<std::string> closest(std::string_view word, const std::vector<std::string>& candidates);

/// Parses "90s", "5m", "1h30m", "250ms", "2.5s", or a bare number of seconds.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);
/// "1h02m", "3m05s", "12.3s".
std::string format_duration(double seconds);

std::string trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
bool starts_with(std::string_view s, std::string_view prefix);
/// True when the bytes are valid UTF-8 without NUL.
bool is_text(std::string_view bytes);

/// Reads a whole file; Kind::io on failure.
Result<std::string> read_file(const std::string& path);
/// Writes atomically (temp file + rename).
Status write_file(const std::string& path, std::string_view content);

/// Lowercase hex SHA-256 of bytes.
std::string sha256_hex(std::string_view bytes);

}  // namespace kerntune::util
