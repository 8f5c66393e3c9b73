// Campaign and trial round trips through a real SQLite file.
#include <gtest/gtest.h>

#include <chrono>
#include <limits>

#include "kerntune/store/store.hpp"
#include "temp_dir.hpp"

namespace kerntune::store {
namespace {

using testing::RawDb;
using testing::TempDir;

Store open_store(const std::string& path, OpenOptions options = {}) {
  auto store = Store::open(path, options);
  if (!store) throw std::runtime_error(store.error().format());
  return std::move(*store);
}

CampaignRow demo_campaign(const std::string& name = "demo") {
  CampaignRow row;
  row.name = name;
  row.recipe_path = "/recipes/demo.yaml";
  row.recipe_text = "name: demo\nseed: 3\n";
  row.recipe_hash = "abc123";
  row.seed = 3;
  return row;
}

TrialRecord make_trial(std::int64_t campaign, int seq, int repeats = 3) {
  TrialRecord t;
  t.campaign_id = campaign;
  t.seq = seq;
  t.kind = seq == 0 ? "baseline" : "proposal";
  t.status = "ok";
  t.params_json = R"({"x":)" + std::to_string(seq) + "}";
  t.effective_json = R"({"x":)" + std::to_string(seq) + R"(,"extra":"on"})";
  t.timings = {{"boot", 1.5 + seq}, {"workload", 0.25}};
  t.worker = "w" + std::to_string(seq % 2);
  t.started_at = 1700000000.5 + seq;
  t.finished_at = 1700000010.25 + seq;
  for (int r = 0; r < repeats; ++r) {
    t.measurements.push_back({"y", r, 10.0 * seq + r, "ms"});
    t.measurements.push_back({"mem", r, 100.0 + r, "MB"});
  }
  return t;
}

TEST(Store, CreatesFindsAndUpdatesCampaigns) {
  TempDir dir;
  Store store = open_store(dir.file("kt.db"));
  EXPECT_EQ(store.user_version(), Store::schema_version());

  auto missing = store.find_campaign("demo");
  ASSERT_TRUE(missing) << missing.error().format();
  EXPECT_FALSE(missing->has_value());

  CampaignRow row = demo_campaign();
  row.seed = std::numeric_limits<std::uint64_t>::max() - 7;  // above INT64_MAX: stored bit for bit
  row.metadata_json = R"({"kernel":"6.1"})";
  auto created = store.create_campaign(row);
  ASSERT_TRUE(created) << created.error().format();
  EXPECT_GT(created->id, 0);
  EXPECT_EQ(created->status, "running");
  EXPECT_EQ(created->seed, row.seed);
  EXPECT_EQ(created->recipe_text, row.recipe_text);
  EXPECT_EQ(created->metadata_json, row.metadata_json);
  EXPECT_EQ(created->created_at.size(), std::string("2026-01-01T00:00:00.000Z").size()) << created->created_at;
  EXPECT_EQ(created->created_at.back(), 'Z');

  auto again = store.create_campaign(row);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("already exists"), std::string::npos) << again.error().message;

  ASSERT_TRUE(store.create_campaign(demo_campaign("second")));
  auto all = store.campaigns();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "demo");
  EXPECT_EQ((*all)[1].name, "second");

  ASSERT_TRUE(store.set_campaign_status(created->id, "finished"));
  ASSERT_TRUE(store.set_campaign_metadata(created->id, R"({"kernel":"6.1","dirty":true})"));
  auto found = store.find_campaign("demo");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->status, "finished");
  EXPECT_EQ((*found)->metadata_json, R"({"kernel":"6.1","dirty":true})");
  EXPECT_GE((*found)->updated_at, (*found)->created_at);

  EXPECT_FALSE(store.set_campaign_status(created->id, "paused"));
  EXPECT_FALSE(store.set_campaign_status(9999, "stopped"));
  EXPECT_FALSE(store.set_campaign_metadata(created->id, "not json"));
  EXPECT_FALSE(store.create_campaign(demo_campaign("")));
}

