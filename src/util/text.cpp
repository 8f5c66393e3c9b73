#include "kerntune/util/text.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace kerntune::util {

// Optimal-string-alignment distance: Levenshtein plus adjacent transpositions
// (so "rnage" is one edit from "range", the typo people actually make).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

std::optional<std::string> closest(std::string_view word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::string s = trim(text);
  if (s.empty()) return fail("empty duration");
  double total_ms = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < s.size()) {
    std::size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (start == i) return fail(fmt::format("cannot parse duration '{}' (use e.g. 90s, 5m, 1h30m, 250ms)", s));
    double value = 0;
    auto [p, ec] = std::from_chars(s.data() + start, s.data() + i, value);
    if (ec != std::errc() || p != s.data() + i)
      return fail(fmt::format("cannot parse duration '{}' (use e.g. 90s, 5m, 1h30m, 250ms)", s));
    std::size_t ustart = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    std::string unit = s.substr(ustart, i - ustart);
    double factor;
    if (unit.empty() || unit == "s" || unit == "sec") factor = 1000;
    else if (unit == "ms") factor = 1;
    else if (unit == "m" || unit == "min") factor = 60000;
    else if (unit == "h") factor = 3600000;
    else return fail(fmt::format("cannot parse duration '{}': unknown unit '{}' (use ms, s, m, h)", s, unit));
    if (unit.empty() && i < s.size())
      return fail(fmt::format("cannot parse duration '{}' (use e.g. 90s, 5m, 1h30m, 250ms)", s));
    total_ms += value * factor;
    any = true;
  }
  if (!any || !std::isfinite(total_ms)) return fail(fmt::format("cannot parse duration '{}'", s));
  return std::chrono::milliseconds(static_cast<long long>(std::llround(total_ms)));
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) return fmt::format("{:.1f}s", seconds);
  long long s = std::llround(seconds);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    auto pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool is_text(std::string_view bytes) {
  std::size_t i = 0, n = bytes.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c == 0) return false;
    // Well-formed UTF-8 (RFC 3629, Unicode table 3-7): no overlong forms, no
    // surrogates, nothing above U+10FFFF — what JSON writers accept.
    int len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (len == 0 || i + static_cast<std::size_t>(len) > n) return false;
    unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
    for (int k = 1; k < len; ++k) {
      auto b = static_cast<unsigned char>(bytes[i + static_cast<std::size_t>(k)]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return false;
    }
    i += static_cast<std::size_t>(len);
  }
  return true;
}

Result<std::string> read_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return fail(Error{Error::Kind::invalid_input, "file not found", path, 0, 0});
  if (std::filesystem::is_directory(path, ec))
    return fail(Error{Error::Kind::invalid_input, "is a directory, not a file", path, 0, 0});
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Error{Error::Kind::io, "cannot open file", path, 0, 0});
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status write_file(const std::string& path, std::string_view content) {
  std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return io_error(fmt::format("cannot write '{}'", path));
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) return io_error(fmt::format("cannot write '{}'", path));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return io_error(fmt::format("cannot write '{}': {}", path, ec.message()));
  return {};
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) out += fmt::format("{:02x}", md[i]);
  return out;
}

}  // namespace kerntune::util
