#pragma once
// Deployable bundles: one trial of a campaign rendered in the formats the
// ecosystem already uses (kernel.config / kernel.fragment, sysctl.d, sysfs.d,
// the kernel command line and a GRUB drop-in, a TuneD profile), a rollback/
// folder with the baseline values, and manifest.json with provenance,
// evidence (metrics, improvement with a 95% interval) and the sha256 of every
// other file. Format reference: docs/export.md.
//
// Reads everything from the store (campaign metadata_json, trials,
// artifacts): no recipe file is needed. The namespace is `bundle` because
// `export` is a C++ keyword.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "kerntune/store/store.hpp"
#include "kerntune/util/result.hpp"

namespace kerntune::bundle {

struct ExportOptions {
  std::string campaign;              ///< name; empty: the only campaign in the store
  std::optional<int> trial_seq;      ///< --trial N (the trial's seq); nullopt: the best trial
  std::string objective;             ///< --best --objective M; empty: the first objective
  std::string out;                   ///< a folder (created; must be new or empty) or FILE.tar.gz / FILE.tgz
  bool force = false;                ///< replace an existing archive, or a folder holding a kerntune bundle
  std::string git_repo;              ///< non-empty: also commit the bundle into this repository
  std::string name;                  ///< bundle name; default "<campaign>-trial-<seq>"
  /// Export a trial with a value outside a parameter's safe_range (refused otherwise).
  bool allow_unsafe = false;
};

struct ExportSummary {
  std::string path;          ///< the folder or archive written
  std::string name;          ///< bundle name (also the TuneD profile suffix and the git folder)
  int seq = 0;               ///< the exported trial
  nlohmann::json manifest;
  std::string git_commit;    ///< hex id when --git was given
  std::string headline;      ///< "y -8.1% [−10.2%, −6.0%] vs baseline" (the git message's first line uses it)
};

/// Writes a bundle. The best trial and the improvement follow
/// stats::best_trial / stats::improvement (the same as `kerntune best`).
/// The bundle is written into a scratch folder beside `out` and moved into
/// place when complete. Errors (invalid_input): no such campaign/trial, a
/// failed trial, no ok trial with the objective; an existing output that is
/// a non-empty folder or an archive without `force`, or a non-empty folder
/// that holds no kerntune bundle even with `force` (export never deletes
/// what it did not write). I/O and git failures: io.
util::Result<ExportSummary> export_bundle(store::Store& store, const ExportOptions& options);

/// Renders the bundle's files into `dir` (which must exist) and returns the
/// manifest written. Exposed for tests; export_bundle calls it.
util::Result<nlohmann::json> write_bundle(store::Store& store, const store::CampaignRow& campaign, int seq,
                                          const std::string& objective, const std::string& name,
                                          const std::string& dir);

/// Checks a bundle folder: manifest.json present and valid JSON, every file
/// it lists present with the listed sha256, and no other file in the folder.
/// Any failure is invalid_input naming the file. Returns the manifest.
util::Result<nlohmann::json> verify_bundle(const std::string& dir);

/// A folder or a .tar.gz/.tgz bundle → a folder holding manifest.json
/// (archives are unpacked under `scratch` with tar; the single top folder
/// inside is returned).
util::Result<std::string> open_bundle(const std::string& path, const std::string& scratch);

/// Commits folder `bundle_dir` as REPO/<name>/ (replacing an older folder of
/// that name) with libgit2, creating the repository when missing. Returns the
/// commit id (hex).
util::Result<std::string> commit_bundle(const std::string& repo, const std::string& bundle_dir,
                                        const std::string& name, const std::string& message);

/// The parameter values a bundle applies (name → value), from its manifest:
/// effective values where known, else proposed.
nlohmann::json bundle_values(const nlohmann::json& manifest);

}  // namespace kerntune::bundle
