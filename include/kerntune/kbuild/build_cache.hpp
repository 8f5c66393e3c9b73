#pragma once
// Kernel images by key (source identity, resolved .config hash, compiler
// version), in `dir`/entries/<key>/ with a size limit and least-recently-used
// eviction. Entries are added whole (written aside, then renamed), so a build
// that was stopped or failed never becomes an entry.
#include <cstdint>
#include <optional>
#include <string>

#include "kerntune/util/result.hpp"

namespace kerntune::kbuild {

class BuildCache {
 public:
  BuildCache(std::string dir, std::uint64_t max_bytes) : dir_(std::move(dir)), max_bytes_(max_bytes) {}

  static std::string key(const std::string& source_identity, const std::string& config_hash,
                         const std::string& compiler);
  /// Path of the cached image for `key` (and marks it used), or nullopt.
  std::optional<std::string> lookup(const std::string& key);
  /// Copies `image` and `config` in as the entry for `key`; evicts the least
  /// recently used entries while the cache is above its size. Returns the
  /// cached image path.
  util::Result<std::string> insert(const std::string& key, const std::string& image, const std::string& config,
                                   const std::string& meta_json);
  std::uint64_t size_bytes() const;
  std::size_t entries() const;
  const std::string& dir() const { return dir_; }

 private:
  void evict(const std::string& keep);
  std::string dir_;
  std::uint64_t max_bytes_;
};

/// "10G", "512M", "100K", "1000" (bytes). Error (invalid_input) otherwise.
util::Result<std::uint64_t> parse_size(const std::string& text);

}  // namespace kerntune::kbuild
