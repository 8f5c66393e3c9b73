#pragma once
// Small text helpers shared by parsers and the CLI.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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

// ---- Bytes from outside as data (docs/hardening.md, "Bytes are data") -------
// Output of black boxes, guests and stored values may hold any byte. These
// helpers make such bytes safe for JSON and for a terminal by one documented
// rule; the bytes themselves stay in the store (artifacts are BLOBs).

/// Well-formed UTF-8: every byte that does not begin a well-formed sequence
/// (RFC 3629: no overlong forms, surrogates or code points above U+10FFFF)
/// becomes U+FFFD; everything else, NUL included, is kept. Identity on valid text.
std::string valid_utf8(std::string_view bytes);
/// `s` for XML text and attributes: & < > " ' as entities; a C0 control
/// character other than tab, newline and carriage return (not allowed in
/// XML 1.0) becomes '?'.
std::string xml_escape(std::string_view s);
/// valid_utf8, then every control character escaped for a terminal: C0
/// controls and DEL as `\xNN` (`\n` and `\t` kept as they are when
/// `multiline`, else escaped too), C1 controls (U+0080–U+009F) as `\u{NN}`.
/// The result carries no escape sequence a terminal would act on.
std::string printable(std::string_view bytes, bool multiline = false);
/// True when `c` (one byte) is a C0 control character or DEL.
inline bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }
/// True when the text holds a C0/C1 control character or DEL (tab included).
bool has_control(std::string_view text);
/// A name a person chose that ends up in files, logs and terminals (campaign
/// names): 1–200 bytes of well-formed UTF-8, no control characters, no
/// leading or trailing whitespace. Returns why not, or nullopt.
std::optional<std::string> name_text_problem(std::string_view name);
/// Standard base64 (RFC 4648, with padding).
std::string base64_encode(std::string_view bytes);

/// Reads a whole file; Kind::io on failure.
Result<std::string> read_file(const std::string& path);
/// Writes atomically: a new temporary file beside `path` (created with
/// O_EXCL under a random name, so a planted file or symlink is never
/// followed), then renamed over `path`. The temporary file is removed on
/// every failure. The file gets mode 0666 minus the umask.
Status write_file(const std::string& path, std::string_view content);
/// Creates a new private folder `PARENT/PREFIX-XXXXXX` (mkdtemp: a random
/// name, mode 0700, never a path that existed before, so never through a
/// planted symlink). PARENT empty: the system temporary folder ($TMPDIR or /tmp).
Result<std::string> make_temp_dir(const std::string& prefix, const std::string& parent = "");
/// Removes a folder made by make_temp_dir (or any path) when destroyed,
/// unless release()d. Never follows a symlink out of the folder.
class TempDirGuard {
 public:
  TempDirGuard() = default;
  explicit TempDirGuard(std::string path) : path_(std::move(path)) {}
  TempDirGuard(TempDirGuard&& o) noexcept : path_(std::exchange(o.path_, {})) {}
  TempDirGuard& operator=(TempDirGuard&& o) noexcept;
  TempDirGuard(const TempDirGuard&) = delete;
  TempDirGuard& operator=(const TempDirGuard&) = delete;
  ~TempDirGuard();
  const std::string& path() const { return path_; }
  void release() { path_.clear(); }

 private:
  std::string path_;
};

/// Lowercase hex SHA-256 of bytes.
std::string sha256_hex(std::string_view bytes);

}  // namespace kerntune::util
