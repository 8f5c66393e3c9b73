// commit_bundle: REPO/<name>/ ← the bundle, one commit, through libgit2.
#include <git2.h>

#include <filesystem>
#include <fmt/format.h>
#include <memory>

#include "kerntune/export/bundle.hpp"

namespace kerntune::bundle {
namespace fs = std::filesystem;

namespace {

struct Git {
  Git() { git_libgit2_init(); }
  ~Git() { git_libgit2_shutdown(); }
  Git(const Git&) = delete;
  Git& operator=(const Git&) = delete;
};

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { if (p) F(p); }
};
using Repo = std::unique_ptr<git_repository, Deleter<git_repository, git_repository_free>>;
using Index = std::unique_ptr<git_index, Deleter<git_index, git_index_free>>;
using Tree = std::unique_ptr<git_tree, Deleter<git_tree, git_tree_free>>;
using Commit = std::unique_ptr<git_commit, Deleter<git_commit, git_commit_free>>;
using Sig = std::unique_ptr<git_signature, Deleter<git_signature, git_signature_free>>;

std::unexpected<util::Error> git_failure(const std::string& what) {
  const ::git_error* e = git_error_last();
  return util::io_error(fmt::format("git: {}: {}", what, e && e->message ? e->message : "unknown error"));
}

}  // namespace

util::Result<std::string> commit_bundle(const std::string& repo_path, const std::string& bundle_dir,
                                        const std::string& name, const std::string& message) {
  Git git;
  git_repository* raw = nullptr;
  std::error_code ec;
  fs::create_directories(repo_path, ec);
  if (git_repository_open(&raw, repo_path.c_str()) != 0) {
    if (git_repository_init(&raw, repo_path.c_str(), 0) != 0) return git_failure("cannot create repository " + repo_path);
  }
  Repo repo(raw);
  const char* workdir = git_repository_workdir(repo.get());
  if (!workdir) return util::invalid_input(fmt::format("'{}' is a bare repository; pass a repository with a work tree", repo_path));
  fs::path dest = fs::path(workdir) / name;
  fs::remove_all(dest, ec);
  fs::create_directories(dest, ec);
  fs::copy(bundle_dir, dest, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
  if (ec) return util::io_error(fmt::format("cannot copy the bundle into '{}': {}", dest.string(), ec.message()));

  git_index* iraw = nullptr;
  if (git_repository_index(&iraw, repo.get()) != 0) return git_failure("index");
  Index index(iraw);
  // Stage exactly the bundle's folder: removals (an older bundle of the same
  // name) and additions.
  std::string spec = name + "/*";
  char* specs[] = {spec.data()};
  git_strarray paths{specs, 1};
  if (git_index_update_all(index.get(), &paths, nullptr, nullptr) != 0) return git_failure("update index");
  if (git_index_add_all(index.get(), &paths, GIT_INDEX_ADD_FORCE, nullptr, nullptr) != 0) return git_failure("add files");
  if (git_index_write(index.get()) != 0) return git_failure("write index");
  git_oid tree_id, commit_id;
  if (git_index_write_tree(&tree_id, index.get()) != 0) return git_failure("write tree");
  git_tree* traw = nullptr;
  if (git_tree_lookup(&traw, repo.get(), &tree_id) != 0) return git_failure("tree lookup");
  Tree tree(traw);

  git_signature* sraw = nullptr;
  if (git_signature_default(&sraw, repo.get()) != 0 && git_signature_now(&sraw, "kerntune", "kerntune@localhost") != 0)
    return git_failure("signature");
  Sig sig(sraw);

  Commit parent;
  git_oid head;
  if (git_reference_name_to_id(&head, repo.get(), "HEAD") == 0) {
    git_commit* craw = nullptr;
    if (git_commit_lookup(&craw, repo.get(), &head) != 0) return git_failure("HEAD commit");
    parent.reset(craw);
  }
  const git_commit* parents[] = {parent.get()};
  if (git_commit_create(&commit_id, repo.get(), "HEAD", sig.get(), sig.get(), "UTF-8", message.c_str(), tree.get(),
                        parent ? 1 : 0, parent ? parents : nullptr) != 0)
    return git_failure("commit");
  char hex[GIT_OID_HEXSZ + 1] = {};
  git_oid_tostr(hex, sizeof hex, &commit_id);
  return std::string(hex);
}

}  // namespace kerntune::bundle
