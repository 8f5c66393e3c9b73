#pragma once
// Where the kernel comes from, and its identity for the build cache:
// a local tree (a git checkout or not), a tarball (unpacked once into the
// cache), or a git repository plus a ref (exported with libgit2 into the cache
// without touching the user's checkout, index or HEAD).
#include <string>

#include "kerntune/util/result.hpp"

namespace kerntune::kbuild {

struct SourceSpec {
  enum class Kind { path, git, tarball };
  Kind kind = Kind::path;
  std::string location;  ///< tree folder, repository path/URL-less local repo, or tarball file
  std::string ref;       ///< git: branch, tag or commit (default HEAD)
};

struct SourceInfo {
  std::string tree;       ///< the folder to build from (make -C)
  std::string identity;   ///< "git:<commit>", "git:<commit>+dirty:<16 hex of the diff's SHA-256>",
                          ///< "tarball:<sha256>", or "path:<abs>" (no provenance)
  std::string commit;     ///< git commit id, when known
  bool dirty = false;     ///< a git working tree with changes to tracked files
  std::string describe() const;
};

/// Git facts about a folder (libgit2): commit of HEAD and whether tracked
/// files changed. Error (invalid_input) when `dir` is not in a repository.
struct GitState {
  std::string commit;
  bool dirty = false;
  std::string diff_sha256;  ///< when dirty: SHA-256 of the patch HEAD → working tree
};
util::Result<GitState> git_state(const std::string& dir);

/// Resolves `ref` in the repository at `repo` to a commit id. Error
/// (invalid_input) for a missing repository or an unknown ref.
util::Result<std::string> git_resolve(const std::string& repo, const std::string& ref);

/// Writes the files of `commit` into `dest` (created) without touching the
/// repository's working tree, index or HEAD.
util::Status git_export(const std::string& repo, const std::string& commit, const std::string& dest);

/// Makes the source usable: checks it is a kernel tree, exports/unpacks into
/// `cache_dir`/sources when needed, computes the identity. A dirty git tree is
/// reported in `dirty` (and warned about), not refused.
util::Result<SourceInfo> prepare_source(const SourceSpec& spec, const std::string& cache_dir);

/// Error (invalid_input) unless `dir` holds a Linux kernel tree (Kconfig, Makefile, scripts/kconfig).
util::Status check_kernel_tree(const std::string& dir);

}  // namespace kerntune::kbuild
