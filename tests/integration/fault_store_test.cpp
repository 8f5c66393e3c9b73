// Fault injection around the campaign store (issue 9, docs/hardening.md):
//  * the disk holding the database fills up (a small tmpfs): `tune` stops with
//    a clear error, the database stays intact, resume works once space is freed;
//  * another process holds the write lock: bounded retry, a clear error, exit 1;
//    readers are not blocked; the campaign runs once the lock is released;
//  * a corrupt or foreign file given as --db: refused, not modified (sha256).
// Every case runs the real kerntune binary on a real SQLite file.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>
#include <thread>

#include "cli.hpp"
#include "kerntune/store/store.hpp"

using kt_test::run_cli;
using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A fast black box; `name` and `budget` vary per case.
std::string recipe(const std::string& name, int budget) {
  return "name: " + name + R"kt(
seed: 5
parameters:
  - {name: x, domain: generic, type: real, range: [-5, 10], default: 0}
  - {name: m, domain: generic, type: choice, values: [a, b, c], default: a}
target: {kind: command, argv: [python3, bb.py], timeout: 30s}
objectives: [{metric: y, direction: minimize}]
optimizer: {kind: random}
budget: {trials: )kt" + std::to_string(budget) + "}\n";
}

const char* kBlackBox = R"kt(import json, os
p = json.load(open(os.environ["KERNTUNE_PARAMS"]))
print("KERNTUNE_METRIC y %.6f" % ((p["x"] - 2) ** 2 + {"a": 1, "b": 0, "c": 2}[p["m"]]))
)kt";

std::vector<json> read_trials(const std::string& db) {
  auto r = run_cli({"trials", "--db", db, "--json"});
  EXPECT_EQ(r.code, 0) << r.err;
  if (r.code != 0) return {};
  auto j = json::parse(r.out);
  return {j.begin(), j.end()};
}

std::string integrity(const std::string& db) {
  auto st = kerntune::store::Store::open(db, {.create = false, .read_only = true});
  if (!st) return "cannot open: " + st.error().message;
  auto ic = st->integrity_check();
  return ic ? *ic : "integrity_check failed: " + ic.error().message;
}

std::string file_sha(const std::string& path) {
  auto bytes = kerntune::util::read_file(path);
  return bytes ? kerntune::util::sha256_hex(*bytes) : "unreadable";
}

// A tmpfs of `bytes` mounted at `dir` for the test's lifetime.
struct SmallDisk {
  std::string dir;
  bool mounted = false;
  std::string error;
  SmallDisk(std::string where, std::size_t bytes) : dir(std::move(where)) {
    fs::create_directories(dir);
    std::string opts = "size=" + std::to_string(bytes) + ",mode=0755";
    if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) == 0)
      mounted = true;
    else
      error = std::strerror(errno);
  }
  ~SmallDisk() {
    if (mounted) ::umount2(dir.c_str(), MNT_DETACH);
  }
};

// Fills the file system holding `path` until fewer than `leave` bytes are free.
void fill(const std::string& path, std::size_t leave) {
  auto space = fs::space(fs::path(path).parent_path());
  std::size_t n = space.available > leave ? space.available - leave : 0;
  std::ofstream out(path, std::ios::binary);
  std::string block(4096, 'f');
  for (std::size_t done = 0; done < n && out; done += block.size())
    out.write(block.data(), static_cast<std::streamsize>(std::min(block.size(), n - done)));
}

}  // namespace

