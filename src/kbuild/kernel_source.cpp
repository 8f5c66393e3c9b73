#include "kerntune/kbuild/kernel_source.hpp"

#include <fmt/format.h>
#include <git2.h>

#include <filesystem>
#include <memory>

#include "kerntune/util/log.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::kbuild {

namespace fs = std::filesystem;

namespace {

struct Git {
  Git() { git_libgit2_init(); }
  ~Git() { git_libgit2_shutdown(); }
};

std::string git_message() {
  const git_error* e = git_error_last();
  return e && e->message ? e->message : "unknown libgit2 error";
}

template <class T, void (*Free)(T*)>
struct Ptr {
  T* p = nullptr;
  ~Ptr() {
    if (p) Free(p);
  }
};

std::string oid_hex(const git_oid* oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, oid);
  return buf;
}

}  // namespace

std::string SourceInfo::describe() const {
  return fmt::format("{} ({}{})", tree, identity, dirty ? ", dirty" : "");
}

util::Status check_kernel_tree(const std::string& dir) {
  std::error_code ec;
  fs::path d(dir);
  if (!fs::is_directory(d, ec)) return util::invalid_input(fmt::format("kernel source '{}' is not a folder", dir));
  if (!fs::exists(d / "Kconfig") || !fs::exists(d / "Makefile") || !fs::exists(d / "scripts" / "kconfig"))
    return util::invalid_input(fmt::format("'{}' is not a Linux kernel tree (no Kconfig, Makefile and scripts/kconfig/)", dir));
  return {};
}

