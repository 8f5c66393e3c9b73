// Campaign / trial / event repository on top of an open store.
#include "kerntune/store/store.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "kerntune/util/json.hpp"
#include "kerntune/util/text.hpp"
#include "sqlite.hpp"

namespace kerntune::store {
namespace {

using detail::Statement;
using detail::Transaction;
using util::Error;

constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

double now_unix() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// SQLite integers are signed 64-bit: a uint64 seed is stored bit for bit.
std::int64_t to_sql(std::uint64_t v) {
  std::int64_t out;
  std::memcpy(&out, &v, sizeof out);
  return out;
}
std::uint64_t from_sql(std::int64_t v) {
  std::uint64_t out;
  std::memcpy(&out, &v, sizeof out);
  return out;
}

util::Status check_json_object(const std::string& text, std::string_view what) {
  auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object())
    return util::invalid_input(fmt::format("{} must be a JSON object, got '{}'", what, text.substr(0, 80)));
  return {};
}

constexpr const char* kCampaignColumns =
    "id, name, recipe_path, recipe_text, recipe_hash, seed, status, created_at, updated_at, metadata_json";

CampaignRow read_campaign(const Statement& s) {
  CampaignRow row;
  row.id = s.column_int64(0);
  row.name = s.column_text(1);
  row.recipe_path = s.column_text(2);
  row.recipe_text = s.column_text(3);
  row.recipe_hash = s.column_text(4);
  row.seed = from_sql(s.column_int64(5));
  row.status = s.column_text(6);
  row.created_at = s.column_text(7);
  row.updated_at = s.column_text(8);
  row.metadata_json = s.column_text(9);
  return row;
}

bool valid_campaign_status(std::string_view s) {
  return s == "running" || s == "stopped" || s == "finished" || s == "failed";
}

util::Result<bool> campaign_exists(sqlite3* db, std::int64_t id) {
  KT_TRY(auto stmt, Statement::prepare(db, "SELECT 1 FROM campaigns WHERE id = ?"));
  stmt.bind(1, id);
  return stmt.step();
}

util::Status touch_campaign(sqlite3* db, std::int64_t id) {
  KT_TRY(auto stmt, Statement::prepare(db, fmt::format("UPDATE campaigns SET updated_at = {} WHERE id = ?", kNow)));
  stmt.bind(1, id);
  return stmt.run();
}

util::Status validate_trial(const TrialRecord& t) {
  if (t.status != "ok" && t.status != "failed")
    return util::invalid_input(fmt::format("trial {}: status must be ok or failed, got '{}'", t.seq, t.status));
  if (t.status == "failed" && t.failure_stage.empty())
    return util::invalid_input(fmt::format("trial {}: a failed trial needs a failure stage", t.seq));
  if (t.kind.empty()) return util::invalid_input(fmt::format("trial {}: empty kind", t.seq));
  if (t.seq < 0) return util::invalid_input(fmt::format("trial {}: negative seq", t.seq));
  KT_TRY_STATUS(check_json_object(t.params_json, fmt::format("trial {} params", t.seq)));
  KT_TRY_STATUS(check_json_object(t.effective_json, fmt::format("trial {} effective assignment", t.seq)));
  for (const auto& m : t.measurements) {
    if (m.metric.empty()) return util::invalid_input(fmt::format("trial {}: measurement without metric name", t.seq));
    if (!std::isfinite(m.value))
      return util::invalid_input(fmt::format("trial {}: metric '{}' repeat {} is not a finite number", t.seq, m.metric,
                                             m.repeat));
  }
  for (const auto& [stage, seconds] : t.timings)
    if (!std::isfinite(seconds))
      return util::invalid_input(fmt::format("trial {}: timing '{}' is not a finite number", t.seq, stage));
  return {};
}

}  // namespace