TEST(FaultStore, DiskFullStopsCleanlyAndResumesAfterSpaceIsFreed) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root (CI runs as root)";
  kt_test::TempDir dir;
  kt_test::write(dir / "r.yaml", recipe("diskfull", 120));
  kt_test::write(dir / "bb.py", kBlackBox);
  SmallDisk disk(dir / "disk", 4u << 20);
  ASSERT_TRUE(disk.mounted) << "mount tmpfs: " << disk.error;
  const std::string db = disk.dir + "/kt.db";
  const std::string filler = disk.dir + "/filler";
  fill(filler, 160u << 10);  // room for the schema and a few trials, not for 120

  auto full = run_cli({"tune", dir / "r.yaml", "--db", db, "--progress", "lines"}, dir.path.string(), 5min);
  EXPECT_EQ(full.code, 1) << full.out << full.err;
  EXPECT_NE(full.err.find("full"), std::string::npos) << "no clear disk-full message: " << full.err;
  EXPECT_NE(full.err.find("kt.db"), std::string::npos) << "the message names the file: " << full.err;

  // Free the space: the store that was being written when the disk filled is
  // intact and holds a strict prefix of the campaign.
  fs::remove(filler);
  EXPECT_EQ(integrity(db), "ok");
  auto partial = read_trials(db);
  EXPECT_LT(partial.size(), 120u);

  auto resumed = run_cli({"tune", dir / "r.yaml", "--db", db, "--progress", "lines"}, dir.path.string(), 5min);
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  auto trials = read_trials(db);
  ASSERT_EQ(trials.size(), 120u);
  std::set<int> seqs;
  for (const auto& t : trials) {
    EXPECT_EQ(t["status"], "ok") << t.dump();
    seqs.insert(t["seq"].get<int>());
  }
  EXPECT_EQ(seqs.size(), 120u);
  // Trials stored before the disk filled are kept as they were.
  for (std::size_t i = 0; i < partial.size(); ++i) EXPECT_EQ(trials[i]["params"], partial[i]["params"]);
  EXPECT_EQ(integrity(db), "ok");
}

TEST(FaultStore, WriteLockHeldElsewhereIsABoundedWaitThenAClearError) {
  kt_test::TempDir dir;
  kt_test::write(dir / "a.yaml", recipe("first", 3));
  kt_test::write(dir / "b.yaml", recipe("second", 3));
  kt_test::write(dir / "bb.py", kBlackBox);
  const std::string db = dir / "kt.db";
  auto first = run_cli({"tune", dir / "a.yaml", "--db", db, "--progress", "quiet"}, dir.path.string());
  ASSERT_EQ(first.code, 0) << first.err;

  // Another process takes the write lock and keeps it.
  kerntune::util::Child::Options o;
  o.argv = {"python3", "-c",
            "import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN EXCLUSIVE')\n"
            "c.execute('UPDATE campaigns SET name = name')\n"
            "print('locked', flush=True)\n"
            "time.sleep(300)\n",
            db};
  o.pipe_stdin = false;
  auto holder = kerntune::util::Child::spawn(o);
  ASSERT_TRUE(holder) << holder.error().message;
  std::string said;
  for (auto end = std::chrono::steady_clock::now() + 30s;
       said.find("locked") == std::string::npos && std::chrono::steady_clock::now() < end;) {
    auto chunk = holder->read_some(200ms);
    if (!chunk) break;
    said += *chunk;
  }
  ASSERT_NE(said.find("locked"), std::string::npos) << said;

  // Readers see the committed state while the writer lock is held (WAL).
  EXPECT_EQ(read_trials(db).size(), 3u);

  auto t0 = std::chrono::steady_clock::now();
  auto blocked = run_cli({"tune", dir / "b.yaml", "--db", db, "--progress", "lines"}, dir.path.string(), 3min);
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(blocked.code, 1) << blocked.err;
  EXPECT_NE(blocked.err.find("locked"), std::string::npos) << "no clear lock message: " << blocked.err;
  EXPECT_NE(blocked.err.find("kt.db"), std::string::npos) << blocked.err;
  EXPECT_GE(waited, 4.0) << "gave up without retrying";           // the 5 s busy timeout
  EXPECT_LT(waited, 90.0) << "the wait is not bounded";
  EXPECT_TRUE(holder->running()) << "the lock holder died: the test proves nothing";

  holder->kill_group(SIGKILL);
  ASSERT_TRUE(holder->wait(10s));
  auto after = run_cli({"tune", dir / "b.yaml", "--db", db, "--progress", "quiet"}, dir.path.string());
  ASSERT_EQ(after.code, 0) << after.err;
  EXPECT_EQ(integrity(db), "ok");
}

