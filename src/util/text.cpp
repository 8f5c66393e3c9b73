#include "kerntune/util/text.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

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
  if (s.empty()) return invalid_input("empty duration");
  double total_ms = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < s.size()) {
    std::size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (start == i) return invalid_input(fmt::format("cannot parse duration '{}' (use e.g. 90s, 5m, 1h30m, 250ms)", s));
    double value = 0;
    auto [p, ec] = std::from_chars(s.data() + start, s.data() + i, value);
    if (ec != std::errc() || p != s.data() + i)
      return invalid_input(fmt::format("cannot parse duration '{}' (use e.g. 90s, 5m, 1h30m, 250ms)", s));
    std::size_t ustart = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    std::string unit = s.substr(ustart, i - ustart);
    double factor;
    if (unit.empty() || unit == "s" || unit == "sec") factor = 1000;
    else if (unit == "ms") factor = 1;
    else if (unit == "m" || unit == "min") factor = 60000;
    else if (unit == "h") factor = 3600000;
    else return invalid_input(fmt::format("cannot parse duration '{}': unknown unit '{}' (use ms, s, m, h)", s, unit));
    if (unit.empty() && i < s.size())
      return invalid_input(fmt::format("cannot parse duration '{}' (use e.g. 90s, 5m, 1h30m, 250ms)", s));
    total_ms += value * factor;
    any = true;
  }
  if (!any || !std::isfinite(total_ms)) return invalid_input(fmt::format("cannot parse duration '{}'", s));
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

namespace {
// Length of the well-formed UTF-8 sequence starting at bytes[i] (RFC 3629,
// Unicode table 3-7: no overlong forms, no surrogates, nothing above
// U+10FFFF — what JSON writers accept), or 0 when none starts there.
std::size_t utf8_length(std::string_view bytes, std::size_t i) {
  const std::size_t n = bytes.size();
  auto c = static_cast<unsigned char>(bytes[i]);
  std::size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  if (len == 0 || i + len > n) return 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (c == 0xE0) lo = 0xA0;
  if (c == 0xED) hi = 0x9F;
  if (c == 0xF0) lo = 0x90;
  if (c == 0xF4) hi = 0x8F;
  for (std::size_t k = 1; k < len; ++k) {
    auto b = static_cast<unsigned char>(bytes[i + k]);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return 0;
  }
  return len;
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// A C1 control (U+0080–U+009F) is the two bytes C2 80 … C2 9F.
bool is_c1(std::string_view bytes, std::size_t i, std::size_t len) {
  return len == 2 && static_cast<unsigned char>(bytes[i]) == 0xC2 && static_cast<unsigned char>(bytes[i + 1]) < 0xA0;
}
}  // namespace

bool is_text(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size();) {
    std::size_t len = utf8_length(bytes, i);
    if (len == 0 || bytes[i] == 0) return false;
    i += len;
  }
  return true;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') out += '?';
        else out += c;
    }
  }
  return out;
}

std::string valid_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    std::size_t len = utf8_length(bytes, i);
    if (len == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    out.append(bytes.substr(i, len));
    i += len;
  }
  return out;
}

std::string printable(std::string_view bytes, bool multiline) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    std::size_t len = utf8_length(bytes, i);
    if (len == 0) {
      out += kReplacement;
      ++i;
    } else if (is_control(bytes[i]) && !(multiline && (bytes[i] == '\n' || bytes[i] == '\t'))) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(bytes[i]));
      ++i;
    } else if (is_c1(bytes, i, len)) {
      out += fmt::format("\\u{{{:02x}}}", static_cast<unsigned char>(bytes[i + 1]));
      i += len;
    } else {
      out.append(bytes.substr(i, len));
      i += len;
    }
  }
  return out;
}

bool has_control(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_control(text[i])) return true;
    if (i + 1 < text.size() && is_c1(text, i, 2)) return true;
  }
  return false;
}

std::optional<std::string> name_text_problem(std::string_view name) {
  if (name.empty()) return "it is empty";
  if (name.size() > 200) return fmt::format("it is {} bytes long (at most 200)", name.size());
  if (!is_text(name)) return "it is not well-formed UTF-8 text";
  if (has_control(name)) return "it holds a control character (a newline, tab, escape, …)";
  if (trim(name) != name) return "it starts or ends with whitespace";
  return std::nullopt;
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t rest = std::min<std::size_t>(3, bytes.size() - i);
    unsigned v = static_cast<unsigned>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest > 1) v |= static_cast<unsigned>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (rest > 2) v |= static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest > 1 ? kAlphabet[(v >> 6) & 63] : '=';
    out += rest > 2 ? kAlphabet[v & 63] : '=';
  }
  return out;
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

namespace {
// The process umask without changing it (umask(2) sets it, which would race
// with other threads creating files): the Umask line of /proc/self/status.
mode_t current_umask() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("Umask:")) return static_cast<mode_t>(std::strtoul(line.c_str() + 6, nullptr, 8));
  return 022;
}
}  // namespace

Status write_file(const std::string& path, std::string_view content) {
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) return io_error(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  bool ok = ::fchmod(fd, 0666 & ~current_umask()) == 0;
  for (std::string_view rest = content; ok && !rest.empty();) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) rest.remove_prefix(static_cast<std::size_t>(n));
  }
  int err = ok ? 0 : errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return io_error(fmt::format("cannot write '{}': {}", path, std::strerror(err)));
  }
  return {};
}

Result<std::string> make_temp_dir(const std::string& prefix, const std::string& parent) {
  std::error_code ec;
  std::filesystem::path base = parent.empty() ? std::filesystem::temp_directory_path(ec) : std::filesystem::path(parent);
  if (ec) base = "/tmp";
  std::string tmpl = (base / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    return io_error(fmt::format("cannot create a private folder in '{}': {}", base.string(), std::strerror(errno)));
  return tmpl;
}

TempDirGuard& TempDirGuard::operator=(TempDirGuard&& o) noexcept {
  if (this != &o) {
    TempDirGuard old(std::move(*this));
    path_ = std::exchange(o.path_, {});
  }
  return *this;
}

TempDirGuard::~TempDirGuard() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);  // removes symlinks, never what they point to
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