util::Result<std::optional<CampaignRow>> Store::find_campaign(const std::string& name) {
  KT_TRY(auto stmt, Statement::prepare(db_, fmt::format("SELECT {} FROM campaigns WHERE name = ?", kCampaignColumns)));
  stmt.bind_text(1, name);
  KT_TRY(bool row, stmt.step());
  if (!row) return std::optional<CampaignRow>();
  return std::optional<CampaignRow>(read_campaign(stmt));
}

util::Result<std::vector<CampaignRow>> Store::campaigns() {
  KT_TRY(auto stmt, Statement::prepare(db_, fmt::format("SELECT {} FROM campaigns ORDER BY id", kCampaignColumns)));
  std::vector<CampaignRow> out;
  while (true) {
    KT_TRY(bool row, stmt.step());
    if (!row) return out;
    out.push_back(read_campaign(stmt));
  }
}

util::Result<CampaignRow> Store::create_campaign(const CampaignRow& row) {
  if (auto why = util::name_text_problem(row.name))
    return util::invalid_input(fmt::format("'{}' cannot name a campaign: {}", util::printable(row.name), *why));
  KT_TRY_STATUS(check_json_object(row.metadata_json, "campaign metadata"));
  KT_TRY(auto tx, Transaction::begin(db_, Transaction::Mode::write));
  KT_TRY(auto existing, find_campaign(row.name));
  if (existing)
    return util::invalid_input(fmt::format("{}: a campaign named '{}' already exists", detail::db_path(db_), row.name));
  KT_TRY(auto stmt, Statement::prepare(
                        db_, fmt::format("INSERT INTO campaigns (name, recipe_path, recipe_text, recipe_hash, seed, "
                                         "status, created_at, updated_at, metadata_json) "
                                         "VALUES (?, ?, ?, ?, ?, 'running', {0}, {0}, ?)",
                                         kNow)));
  stmt.bind_text(1, row.name)
      .bind_text(2, row.recipe_path)
      .bind_text(3, row.recipe_text)
      .bind_text(4, row.recipe_hash)
      .bind(5, to_sql(row.seed))
      .bind_text(6, row.metadata_json);
  KT_TRY_STATUS(stmt.run());
  KT_TRY(auto created, find_campaign(row.name));
  KT_TRY_STATUS(tx.commit());
  if (!created) return util::fail("campaign vanished after insert", Error::Kind::internal);
  return *created;
}

util::Status Store::set_campaign_status(std::int64_t campaign_id, const std::string& status) {
  if (!valid_campaign_status(status))
    return util::invalid_input(fmt::format("campaign status must be running, stopped, finished or failed, got '{}'", status));
  KT_TRY(auto stmt, Statement::prepare(
                        db_, fmt::format("UPDATE campaigns SET status = ?, updated_at = {} WHERE id = ?", kNow)));
  stmt.bind_text(1, status).bind(2, campaign_id);
  KT_TRY_STATUS(stmt.run());
  if (sqlite3_changes(db_) == 0) return util::invalid_input(fmt::format("no campaign with id {}", campaign_id));
  return {};
}

util::Status Store::set_campaign_metadata(std::int64_t campaign_id, const std::string& metadata_json) {
  KT_TRY_STATUS(check_json_object(metadata_json, "campaign metadata"));
  KT_TRY(auto stmt, Statement::prepare(
                        db_, fmt::format("UPDATE campaigns SET metadata_json = ?, updated_at = {} WHERE id = ?", kNow)));
  stmt.bind_text(1, metadata_json).bind(2, campaign_id);
  KT_TRY_STATUS(stmt.run());
  if (sqlite3_changes(db_) == 0) return util::invalid_input(fmt::format("no campaign with id {}", campaign_id));
  return {};
}

