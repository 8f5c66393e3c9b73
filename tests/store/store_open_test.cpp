// Opening: migrations from older schemas, refusing files that are not ours
// (byte for byte unmodified), newer schemas, read-only handles.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "kerntune/store/schema.hpp"
#include "kerntune/store/store.hpp"
#include "temp_dir.hpp"

namespace kerntune::store {
namespace {

using testing::RawDb;
using testing::slurp;
using testing::spit;
using testing::TempDir;
namespace fs = std::filesystem;

// Builds a version-1 store exactly as a v1 kerntune wrote it: the v1 DDL,
// user_version 1, our application_id, and some data in v1 shape.
void make_v1_store(const std::string& path) {
  RawDb raw(path);
  ASSERT_EQ(raw.exec("PRAGMA journal_mode = WAL"), "");
  ASSERT_EQ(migrations()[0].version, 1);
  ASSERT_EQ(raw.exec("BEGIN"), "");
  ASSERT_EQ(raw.exec(migrations()[0].sql), "");
  ASSERT_EQ(raw.exec("PRAGMA user_version = 1; PRAGMA application_id = " + std::to_string(kApplicationId)), "");
  ASSERT_EQ(raw.exec("INSERT INTO campaigns (name, recipe_text, seed, status, created_at, updated_at) "
                     "VALUES ('old', 'name: old', 11, 'stopped', '2025-01-01T00:00:00.000Z', "
                     "'2025-01-01T00:00:00.000Z');"
                     "INSERT INTO trials (campaign_id, seq, kind, status, params_json, timings_json) "
                     "VALUES (1, 0, 'baseline', 'ok', '{\"x\":0}', '{\"boot\":2.5}');"
                     "INSERT INTO measurements (trial_id, metric, repeat, value, unit) VALUES "
                     "(1, 'y', 0, 4.5, 'ms'), (1, 'y', 1, 4.75, 'ms');"
                     "INSERT INTO artifacts (trial_id, name, content, size) VALUES (1, 'log', x'00ff', 2);"
                     "INSERT INTO events (campaign_id, at, level, message) VALUES (1, 1700000000, 'info', 'hi');"),
            "");
  ASSERT_EQ(raw.exec("COMMIT"), "");
}

// Every file in the folder with its bytes: proves a refusal touched nothing
// (no rewritten header, no -wal/-shm/-journal left behind).
// Name → "size:hash" (not the bytes, so a failure prints readably).
std::map<std::string, std::string> snapshot(const TempDir& dir) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    std::string bytes = slurp(entry.path().string());
    out[entry.path().filename().string()] =
        std::to_string(bytes.size()) + ":" + std::to_string(std::hash<std::string>{}(bytes));
  }
  return out;
}

void expect_refused(const std::string& path, const std::string& needle, OpenOptions options = {}) {
  auto store = Store::open(path, options);
  ASSERT_FALSE(store) << path << " was accepted";
  EXPECT_EQ(store.error().kind, util::Error::Kind::invalid_input);
  EXPECT_EQ(store.error().file, path);
  EXPECT_NE(store.error().format().find(path), std::string::npos) << store.error().format();
  EXPECT_NE(store.error().message.find(needle), std::string::npos) << store.error().message;
}

TEST(StoreOpen, MigratesV1StorePreservingData) {
  TempDir dir;
  std::string path = dir.file("old.db");
  make_v1_store(path);
  {
    RawDb raw(path, SQLITE_OPEN_READONLY);
    ASSERT_EQ(raw.scalar("PRAGMA user_version"), "1");
  }
  // A read-only handle must not migrate; it says how to get there.
  expect_refused(path, "needs migrating", {.read_only = true});

  auto store = Store::open(path);
  ASSERT_TRUE(store) << store.error().format();
  EXPECT_EQ(store->user_version(), Store::schema_version());
  ASSERT_GE(Store::schema_version(), 2);

  auto campaign = store->find_campaign("old");
  ASSERT_TRUE(campaign && campaign->has_value());
  EXPECT_EQ((*campaign)->seed, 11u);
  EXPECT_EQ((*campaign)->status, "stopped");
  EXPECT_EQ((*campaign)->recipe_text, "name: old");
  EXPECT_EQ((*campaign)->metadata_json, "{}");  // the v2 column, defaulted

  auto trials = store->trials((*campaign)->id);
  ASSERT_TRUE(trials) << trials.error().format();
  ASSERT_EQ(trials->size(), 1u);
  EXPECT_EQ((*trials)[0].params_json, R"({"x":0})");
  EXPECT_EQ((*trials)[0].timings.at("boot"), 2.5);
  ASSERT_EQ((*trials)[0].measurements.size(), 2u);
  EXPECT_EQ((*trials)[0].measurements[1].value, 4.75);
  auto artifacts = store->trial_artifacts((*trials)[0].id);
  ASSERT_TRUE(artifacts && artifacts->size() == 1);
  EXPECT_EQ((*artifacts)[0].content, std::string("\0\xff", 2));
  auto events = store->events((*campaign)->id);
  ASSERT_TRUE(events && events->size() == 1);
  EXPECT_EQ((*events)[0].message, "hi");

  // The v2 indexes exist, and the migrated store takes new writes.
  RawDb raw(path, SQLITE_OPEN_READONLY);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN "
                       "('measurements_by_trial', 'artifacts_by_trial', 'events_by_campaign')"),
            "3");
  TrialRecord t;
  t.campaign_id = (*campaign)->id;
  t.seq = 1;
  t.status = "ok";
  ASSERT_TRUE(store->insert_trial(t, {}));
  auto ok = store->integrity_check();
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, "ok");
}

