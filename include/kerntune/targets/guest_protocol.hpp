#pragma once
// The wire format between kerntune and its guest agent over a serial console
// (docs/qemu-target.md, "Guest protocol"). Pure functions and a parser: no I/O.
//
// Host → guest, one line per command:   ID VERB xBASE64 xBASE64 ...\n
// Guest → host, one framed reply:       @@KT:BEGIN ID\n <base64 lines> @@KT:END ID RC [K=V ...]\n
// Every argument travels base64-encoded, so no byte of a value is ever parsed
// by the guest's shell; the agent decodes values into variables only.
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kerntune/util/result.hpp"

namespace kerntune::targets::guest {

/// Standard base64 (RFC 4648, with padding).
std::string base64_encode(std::string_view bytes);
/// Decodes base64, ignoring whitespace; Error on any other non-alphabet byte.
util::Result<std::string> base64_decode(std::string_view text);

/// The longest command line the agent accepts in one read (bytes, with "\n").
inline constexpr std::size_t kMaxCommandLine = 3800;

/// "ID VERB xB64(arg)...\n". Verbs are [a-z]+ (a programming error otherwise).
std::string encode_command(int id, std::string_view verb, const std::vector<std::string>& args);

struct Reply {
  int id = 0;
  int rc = 0;
  std::string payload;                        ///< decoded bytes
  std::map<std::string, std::string> fields;  ///< K=V items after RC
};

/// Splits a console byte stream into replies and a human-readable log.
/// Lines outside a frame (kernel messages, agent warnings) go to the log;
/// payload lines inside a frame do not (the frame markers do). Carriage
/// returns are dropped. A "Kernel panic - not syncing" line is remembered.
class ConsoleParser {
 public:
  void feed(std::string_view bytes);

  /// True once the agent's "@@KT:READY" line has been seen.
  bool ready() const { return ready_; }
  /// The first kernel panic line, if any.
  const std::optional<std::string>& panic() const { return panic_; }
  /// Removes and returns the reply with this id, if complete.
  std::optional<Reply> take(int id);
  /// A frame that could not be decoded (its id and why), if any.
  const std::optional<std::string>& protocol_error() const { return protocol_error_; }

  /// The console log so far (bounded: the oldest bytes are dropped past `limit`).
  const std::string& log() const { return log_; }
  /// Total bytes ever appended to the log (a position that survives trimming).
  std::size_t log_total() const { return log_total_; }
  /// The log text appended since position `since` (as far as still kept).
  std::string log_since(std::size_t since) const;
  void set_log_limit(std::size_t limit) { log_limit_ = limit; }

 private:
  void line(std::string_view text);
  void append_log(std::string_view text);

  std::string partial_;
  bool ready_ = false;
  std::optional<std::string> panic_;
  std::optional<std::string> protocol_error_;
  std::optional<int> open_id_;
  std::string open_b64_;
  std::map<int, Reply> done_;
  std::string log_;
  std::size_t log_total_ = 0;
  std::size_t log_limit_ = 4u << 20;
};

/// Reads a /proc or /sys value the way a person would write it back:
/// trailing newline removed; runs of whitespace (tabs in tcp_rmem) become one
/// space; with `choice_lists` (sysfs and debugfs files), a list with exactly
/// one marked entry gives that entry: "always [madvise] never" → "madvise",
/// "none (voluntary) full" → "voluntary".
std::string normalize_knob_value(std::string_view raw, bool choice_lists = true);

}  // namespace kerntune::targets::guest