util::Result<GitState> git_state(const std::string& dir) {
  Git g;
  Ptr<git_repository, git_repository_free> repo;
  // NO_SEARCH: a tree unpacked inside some other checkout is not that checkout.
  if (git_repository_open_ext(&repo.p, dir.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0)
    return util::invalid_input(fmt::format("'{}' is not a git repository: {}", dir, git_message()));
  git_oid head;
  if (git_reference_name_to_id(&head, repo.p, "HEAD") != 0)
    return util::io_error(fmt::format("'{}': cannot resolve HEAD: {}", dir, git_message()));
  GitState st;
  st.commit = oid_hex(&head);
  git_status_options opts = GIT_STATUS_OPTIONS_INIT;
  opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  opts.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;  // untracked files (build output) do not count
  Ptr<git_status_list, git_status_list_free> list;
  if (git_status_list_new(&list.p, repo.p, &opts) != 0)
    return util::io_error(fmt::format("'{}': git status failed: {}", dir, git_message()));
  st.dirty = git_status_list_entrycount(list.p) > 0;
  if (!st.dirty) return st;
  // The changes themselves, as a patch of HEAD's tree against the working
  // tree (staged or not): two different edits of the same commit must not
  // share a build-cache entry.
  Ptr<git_object, git_object_free> head_tree;
  if (git_revparse_single(&head_tree.p, repo.p, "HEAD^{tree}") != 0)
    return util::io_error(fmt::format("'{}': cannot read HEAD's tree: {}", dir, git_message()));
  git_diff_options dopts = GIT_DIFF_OPTIONS_INIT;
  dopts.flags = GIT_DIFF_IGNORE_SUBMODULES;
  Ptr<git_diff, git_diff_free> diff;
  if (git_diff_tree_to_workdir_with_index(&diff.p, repo.p, reinterpret_cast<git_tree*>(head_tree.p), &dopts) != 0)
    return util::io_error(fmt::format("'{}': git diff failed: {}", dir, git_message()));
  git_buf patch = GIT_BUF_INIT;
  if (git_diff_to_buf(&patch, diff.p, GIT_DIFF_FORMAT_PATCH) != 0)
    return util::io_error(fmt::format("'{}': cannot render the diff: {}", dir, git_message()));
  st.diff_sha256 = util::sha256_hex(std::string_view(patch.ptr, patch.size));
  git_buf_dispose(&patch);
  return st;
}

util::Result<std::string> git_resolve(const std::string& repo_path, const std::string& ref) {
  Git g;
  Ptr<git_repository, git_repository_free> repo;
  if (git_repository_open_ext(&repo.p, repo_path.c_str(), 0, nullptr) != 0)
    return util::invalid_input(fmt::format("'{}' is not a git repository: {}", repo_path, git_message()));
  Ptr<git_object, git_object_free> obj;
  std::string spec = ref.empty() ? "HEAD" : ref;
  if (git_revparse_single(&obj.p, repo.p, spec.c_str()) != 0)
    return util::invalid_input(fmt::format("git ref '{}' does not exist in {}", spec, repo_path));
  Ptr<git_object, git_object_free> commit;
  if (git_object_peel(&commit.p, obj.p, GIT_OBJECT_COMMIT) != 0)
    return util::invalid_input(fmt::format("git ref '{}' in {} does not name a commit", spec, repo_path));
  return oid_hex(git_object_id(commit.p));
}

util::Status git_export(const std::string& repo_path, const std::string& commit_id, const std::string& dest) {
  Git g;
  Ptr<git_repository, git_repository_free> repo;
  if (git_repository_open_ext(&repo.p, repo_path.c_str(), 0, nullptr) != 0)
    return util::invalid_input(fmt::format("'{}' is not a git repository: {}", repo_path, git_message()));
  git_oid oid;
  if (git_oid_fromstr(&oid, commit_id.c_str()) != 0) return util::invalid_input("bad commit id " + commit_id);
  Ptr<git_commit, git_commit_free> commit;
  if (git_commit_lookup(&commit.p, repo.p, &oid) != 0)
    return util::io_error(fmt::format("commit {} not found: {}", commit_id, git_message()));
  Ptr<git_tree, git_tree_free> tree;
  if (git_commit_tree(&tree.p, commit.p) != 0) return util::io_error(git_message());
  std::error_code ec;
  fs::create_directories(dest, ec);
  git_checkout_options opts = GIT_CHECKOUT_OPTIONS_INIT;
  opts.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX;
  opts.target_directory = dest.c_str();
  if (git_checkout_tree(repo.p, reinterpret_cast<git_object*>(tree.p), &opts) != 0)
    return util::io_error(fmt::format("exporting {} into {} failed: {}", commit_id, dest, git_message()));
  return {};
}

util::Result<SourceInfo> prepare_source(const SourceSpec& spec, const std::string& cache_dir) {
  SourceInfo info;
  std::error_code ec;
  switch (spec.kind) {
    case SourceSpec::Kind::path: {
      info.tree = fs::absolute(spec.location, ec).lexically_normal().string();
      KT_TRY_STATUS(check_kernel_tree(info.tree));
      if (auto st = git_state(info.tree)) {
        info.commit = st->commit;
        info.dirty = st->dirty;
        // A dirty tree's identity holds a hash of its changes (the build
        // cache keys on it): the same edit hits, another edit misses.
        info.identity = "git:" + st->commit + (st->dirty ? "+dirty:" + st->diff_sha256.substr(0, 16) : "");
      } else if (auto sha = util::read_file(info.tree + "/.kerntune-tarball-sha256")) {
        info.identity = "tarball:" + util::trim(*sha);  // unpacked by scripts/fetch-linux-source
      } else {
        info.identity = "path:" + info.tree;
        util::log_warn("kernel source {} has no provenance (not git, not a recorded tarball): the build cache "
                       "keys on its path",
                       info.tree);
      }
      break;
    }
    case SourceSpec::Kind::git: {
      KT_TRY(std::string commit, git_resolve(spec.location, spec.ref));
      info.commit = commit;
      info.identity = "git:" + commit;
      fs::path dest = fs::path(cache_dir) / "sources" / ("git-" + commit);
      if (!fs::exists(dest / ".kerntune-exported")) {
        fs::path tmp = dest.string() + ".tmp";
        fs::remove_all(tmp, ec);
        KT_TRY_STATUS(git_export(spec.location, commit, tmp.string()));
        KT_TRY_STATUS(util::write_file((tmp / ".kerntune-exported").string(), commit + "\n"));
        fs::remove_all(dest, ec);
        fs::rename(tmp, dest, ec);
        if (ec) return util::io_error(fmt::format("cannot move {} to {}: {}", tmp.string(), dest.string(), ec.message()));
      }
      info.tree = dest.string();
      KT_TRY_STATUS(check_kernel_tree(info.tree));
      break;
    }
    case SourceSpec::Kind::tarball: {
      KT_TRY(std::string bytes, util::read_file(spec.location));
      std::string sha = util::sha256_hex(bytes);
      bytes.clear();
      info.identity = "tarball:" + sha;
      fs::path dest = fs::path(cache_dir) / "sources" / ("tarball-" + sha.substr(0, 16));
      if (!fs::exists(dest / ".kerntune-unpacked")) {
        fs::path tmp = dest.string() + ".tmp";
        fs::remove_all(tmp, ec);
        fs::create_directories(tmp, ec);
        util::RunOptions r;
        r.argv = {"tar", "-xaf", fs::absolute(spec.location).string(), "-C", tmp.string(), "--strip-components=1"};
        r.merge_stderr = true;
        KT_TRY(util::RunResult rr, util::run(r));
        if (!rr.ok()) return util::io_error(fmt::format("cannot unpack {}: {} {}", spec.location, rr.describe(), rr.out));
        KT_TRY_STATUS(util::write_file((tmp / ".kerntune-unpacked").string(), sha + "\n"));
        KT_TRY_STATUS(util::write_file((tmp / ".kerntune-tarball-sha256").string(), sha + "\n"));
        fs::remove_all(dest, ec);
        fs::rename(tmp, dest, ec);
        if (ec) return util::io_error(fmt::format("cannot move {} to {}: {}", tmp.string(), dest.string(), ec.message()));
      }
      info.tree = dest.string();
      KT_TRY_STATUS(check_kernel_tree(info.tree));
      break;
    }
  }
  if (info.dirty)
    util::log_warn("kernel source {} is a dirty git tree (commit {} plus changes): recorded as such",
                   info.tree, info.commit);
  return info;
}

}  // namespace kerntune::kbuild