// A --db in a folder that does not exist: SQLite cannot create the file, an
// infrastructure failure (io, exit 1), not a malformed store; nothing is made.
TEST(StoreOpen, APathInAFolderThatDoesNotExistIsAnIoFailure) {
  TempDir dir;
  const std::string folder = dir.file("no-such-folder");
  auto store = Store::open(folder + "/k.db");
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().kind, util::Error::Kind::io) << store.error().format();
  EXPECT_NE(store.error().message.find("cannot open database"), std::string::npos) << store.error().message;
  EXPECT_FALSE(fs::exists(folder));
}

TEST(StoreOpen, FailedMigrationRollsBackToThePreviousVersion) {
  TempDir dir;
  std::string path = dir.file("old.db");
  make_v1_store(path);
  {
    // Sabotage: an object the v2 migration wants to create already exists.
    RawDb raw(path);
    ASSERT_EQ(raw.exec("CREATE INDEX artifacts_by_trial ON artifacts(name)"), "");
  }
  auto store = Store::open(path);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().kind, util::Error::Kind::io);
  EXPECT_NE(store.error().message.find("schema version 2"), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().message.find("artifacts_by_trial"), std::string::npos) << store.error().message;

  RawDb raw(path, SQLITE_OPEN_READONLY);
  EXPECT_EQ(raw.scalar("PRAGMA user_version"), "1");
  // The ALTER TABLE that ran before the failing statement was rolled back too.
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM pragma_table_info('campaigns') WHERE name = 'metadata_json'"), "0");
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM trials"), "1");
}

TEST(StoreOpen, RefusesRandomBinaryFileUnmodified) {
  TempDir dir;
  std::string path = dir.file("random.bin");
  std::mt19937 rng(7);
  std::string bytes(8192, '\0');
  for (auto& b : bytes) b = static_cast<char>(rng());
  spit(path, bytes);
  auto before = snapshot(dir);
  expect_refused(path, "file is not a database");
  expect_refused(path, "file is not a database", {.read_only = true});
  EXPECT_EQ(snapshot(dir), before);

  std::string text = dir.file("notes.txt");
  spit(text, "hello\n");  // shorter than the SQLite header
  before = snapshot(dir);
  expect_refused(text, "file is not a database");
  EXPECT_EQ(snapshot(dir), before);
}

TEST(StoreOpen, RefusesSqliteHeaderOnGarbageUnmodified) {
  TempDir dir;
  std::string path = dir.file("fake.db");
  std::string bytes("SQLite format 3\0", 16);
  bytes += std::string(4096, '\x5a');  // a header SQLite will reject
  spit(path, bytes);
  auto before = snapshot(dir);
  expect_refused(path, "not a database");
  EXPECT_EQ(snapshot(dir), before);
}

TEST(StoreOpen, RefusesForeignSqliteDatabasesUnmodified) {
  for (const char* journal : {"DELETE", "WAL"}) {
    SCOPED_TRACE(journal);
    TempDir dir;
    std::string path = dir.file("app.db");
    {
      RawDb raw(path);
      ASSERT_EQ(raw.exec(std::string("PRAGMA journal_mode = ") + journal), "");
      ASSERT_EQ(raw.exec("CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT);"
                         "INSERT INTO contacts (name) VALUES ('ada'), ('linus');"),
                "");
    }
    auto before = snapshot(dir);
    expect_refused(path, "not a kerntune store");
    expect_refused(path, "contacts");
    expect_refused(path, "not a kerntune store", {.read_only = true});
    EXPECT_EQ(snapshot(dir), before);
  }
}

TEST(StoreOpen, RefusesStoreFromNewerKerntuneUnmodified) {
  TempDir dir;
  std::string path = dir.file("kt.db");
  ASSERT_TRUE(Store::open(path));
  {
    RawDb raw(path);
    ASSERT_EQ(raw.exec("PRAGMA user_version = " + std::to_string(Store::schema_version() + 1)), "");
  }
  auto before = snapshot(dir);
  expect_refused(path, "newer kerntune");
  expect_refused(path, "newer kerntune", {.read_only = true});
  EXPECT_EQ(snapshot(dir), before);
}

TEST(StoreOpen, EmptyOrMissingFiles) {
  TempDir dir;
  // A 0-byte file is what `touch` or a crashed sqlite3 leaves: a new store.
  std::string empty = dir.file("empty.db");
  spit(empty, "");
  expect_refused(empty, "empty file", {.read_only = true});
  auto store = Store::open(empty);
  ASSERT_TRUE(store) << store.error().format();
  EXPECT_EQ(store->user_version(), Store::schema_version());
  {
    RawDb raw(empty, SQLITE_OPEN_READONLY);
    EXPECT_EQ(raw.scalar("PRAGMA application_id"), std::to_string(kApplicationId));
    EXPECT_EQ(raw.scalar("PRAGMA journal_mode"), "wal");
    EXPECT_EQ(raw.scalar("SELECT value FROM kerntune_meta WHERE key = 'format'"), "kerntune-store");
  }

  std::string missing = dir.file("missing.db");
  expect_refused(missing, "no such kerntune store", {.read_only = true});
  expect_refused(missing, "no such kerntune store", {.create = false});
  EXPECT_FALSE(fs::exists(missing));
  expect_refused(dir.path().string(), "not a regular file");

  // A second handle, read-only, opens the now-initialised store.
  auto reader = Store::open(empty, {.read_only = true});
  ASSERT_TRUE(reader) << reader.error().format();
  EXPECT_EQ(reader->user_version(), Store::schema_version());
}

}  // namespace
}  // namespace kerntune::store