TEST(Store, TrialsRoundTripOrderedBySeq) {
  TempDir dir;
  std::string path = dir.file("kt.db");
  std::int64_t campaign_id = 0;
  {
    Store store = open_store(path);
    auto c = store.create_campaign(demo_campaign());
    ASSERT_TRUE(c);
    campaign_id = c->id;
    for (int seq : {2, 0, 1}) {
      TrialRecord t = make_trial(campaign_id, seq);
      std::vector<ArtifactRow> logs;
      if (seq == 1) {
        t.status = "failed";
        t.failure_stage = "workload";
        t.failure_reason = "exit code 3";
        t.measurements.clear();
        logs.push_back({"console.log", std::string("boot\0ok\xff\n", 9)});
        logs.push_back({"empty.log", ""});
      }
      auto id = store.insert_trial(t, logs);
      ASSERT_TRUE(id) << id.error().format();
    }
    ASSERT_TRUE(store.add_event(campaign_id, "info", "baseline done"));
    ASSERT_TRUE(store.add_event(campaign_id, "warn", "slow host"));
    EXPECT_FALSE(store.add_event(campaign_id, "debug", "x"));
  }
  // Reopen: everything came from the file.
  Store store = open_store(path, {.create = false, .read_only = true});
  auto trials = store.trials(campaign_id);
  ASSERT_TRUE(trials) << trials.error().format();
  ASSERT_EQ(trials->size(), 3u);
  for (int seq = 0; seq < 3; ++seq) {
    const TrialRecord& got = (*trials)[static_cast<std::size_t>(seq)];
    TrialRecord want = make_trial(campaign_id, seq);
    EXPECT_EQ(got.seq, seq);
    EXPECT_EQ(got.campaign_id, campaign_id);
    EXPECT_EQ(got.kind, want.kind);
    EXPECT_EQ(got.params_json, want.params_json);
    EXPECT_EQ(got.effective_json, want.effective_json);
    EXPECT_EQ(got.timings, want.timings);
    EXPECT_EQ(got.worker, want.worker);
    EXPECT_DOUBLE_EQ(got.started_at, want.started_at);
    EXPECT_DOUBLE_EQ(got.finished_at, want.finished_at);
    EXPECT_TRUE(got.artifacts.empty());
    if (seq == 1) {
      EXPECT_EQ(got.status, "failed");
      EXPECT_EQ(got.failure_stage, "workload");
      EXPECT_EQ(got.failure_reason, "exit code 3");
      EXPECT_TRUE(got.measurements.empty());
      auto artifacts = store.trial_artifacts(got.id);
      ASSERT_TRUE(artifacts);
      ASSERT_EQ(artifacts->size(), 2u);
      EXPECT_EQ((*artifacts)[0].name, "console.log");
      EXPECT_EQ((*artifacts)[0].content, std::string("boot\0ok\xff\n", 9));
      EXPECT_EQ((*artifacts)[1].content, "");
      continue;
    }
    EXPECT_EQ(got.status, "ok");
    ASSERT_EQ(got.measurements.size(), want.measurements.size());
    for (std::size_t i = 0; i < want.measurements.size(); ++i) {
      EXPECT_EQ(got.measurements[i].metric, want.measurements[i].metric);
      EXPECT_EQ(got.measurements[i].repeat, want.measurements[i].repeat);
      EXPECT_DOUBLE_EQ(got.measurements[i].value, want.measurements[i].value);
      EXPECT_EQ(got.measurements[i].unit, want.measurements[i].unit);
    }
  }
  auto events = store.events(campaign_id);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].level, "warn");
  EXPECT_EQ((*events)[1].message, "slow host");
  auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR((*events)[0].at, now, 60.0);

  auto other = store.trials(campaign_id + 100);
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->empty());
  auto ok = store.integrity_check();
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, "ok");
}

TEST(Store, DuplicateSeqRefusedWithoutPartialWrites) {
  TempDir dir;
  std::string path = dir.file("kt.db");
  Store store = open_store(path);
  auto c = store.create_campaign(demo_campaign());
  ASSERT_TRUE(c);
  ASSERT_TRUE(store.insert_trial(make_trial(c->id, 1), {{"a.log", "first"}}));

  TrialRecord dup = make_trial(c->id, 1, 5);
  dup.params_json = R"({"x":99})";
  auto again = store.insert_trial(dup, {{"b.log", "second"}});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, util::Error::Kind::invalid_input);
  EXPECT_NE(again.error().message.find("seq 1"), std::string::npos) << again.error().message;

  RawDb raw(path, SQLITE_OPEN_READONLY);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM trials"), "1");
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM measurements"), "6");
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM artifacts"), "1");
  EXPECT_EQ(raw.scalar("SELECT params_json FROM trials"), R"({"x":1})");

  // Unknown campaign and malformed records are refused the same way.
  EXPECT_FALSE(store.insert_trial(make_trial(c->id + 7, 2), {}));
  TrialRecord bad = make_trial(c->id, 3);
  bad.status = "failed";  // no stage
  EXPECT_FALSE(store.insert_trial(bad, {}));
  bad = make_trial(c->id, 3);
  bad.params_json = "[1,2]";
  EXPECT_FALSE(store.insert_trial(bad, {}));
  bad = make_trial(c->id, 3);
  bad.measurements[0].value = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(store.insert_trial(bad, {}));
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM trials"), "1");
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM measurements"), "6");
}

TEST(Store, ForeignKeysAreEnforced) {
  TempDir dir;
  Store store = open_store(dir.file("kt.db"));
  char* msg = nullptr;
  int rc = sqlite3_exec(store.handle(), "INSERT INTO measurements (trial_id, metric, repeat, value) VALUES (42, 'y', 0, 1)",
                        nullptr, nullptr, &msg);
  sqlite3_free(msg);
  EXPECT_EQ(rc & 0xff, SQLITE_CONSTRAINT);
}

}  // namespace
}  // namespace kerntune::store
