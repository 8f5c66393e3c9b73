// Concurrency and failure: WAL readers beside a writer, the busy timeout,
// a full disk, and SIGKILL in the middle of a stream of trials.
#include <gtest/gtest.h>

#include <cstdio>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "kerntune/store/store.hpp"
#include "temp_dir.hpp"

namespace kerntune::store {
namespace {

using testing::RawDb;
using testing::TempDir;
using Clock = std::chrono::steady_clock;

std::int64_t new_campaign(Store& store) {
  CampaignRow row;
  row.name = "c";
  auto c = store.create_campaign(row);
  if (!c) throw std::runtime_error(c.error().format());
  return c->id;
}

TrialRecord trial(std::int64_t campaign, int seq, int repeats) {
  TrialRecord t;
  t.campaign_id = campaign;
  t.seq = seq;
  t.status = "ok";
  for (int r = 0; r < repeats; ++r) t.measurements.push_back({"y", r, seq + r * 0.5, "s"});
  return t;
}

TEST(StoreDurability, ReaderReadsWhileWriterHoldsWriteTransaction) {
  TempDir dir;
  std::string path = dir.file("kt.db");
  auto writer = Store::open(path);
  ASSERT_TRUE(writer) << writer.error().format();
  std::int64_t campaign = new_campaign(*writer);
  ASSERT_TRUE(writer->insert_trial(trial(campaign, 0, 2), {}));

  // The writer's connection opens a write transaction and leaves it open with
  // an uncommitted trial inside.
  ASSERT_EQ(sqlite3_exec(writer->handle(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(writer->handle(),
                         "INSERT INTO trials (campaign_id, seq, kind, status) VALUES (1, 1, 'proposal', 'ok')",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);

  auto start = Clock::now();
  auto reader = Store::open(path, {.read_only = true, .busy_timeout_ms = 5000});
  ASSERT_TRUE(reader) << reader.error().format();
  auto seen = reader->trials(campaign);
  ASSERT_TRUE(seen) << seen.error().format();
  EXPECT_EQ(seen->size(), 1u);  // committed data only
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2)) << "the reader waited for the writer";

  // A read-only handle really is read-only.
  EXPECT_FALSE(reader->add_event(campaign, "info", "x"));

  // The reader holds a read transaction; the writer still commits.
  ASSERT_EQ(sqlite3_exec(reader->handle(), "BEGIN; SELECT count(*) FROM trials", nullptr, nullptr, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(writer->handle(), "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_TRUE(writer->insert_trial(trial(campaign, 2, 1), {}));
  ASSERT_EQ(sqlite3_exec(reader->handle(), "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  seen = reader->trials(campaign);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->size(), 3u);
}

// The lock held past the busy timeout is a deadline that passed: timeout
// (exit 1 like io; a caller may retry), not bad input.
TEST(StoreDurability, BusyBeyondTimeoutIsATimeoutError) {
  TempDir dir;
  std::string path = dir.file("kt.db");
  auto first = Store::open(path);
  ASSERT_TRUE(first);
  std::int64_t campaign = new_campaign(*first);
  auto second = Store::open(path, {.busy_timeout_ms = 200});
  ASSERT_TRUE(second);

  ASSERT_EQ(sqlite3_exec(first->handle(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto start = Clock::now();
  auto id = second->insert_trial(trial(campaign, 0, 1), {});
  auto waited = Clock::now() - start;
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().kind, util::Error::Kind::timeout);
  EXPECT_NE(id.error().message.find("database is locked"), std::string::npos) << id.error().message;
  EXPECT_NE(id.error().message.find(path), std::string::npos) << id.error().message;
  EXPECT_GE(waited, std::chrono::milliseconds(150));
  ASSERT_EQ(sqlite3_exec(first->handle(), "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_TRUE(second->insert_trial(trial(campaign, 0, 1), {}));
}

TEST(StoreDurability, FullDatabaseIsAnIoErrorAndWritesNothing) {
  TempDir dir;
  std::string path = dir.file("kt.db");
  auto store = Store::open(path);
  ASSERT_TRUE(store);
  std::int64_t campaign = new_campaign(*store);
  ASSERT_TRUE(store->insert_trial(trial(campaign, 0, 3), {}));
  // Cap the file at its current size: SQLite then fails with SQLITE_FULL,
  // the same code a full disk gives.
  ASSERT_EQ(sqlite3_exec(store->handle(), "PRAGMA max_page_count = 1", nullptr, nullptr, nullptr), SQLITE_OK);
  std::string big(1 << 20, 'x');
  auto id = store->insert_trial(trial(campaign, 1, 3), {{"huge.log", big}});
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().kind, util::Error::Kind::io);
  EXPECT_NE(id.error().message.find("full"), std::string::npos) << id.error().message;

  RawDb raw(path, SQLITE_OPEN_READONLY);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM trials"), "1");
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM measurements"), "3");
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM artifacts"), "0");
}

TEST(StoreDurability, SigkillLosesNothingCommitted) {
  TempDir dir;
  std::string path = dir.file("kt.db");
  {
    auto store = Store::open(path);
    ASSERT_TRUE(store);
    new_campaign(*store);
  }
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Child: write trials forever, reporting each seq after its commit.
    ::close(fds[0]);
    auto store = Store::open(path);
    if (!store) ::_exit(3);
    for (int seq = 0;; ++seq) {
      std::string log(4096 + seq, 'a' + static_cast<char>(seq % 26));
      if (!store->insert_trial(trial(1, seq, 20), {{"log", log}})) ::_exit(4);
      if (::write(fds[1], &seq, sizeof seq) != sizeof seq) ::_exit(5);
    }
  }
  ::close(fds[1]);
  int last = -1;
  while (last < 30) {
    int seq = 0;
    ASSERT_EQ(::read(fds[0], &seq, sizeof seq), static_cast<ssize_t>(sizeof seq)) << "writer died early";
    last = seq;
  }
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  ::close(fds[0]);

  auto store = Store::open(path);
  ASSERT_TRUE(store) << store.error().format();
  auto ok = store->integrity_check();
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, "ok");
  auto trials = store->trials(1);
  ASSERT_TRUE(trials);
  // Every trial reported as committed is there; any trial there is whole.
  ASSERT_GT(trials->size(), static_cast<std::size_t>(last));
  for (std::size_t i = 0; i < trials->size(); ++i) {
    EXPECT_EQ((*trials)[i].seq, static_cast<int>(i));
    EXPECT_EQ((*trials)[i].measurements.size(), 20u);
    auto artifacts = store->trial_artifacts((*trials)[i].id);
    ASSERT_TRUE(artifacts && artifacts->size() == 1);
    EXPECT_EQ((*artifacts)[0].content.size(), 4096 + i);
  }
}

TEST(StoreDurability, ConcurrentFirstOpensCreateOneSchema) {
  // Several processes start on a store that does not exist yet: each must
  // end up with a migrated store (one creates it, the others wait on the
  // write lock and find it done), and every one's write must land.
  TempDir dir;
  std::string path = dir.file("kt.db");
  std::vector<pid_t> children;
  for (int i = 0; i < 4; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto store = Store::open(path);
      if (!store) {  // say why: this failed once in a sanitized CI run (not reproduced in 60 reruns)
        std::fprintf(stderr, "child %d: %s\n", i, store.error().format().c_str());
        ::_exit(3);
      }
      CampaignRow row;
      row.name = "c" + std::to_string(i);
      ::_exit(store->create_campaign(row) ? 0 : 4);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  auto store = Store::open(path, {.read_only = true});
  ASSERT_TRUE(store) << store.error().format();
  auto all = store->campaigns();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 4u);
  RawDb raw(path, SQLITE_OPEN_READONLY);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM kerntune_meta"), "1");
}

}  // namespace
}  // namespace kerntune::store
