#pragma once
// The campaign store: one SQLite file (WAL, foreign keys, schema versioned by
// PRAGMA user_version with ordered migrations). A trial is written in one
// transaction when it completes, so a killed campaign loses nothing completed.
// Schema reference: docs/store.md.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kerntune/util/result.hpp"

struct sqlite3;

namespace kerntune::store {

struct OpenOptions {
  bool create = true;        ///< create the file if missing
  bool read_only = false;    ///< `status`/`trials`/`best`: never blocks the writer
  int busy_timeout_ms = 5000;
};

struct CampaignRow {
  std::int64_t id = 0;
  std::string name;
  std::string recipe_path;
  std::string recipe_text;
  std::string recipe_hash;
  std::uint64_t seed = 0;
  std::string status;        ///< running | stopped | finished | failed
  std::string created_at;    ///< ISO-8601 UTC
  std::string updated_at;
  std::string metadata_json = "{}";  ///< kernel commit, dirty flag, target description, …
};

/// Measurement::repeat of a trial-level value pooled over all repeats (a
/// distribution metric's percentile of all requests; docs/store.md).
inline constexpr int kPooledRepeat = -1;

struct Measurement {
  std::string metric;
  int repeat = 0;            ///< 0-based measured repeat, or kPooledRepeat
  double value = 0;
  std::string unit;
};

struct ArtifactRow {
  std::string name;
  std::string content;
};

/// Everything about one completed trial, written atomically.
struct TrialRecord {
  std::int64_t id = 0;               ///< set by the store
  std::int64_t campaign_id = 0;
  int seq = 0;                       ///< 0 = the first (baseline) trial
  std::string kind = "proposal";     ///< baseline | proposal | rebaseline | confirm
  std::string status;                ///< ok | failed
  std::string params_json = "{}";    ///< proposed assignment
  std::string effective_json = "{}"; ///< as the target reported it
  std::string failure_stage;         ///< empty when ok
  std::string failure_reason;
  std::map<std::string, double> timings;  ///< stage → seconds
  std::string worker;
  double started_at = 0;             ///< unix seconds
  double finished_at = 0;
  std::vector<Measurement> measurements;
  std::vector<ArtifactRow> artifacts;  ///< only filled by trial_artifacts()
};

struct EventRow {
  std::int64_t id = 0;
  double at = 0;
  std::string level;   ///< info | warn | error
  std::string message;
};

class Store {
 public:
  /// Opens (and migrates) a database. Refuses a file that is not SQLite or
  /// is SQLite but not a kerntune store (without modifying it), and a store
  /// written by a newer kerntune (user_version above ours); these refusals are
  /// kind invalid_input with Error::file = path. A missing or 0-byte file is
  /// created as a new store (unless read_only or !create). read_only opens
  /// with SQLITE_OPEN_READONLY and never migrates (an older store is refused
  /// with a hint to open it read-write once). A path that is a symlink is
  /// opened as its target (a dangling one creates it). Read-write handles use WAL,
  /// foreign_keys=ON, synchronous=NORMAL and the given busy timeout.
  static util::Result<Store> open(const std::string& path, const OpenOptions& options = {});
  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store();

  static int schema_version();  ///< the version this build migrates to
  int user_version() const;

  util::Result<std::optional<CampaignRow>> find_campaign(const std::string& name);
  util::Result<std::vector<CampaignRow>> campaigns();
  /// Creates a campaign (status running). Error if the name exists.
  util::Result<CampaignRow> create_campaign(const CampaignRow& row);
  util::Status set_campaign_status(std::int64_t campaign_id, const std::string& status);
  util::Status set_campaign_metadata(std::int64_t campaign_id, const std::string& metadata_json);

  /// Writes a trial, its measurements and artifacts (trial.artifacts followed
  /// by `artifacts`) in one BEGIN IMMEDIATE transaction and returns the trial
  /// id. Fails without writing anything if (campaign, seq) already exists or
  /// the campaign does not (kind invalid_input), if the record is malformed
  /// (status not ok|failed, failed without stage, params/effective not JSON
  /// objects, non-finite values: invalid_input), or on SQLite errors such as a
  /// full disk or a lock held past the busy timeout (kind io). Text columns
  /// (failure stage and reason, worker, metric names, units, artifact names)
  /// are stored as util::valid_utf8; artifact contents are BLOBs, byte for byte.
  util::Result<std::int64_t> insert_trial(const TrialRecord& trial, const std::vector<ArtifactRow>& artifacts);
  /// Trials of a campaign ordered by seq, with measurements in insertion order
  /// (not artifacts), read from one consistent snapshot. Unknown id: empty.
  util::Result<std::vector<TrialRecord>> trials(std::int64_t campaign_id);
  util::Result<std::vector<ArtifactRow>> trial_artifacts(std::int64_t trial_id);

  util::Status add_event(std::int64_t campaign_id, const std::string& level, const std::string& message);
  util::Result<std::vector<EventRow>> events(std::int64_t campaign_id);

  /// PRAGMA integrity_check result ("ok" when healthy).
  util::Result<std::string> integrity_check();

  sqlite3* handle() { return db_; }

 private:
  explicit Store(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

}  // namespace kerntune::store