util::Result<std::int64_t> Store::insert_trial(const TrialRecord& trial, const std::vector<ArtifactRow>& artifacts) {
  KT_TRY_STATUS(validate_trial(trial));
  KT_TRY(auto tx, Transaction::begin(db_, Transaction::Mode::write));
  KT_TRY(bool campaign_found, campaign_exists(db_, trial.campaign_id));
  if (!campaign_found) return util::invalid_input(fmt::format("no campaign with id {}", trial.campaign_id));
  {
    KT_TRY(auto dup, Statement::prepare(db_, "SELECT 1 FROM trials WHERE campaign_id = ? AND seq = ?"));
    dup.bind(1, trial.campaign_id).bind(2, static_cast<std::int64_t>(trial.seq));
    KT_TRY(bool exists, dup.step());
    if (exists)
      return util::invalid_input(fmt::format("{}: campaign {} already has a trial with seq {}", detail::db_path(db_),
                                             trial.campaign_id, trial.seq));
  }
  KT_TRY(auto insert, Statement::prepare(
                          db_, "INSERT INTO trials (campaign_id, seq, kind, status, params_json, effective_json, "
                               "failure_stage, failure_reason, timings_json, worker, started_at, finished_at) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  nlohmann::json timings(trial.timings);
  insert.bind(1, trial.campaign_id)
      .bind(2, static_cast<std::int64_t>(trial.seq))
      .bind_text(3, trial.kind)
      .bind_text(4, trial.status)
      .bind_text(5, trial.params_json)
      .bind_text(6, trial.effective_json)
      .bind_text(7, util::valid_utf8(trial.failure_stage))
      .bind_text(8, util::valid_utf8(trial.failure_reason))
      .bind_text(9, util::dump_json(timings))
      .bind_text(10, util::valid_utf8(trial.worker))
      .bind(11, trial.started_at)
      .bind(12, trial.finished_at);
  KT_TRY_STATUS(insert.run());
  std::int64_t trial_id = sqlite3_last_insert_rowid(db_);

  KT_TRY(auto measure, Statement::prepare(
                           db_, "INSERT INTO measurements (trial_id, metric, repeat, value, unit) VALUES (?, ?, ?, ?, ?)"));
  for (const auto& m : trial.measurements) {
    measure.bind(1, trial_id).bind_text(2, util::valid_utf8(m.metric)).bind(3, static_cast<std::int64_t>(m.repeat));
    measure.bind(4, m.value).bind_text(5, util::valid_utf8(m.unit));
    KT_TRY_STATUS(measure.run());
    measure.reset();
  }
  KT_TRY(auto artifact,
         Statement::prepare(db_, "INSERT INTO artifacts (trial_id, name, content, size) VALUES (?, ?, ?, ?)"));
  for (const auto* list : {&trial.artifacts, &artifacts}) {
    for (const auto& a : *list) {
      artifact.bind(1, trial_id).bind_text(2, util::valid_utf8(a.name)).bind_blob(3, a.content);
      artifact.bind(4, static_cast<std::int64_t>(a.content.size()));
      KT_TRY_STATUS(artifact.run());
      artifact.reset();
    }
  }
  KT_TRY_STATUS(touch_campaign(db_, trial.campaign_id));
  KT_TRY_STATUS(tx.commit());
  return trial_id;
}

util::Result<std::vector<TrialRecord>> Store::trials(std::int64_t campaign_id) {
  // One read transaction: trials and measurements come from the same snapshot.
  KT_TRY(auto tx, Transaction::begin(db_, Transaction::Mode::read));
  std::vector<TrialRecord> out;
  std::unordered_map<std::int64_t, std::size_t> index;
  KT_TRY(auto stmt, Statement::prepare(
                        db_, "SELECT id, campaign_id, seq, kind, status, params_json, effective_json, failure_stage, "
                             "failure_reason, timings_json, worker, started_at, finished_at "
                             "FROM trials WHERE campaign_id = ? ORDER BY seq"));
  stmt.bind(1, campaign_id);
  while (true) {
    KT_TRY(bool row, stmt.step());
    if (!row) break;
    TrialRecord t;
    t.id = stmt.column_int64(0);
    t.campaign_id = stmt.column_int64(1);
    t.seq = static_cast<int>(stmt.column_int64(2));
    t.kind = stmt.column_text(3);
    t.status = stmt.column_text(4);
    t.params_json = stmt.column_text(5);
    t.effective_json = stmt.column_text(6);
    t.failure_stage = stmt.column_text(7);
    t.failure_reason = stmt.column_text(8);
    auto timings = nlohmann::json::parse(stmt.column_text(9), nullptr, false);
    if (timings.is_discarded() || !timings.is_object())
      return util::io_error(fmt::format("{}: trial seq {} has malformed timings_json", detail::db_path(db_), t.seq));
    for (const auto& [stage, seconds] : timings.items()) {
      if (!seconds.is_number())
        return util::io_error(
            fmt::format("{}: trial seq {} timing '{}' is not a number", detail::db_path(db_), t.seq, stage));
      t.timings[stage] = seconds.get<double>();
    }
    t.worker = stmt.column_text(10);
    t.started_at = stmt.column_double(11);
    t.finished_at = stmt.column_double(12);
    index[t.id] = out.size();
    out.push_back(std::move(t));
  }
  KT_TRY(auto measure, Statement::prepare(
                           db_, "SELECT m.trial_id, m.metric, m.repeat, m.value, m.unit FROM measurements m "
                                "JOIN trials t ON t.id = m.trial_id WHERE t.campaign_id = ? ORDER BY m.id"));
  measure.bind(1, campaign_id);
  while (true) {
    KT_TRY(bool row, measure.step());
    if (!row) break;
    auto it = index.find(measure.column_int64(0));
    if (it == index.end()) continue;  // cannot happen within one snapshot
    out[it->second].measurements.push_back(Measurement{measure.column_text(1),
                                                       static_cast<int>(measure.column_int64(2)),
                                                       measure.column_double(3), measure.column_text(4)});
  }
  return out;
}

util::Result<std::vector<ArtifactRow>> Store::trial_artifacts(std::int64_t trial_id) {
  KT_TRY(auto stmt, Statement::prepare(db_, "SELECT name, content FROM artifacts WHERE trial_id = ? ORDER BY id"));
  stmt.bind(1, trial_id);
  std::vector<ArtifactRow> out;
  while (true) {
    KT_TRY(bool row, stmt.step());
    if (!row) return out;
    out.push_back(ArtifactRow{stmt.column_text(0), stmt.column_blob(1)});
  }
}

util::Status Store::add_event(std::int64_t campaign_id, const std::string& level, const std::string& message) {
  if (level != "info" && level != "warn" && level != "error")
    return util::invalid_input(fmt::format("event level must be info, warn or error, got '{}'", level));
  KT_TRY(auto stmt, Statement::prepare(db_, "INSERT INTO events (campaign_id, at, level, message) VALUES (?, ?, ?, ?)"));
  stmt.bind(1, campaign_id).bind(2, now_unix()).bind_text(3, level).bind_text(4, util::valid_utf8(message));
  return stmt.run();
}

util::Result<std::vector<EventRow>> Store::events(std::int64_t campaign_id) {
  KT_TRY(auto stmt,
         Statement::prepare(db_, "SELECT id, at, level, message FROM events WHERE campaign_id = ? ORDER BY id"));
  stmt.bind(1, campaign_id);
  std::vector<EventRow> out;
  while (true) {
    KT_TRY(bool row, stmt.step());
    if (!row) return out;
    out.push_back(EventRow{stmt.column_int64(0), stmt.column_double(1), stmt.column_text(2), stmt.column_text(3)});
  }
}

util::Result<std::string> Store::integrity_check() {
  KT_TRY(auto stmt, Statement::prepare(db_, "PRAGMA integrity_check"));
  std::string out;
  while (true) {
    KT_TRY(bool row, stmt.step());
    if (!row) return out;
    if (!out.empty()) out += '\n';
    out += stmt.column_text(0);
  }
}

}  // namespace kerntune::store
