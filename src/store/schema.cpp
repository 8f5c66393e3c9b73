#include "kerntune/store/schema.hpp"

#include <array>

namespace kerntune::store {
namespace {

// v1: the initial schema. Campaign times are ISO-8601 UTC text; trial and event
// times are unix seconds (REAL), which code subtracts and sqlite3 formats with
// datetime(x, 'unixepoch').
constexpr const char* kV1 = R"sql(
CREATE TABLE kerntune_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
INSERT INTO kerntune_meta(key, value) VALUES ('format', 'kerntune-store');
CREATE TABLE campaigns (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  recipe_path TEXT NOT NULL DEFAULT '',
  recipe_text TEXT NOT NULL DEFAULT '',
  recipe_hash TEXT NOT NULL DEFAULT '',
  seed        INTEGER NOT NULL DEFAULT 0,
  status      TEXT NOT NULL CHECK (status IN ('running', 'stopped', 'finished', 'failed')),
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
CREATE TABLE trials (
  id             INTEGER PRIMARY KEY,
  campaign_id    INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  seq            INTEGER NOT NULL,
  kind           TEXT NOT NULL,
  status         TEXT NOT NULL,
  params_json    TEXT NOT NULL DEFAULT '{}',
  effective_json TEXT NOT NULL DEFAULT '{}',
  failure_stage  TEXT NOT NULL DEFAULT '',
  failure_reason TEXT NOT NULL DEFAULT '',
  timings_json   TEXT NOT NULL DEFAULT '{}',
  worker         TEXT NOT NULL DEFAULT '',
  started_at     REAL NOT NULL DEFAULT 0,
  finished_at    REAL NOT NULL DEFAULT 0,
  UNIQUE (campaign_id, seq)
);
CREATE TABLE measurements (
  id       INTEGER PRIMARY KEY,
  trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
  metric   TEXT NOT NULL,
  repeat   INTEGER NOT NULL,
  value    REAL NOT NULL,
  unit     TEXT NOT NULL DEFAULT ''
);
CREATE TABLE artifacts (
  id       INTEGER PRIMARY KEY,
  trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
  name     TEXT NOT NULL,
  content  BLOB NOT NULL,
  size     INTEGER NOT NULL
);
CREATE TABLE events (
  id          INTEGER PRIMARY KEY,
  campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  at          REAL NOT NULL,
  level       TEXT NOT NULL,
  message     TEXT NOT NULL
);
)sql";

// v2: campaign metadata (kernel commit, dirty tree, target description) and
// indexes for the per-trial and per-campaign lookups every reader does.
constexpr const char* kV2 = R"sql(
ALTER TABLE campaigns ADD COLUMN metadata_json TEXT NOT NULL DEFAULT '{}';
CREATE INDEX measurements_by_trial ON measurements(trial_id, metric, repeat);
CREATE INDEX artifacts_by_trial ON artifacts(trial_id);
CREATE INDEX events_by_campaign ON events(campaign_id, id);
)sql";

constexpr std::array<Migration, 2> kMigrations{{
    {1, "initial schema", kV1},
    {2, "campaigns.metadata_json; indexes on measurements, artifacts, events", kV2},
}};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

}  // namespace kerntune::store