namespace {

// A real kerntune store with a few trials, built by the CLI.
std::string make_store(const kt_test::TempDir& dir, const std::string& name) {
  kt_test::write(dir / (name + ".yaml"), recipe(name, 4));
  kt_test::write(dir / "bb.py", kBlackBox);
  std::string db = dir / (name + ".db");
  auto r = run_cli({"tune", dir / (name + ".yaml"), "--db", db, "--progress", "quiet"}, dir.path.string());
  EXPECT_EQ(r.code, 0) << r.err;
  // Checkpoint and drop the WAL so the file alone holds the store.
  auto st = kerntune::store::Store::open(db, {.create = false});
  EXPECT_TRUE(st);
  return db;
}

void overwrite(const std::string& path, std::size_t offset, std::size_t n, std::uint32_t seed) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(offset));
  std::mt19937 rng(seed);
  for (std::size_t i = 0; i < n; ++i) f.put(static_cast<char>(rng()));
}

struct BadDb {
  std::string label;
  std::string path;
};

}  // namespace

TEST(FaultStore, CorruptOrForeignDatabaseIsRefusedAndNotModified) {
  kt_test::TempDir dir;
  kt_test::write(dir / "r.yaml", recipe("victim", 3));
  kt_test::write(dir / "bb.py", kBlackBox);
  std::vector<BadDb> bad;

  {  // random bytes
    std::mt19937 rng(7);
    std::string bytes(64 << 10, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    kt_test::write(dir / "random.db", bytes);
    bad.push_back({"random bytes", dir / "random.db"});
  }
  kt_test::write(dir / "notes.db", "name,value\nx,1\n");
  bad.push_back({"a text file", dir / "notes.db"});
  {  // someone else's SQLite database
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "foreign.db").c_str(), &h), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(h,
                           "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);"
                           "INSERT INTO users(name) VALUES ('ada'), ('linus');",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(h);
    bad.push_back({"a foreign SQLite database", dir / "foreign.db"});
  }
  {  // a kerntune store whose first page (the schema) is overwritten
    std::string db = make_store(dir, "schema-hit");
    overwrite(db, 100, 3900, 11);
    bad.push_back({"a store with a corrupt schema page", db});
  }
  {  // a kerntune store cut in half
    std::string db = make_store(dir, "truncated");
    fs::resize_file(db, fs::file_size(db) / 2);
    bad.push_back({"a truncated store", db});
  }
  {  // a kerntune store whose table pages are overwritten (schema intact)
    std::string db = make_store(dir, "pages-hit");
    std::size_t size = fs::file_size(db);
    ASSERT_GE(size, 4u * 4096);
    overwrite(db, 4096, size - 4096, 13);
    bad.push_back({"a store with corrupt table pages", db});
  }

  for (const auto& b : bad) {
    SCOPED_TRACE(b.label);
    const std::string before = file_sha(b.path);
    auto tune = run_cli({"tune", dir / "r.yaml", "--db", b.path, "--progress", "quiet"}, dir.path.string());
    EXPECT_NE(tune.code, 0) << "tune accepted it: " << tune.out;
    EXPECT_NE(tune.code, -1) << tune.err;
    EXPECT_NE(tune.err.find(fs::path(b.path).filename().string()), std::string::npos)
        << "the error names the file: " << tune.err;
    auto trials = run_cli({"trials", "--db", b.path});
    EXPECT_NE(trials.code, 0) << trials.out;
    EXPECT_EQ(file_sha(b.path), before) << "the file was modified";
    EXPECT_FALSE(fs::exists(b.path + "-wal") && fs::file_size(b.path + "-wal") > 0) << "a WAL was written";
  }
}
