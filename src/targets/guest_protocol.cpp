#include "kerntune/targets/guest_protocol.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <charconv>
#include <stdexcept>

#include "kerntune/util/text.hpp"

namespace kerntune::targets::guest {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBegin = "@@KT:BEGIN ";
constexpr std::string_view kEnd = "@@KT:END ";
constexpr std::string_view kReady = "@@KT:READY";
constexpr std::string_view kPanic = "Kernel panic - not syncing";

std::optional<int> to_int(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

util::Result<std::string> base64_decode(std::string_view text) {
  std::array<int, 256> rev{};
  rev.fill(-1);
  for (std::size_t k = 0; k < kAlphabet.size(); ++k) rev[static_cast<unsigned char>(kAlphabet[k])] = static_cast<int>(k);
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  bool padding = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    int v = rev[static_cast<unsigned char>(c)];
    if (v < 0 || padding)
      return util::fail(fmt::format("invalid base64 byte 0x{:02x}", static_cast<unsigned char>(c)),
                        util::Error::Kind::io);
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string encode_command(int id, std::string_view verb, const std::vector<std::string>& args) {
  if (verb.empty()) throw std::logic_error("guest command without a verb");
  for (char c : verb)
    if (c < 'a' || c > 'z') throw std::logic_error("guest verb must be [a-z]+");
  std::string line = fmt::format("{} {}", id, verb);
  for (const auto& a : args) {
    line += " x";
    line += base64_encode(a);
  }
  line += '\n';
  return line;
}

void ConsoleParser::feed(std::string_view bytes) {
  for (char c : bytes) {
    if (c == '\r') continue;
    if (c == '\n') {
      line(partial_);
      partial_.clear();
    } else {
      partial_ += c;
      // A console line this long is not ours; keep the log moving.
      if (partial_.size() > (1u << 20)) {
        line(partial_);
        partial_.clear();
      }
    }
  }
}

void ConsoleParser::line(std::string_view text) {
  // Frame markers may follow kernel noise on the same line: look anywhere.
  if (auto b = text.find(kBegin); b != std::string_view::npos) {
    auto id = to_int(util::trim(text.substr(b + kBegin.size())));
    if (id) {
      open_id_ = *id;
      open_b64_.clear();
      append_log(text);
      append_log("\n");
      return;
    }
  }
  if (auto e = text.find(kEnd); e != std::string_view::npos) {
    auto parts = util::split(util::trim(text.substr(e + kEnd.size())), ' ');
    auto id = parts.size() >= 2 ? to_int(parts[0]) : std::nullopt;
    auto rc = parts.size() >= 2 ? to_int(parts[1]) : std::nullopt;
    if (id && rc) {
      Reply r;
      r.id = *id;
      r.rc = *rc;
      for (std::size_t k = 2; k < parts.size(); ++k) {
        auto eq = parts[k].find('=');
        if (eq == std::string::npos) continue;
        r.fields[parts[k].substr(0, eq)] = parts[k].substr(eq + 1);
      }
      if (open_id_ == *id) {
        auto payload = base64_decode(open_b64_);
        if (payload) {
          r.payload = std::move(*payload);
        } else {
          protocol_error_ = fmt::format("reply {}: {}", *id, payload.error().message);
        }
      } else {
        protocol_error_ = fmt::format("reply {} ended without its begin marker", *id);
      }
      open_id_.reset();
      open_b64_.clear();
      done_[r.id] = std::move(r);
      append_log(text);
      append_log("\n");
      return;
    }
  }
  if (open_id_) {
    // Inside a frame: base64 payload, unless the kernel interleaved a message.
    bool b64 = !text.empty();
    for (char c : text)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=')) b64 = false;
    if (b64) {
      open_b64_ += text;
      return;
    }
  }
  if (text.find(kReady) != std::string_view::npos) ready_ = true;
  if (!panic_) {
    if (auto p = text.find(kPanic); p != std::string_view::npos) panic_ = std::string(text.substr(p));
  }
  append_log(text);
  append_log("\n");
}

void ConsoleParser::append_log(std::string_view text) {
  log_ += text;
  log_total_ += text.size();
  if (log_.size() > log_limit_ + (log_limit_ / 4)) log_.erase(0, log_.size() - log_limit_);
}

std::string ConsoleParser::log_since(std::size_t since) const {
  std::size_t start_of_kept = log_total_ - log_.size();
  std::size_t from = since > start_of_kept ? since - start_of_kept : 0;
  if (from >= log_.size()) return {};
  return log_.substr(from);
}

std::optional<Reply> ConsoleParser::take(int id) {
  auto it = done_.find(id);
  if (it == done_.end()) return std::nullopt;
  Reply r = std::move(it->second);
  done_.erase(it);
  return r;
}

std::string normalize_knob_value(std::string_view raw, bool choice_lists) {
  std::vector<std::string> tokens;
  std::string cur;
  for (char c : raw) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (!cur.empty()) tokens.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) tokens.push_back(std::move(cur));
  if (choice_lists && tokens.size() >= 2) {
    // "always [madvise] never", "none (voluntary) full": the one marked choice.
    const std::string* marked = nullptr;
    int count = 0;
    for (const auto& t : tokens) {
      if (t.size() >= 3 && ((t.front() == '[' && t.back() == ']') || (t.front() == '(' && t.back() == ')'))) {
        marked = &t;
        ++count;
      }
    }
    if (count == 1) return marked->substr(1, marked->size() - 2);
  }
  std::string out;
  for (const auto& t : tokens) out += (out.empty() ? "" : " ") + t;
  return out;
}

}  // namespace kerntune::targets::guest
