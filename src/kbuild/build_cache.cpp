#include "kerntune/kbuild/build_cache.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <vector>

#include "kerntune/util/log.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::kbuild {

namespace fs = std::filesystem;

namespace {

std::uint64_t folder_bytes(const fs::path& p) {
  std::uint64_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_regular_file(ec)) n += it->file_size(ec);
  return n;
}

// Recency lives in a file's mtime (set on insert and on every hit): atime is
// unreliable (noatime/relatime mounts).
void touch(const fs::path& p) {
  std::error_code ec;
  fs::last_write_time(p, fs::file_time_type::clock::now(), ec);
}

}  // namespace

std::string BuildCache::key(const std::string& source_identity, const std::string& config_hash,
                            const std::string& compiler) {
  return util::sha256_hex(source_identity + "\n" + config_hash + "\n" + compiler).substr(0, 32);
}

std::optional<std::string> BuildCache::lookup(const std::string& key) {
  fs::path e = fs::path(dir_) / "entries" / key;
  std::error_code ec;
  if (!fs::exists(e / "bzImage", ec) || !fs::exists(e / "complete", ec)) return std::nullopt;
  touch(e / "complete");
  return (e / "bzImage").string();
}

util::Result<std::string> BuildCache::insert(const std::string& key, const std::string& image,
                                             const std::string& config, const std::string& meta_json) {
  std::error_code ec;
  fs::path entries = fs::path(dir_) / "entries";
  fs::create_directories(entries, ec);
  fs::path tmp = entries / (".tmp-" + key);
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) return util::io_error(fmt::format("cannot create {}: {}", tmp.string(), ec.message()));
  fs::copy_file(image, tmp / "bzImage", fs::copy_options::overwrite_existing, ec);
  if (ec) return util::io_error(fmt::format("cannot copy {} into the cache: {}", image, ec.message()));
  fs::copy_file(config, tmp / "config", fs::copy_options::overwrite_existing, ec);
  KT_TRY_STATUS(util::write_file((tmp / "meta.json").string(), meta_json));
  KT_TRY_STATUS(util::write_file((tmp / "complete").string(), key + "\n"));
  fs::path dest = entries / key;
  fs::remove_all(dest, ec);
  fs::rename(tmp, dest, ec);
  if (ec) return util::io_error(fmt::format("cannot add {} to the cache: {}", dest.string(), ec.message()));
  evict(key);
  return (dest / "bzImage").string();
}

std::uint64_t BuildCache::size_bytes() const { return folder_bytes(fs::path(dir_) / "entries"); }

std::size_t BuildCache::entries() const {
  std::size_t n = 0;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(fs::path(dir_) / "entries", ec))
    if (fs::exists(e.path() / "complete")) ++n;
  return n;
}

void BuildCache::evict(const std::string& keep) {
  struct Entry {
    fs::path path;
    fs::file_time_type used;
    std::uint64_t bytes;
  };
  std::vector<Entry> all;
  std::uint64_t total = 0;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(fs::path(dir_) / "entries", ec)) {
    if (!fs::exists(e.path() / "complete")) continue;
    Entry x{e.path(), fs::last_write_time(e.path() / "complete", ec), folder_bytes(e.path())};
    total += x.bytes;
    all.push_back(std::move(x));
  }
  std::sort(all.begin(), all.end(), [](const Entry& a, const Entry& b) { return a.used < b.used; });
  for (const auto& e : all) {
    if (total <= max_bytes_) break;
    if (e.path.filename() == keep) continue;  // the entry just added stays
    util::log_info("build cache: evicting {} ({} bytes) to stay under {} bytes", e.path.filename().string(), e.bytes,
                   max_bytes_);
    fs::remove_all(e.path, ec);
    total -= e.bytes;
  }
}

util::Result<std::uint64_t> parse_size(const std::string& text) {
  std::string t = util::trim(text);
  if (t.empty()) return util::invalid_input("empty size");
  std::size_t i = 0;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
  if (i == 0) return util::invalid_input(fmt::format("size '{}' is not a number with an optional K/M/G/T suffix", text));
  double v = std::strtod(t.substr(0, i).c_str(), nullptr);
  std::string unit = util::trim(t.substr(i));
  double mult = 1;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "K" || unit == "KB" || unit == "KiB") mult = 1024.0;
  else if (unit == "M" || unit == "MB" || unit == "MiB") mult = 1024.0 * 1024;
  else if (unit == "G" || unit == "GB" || unit == "GiB") mult = 1024.0 * 1024 * 1024;
  else if (unit == "T" || unit == "TB" || unit == "TiB") mult = 1024.0 * 1024 * 1024 * 1024;
  else return util::invalid_input(fmt::format("size '{}': unknown unit '{}' (use K, M, G or T)", text, unit));
  return static_cast<std::uint64_t>(v * mult);
}

}  // namespace kerntune::kbuild
