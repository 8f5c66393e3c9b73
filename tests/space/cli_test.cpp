// The real `kerntune space` CLI on real files: exit codes, located errors on
// stderr, and the documented examples (docs/search-spaces.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "kerntune/space/space.hpp"
#include "kerntune/util/subprocess.hpp"

namespace kerntune::space {
namespace {

const std::string kSource = KERNTUNE_SOURCE_DIR;

util::RunResult kerntune(std::vector<std::string> args) {
  if (!std::filesystem::exists(KERNTUNE_CLI)) throw std::runtime_error("kerntune binary missing: " KERNTUNE_CLI);
  args.insert(args.begin(), KERNTUNE_CLI);
  util::RunOptions o;
  o.argv = std::move(args);
  o.cwd = kSource;
  o.timeout = std::chrono::seconds(60);
  auto r = util::run(o);
  if (!r) throw std::runtime_error(r.error().format());
  return *r;
}

TEST(SpaceCli, CheckGoodAndBadFiles) {
  auto ok = kerntune({"space", "check", "search-spaces/example-generic.yaml", "tests/data/space/good_mixed.yaml"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out,
            "search-spaces/example-generic.yaml: ok (7 parameters, 1 constraints)\n"
            "tests/data/space/good_mixed.yaml: ok (10 parameters, 2 constraints)\n");
  auto bad = kerntune({"space", "check", "tests/data/space/when_unknown.yaml", "search-spaces/example-generic.yaml"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("tests/data/space/when_unknown.yaml:8:12: unknown parameter 'fats' (did you mean 'fast'?)"),
            std::string::npos)
      << bad.err;
  EXPECT_EQ(bad.out, "search-spaces/example-generic.yaml: ok (7 parameters, 1 constraints)\n");  // the others still checked
  auto missing = kerntune({"space", "check", "tests/data/space/no-such-file.yaml"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("no-such-file.yaml: file not found"), std::string::npos) << missing.err;
}

TEST(SpaceCli, CheckJsonListsEveryFileWithItsErrorLocated) {
  auto r = kerntune({"space", "check", "--json", "tests/data/space/when_unknown.yaml", "search-spaces/example-generic.yaml"});
  EXPECT_EQ(r.exit_code, 2);  // the fault still sets the exit code
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u) << r.out;
  EXPECT_EQ(j[0]["file"], "tests/data/space/when_unknown.yaml");
  EXPECT_EQ(j[0]["ok"], false);
  EXPECT_EQ(j[0]["error"]["line"], 8);
  EXPECT_EQ(j[0]["error"]["column"], 12);
  EXPECT_NE(j[0]["error"]["message"].get<std::string>().find("unknown parameter 'fats'"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("when_unknown.yaml:8:12:"), std::string::npos) << r.err;  // and on stderr as before
  EXPECT_EQ(j[1]["ok"], true);
  EXPECT_EQ(j[1]["parameters"], 7);
  EXPECT_EQ(j[1]["constraints"], 1);
}

TEST(SpaceCli, ShowTableAndJson) {
  auto table = kerntune({"space", "show", "search-spaces/example-generic.yaml"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("NAME"), std::string::npos);
  EXPECT_NE(table.out.find("depth  generic  int       [1, 64]"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("fast == true"), std::string::npos);
  EXPECT_NE(table.out.find("x + depth <= 60"), std::string::npos);
  auto json = kerntune({"space", "show", "search-spaces/example-generic.yaml", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);
  ASSERT_EQ(j["parameters"].size(), 7u);
  EXPECT_EQ(j["parameters"][1]["name"], "n");
  EXPECT_EQ(j["parameters"][1]["scale"], "log");
  EXPECT_EQ(j["parameters"][1]["range"], nlohmann::json::parse("[1, 4096]"));
  EXPECT_EQ(j["constraints"][0], "x + depth <= 60");
}

TEST(SpaceCli, SampleJsonIsValidAndReproducible) {
  auto a = kerntune({"space", "sample", "search-spaces/example-generic.yaml", "-n", "50", "--seed", "7", "--json"});
  auto b = kerntune({"space", "sample", "search-spaces/example-generic.yaml", "-n", "50", "--seed", "7", "--json"});
  auto c = kerntune({"space", "sample", "search-spaces/example-generic.yaml", "-n", "50", "--seed", "8", "--json"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
  auto space = Space::load_file(kSource + "/search-spaces/example-generic.yaml");
  ASSERT_TRUE(space.has_value());
  auto list = nlohmann::json::parse(a.out);
  ASSERT_EQ(list.size(), 50u);
  int with_depth = 0;
  for (const auto& item : list) {
    auto assignment = space->from_json(item);
    ASSERT_TRUE(assignment.has_value()) << assignment.error().format();
    auto st = space->validate(*assignment);
    EXPECT_TRUE(st.has_value()) << item.dump() << ": " << st.error().format();
    EXPECT_EQ(item.contains("depth"), item["fast"].get<bool>());  // inactive parameters omitted
    with_depth += item.contains("depth");
  }
  EXPECT_GT(with_depth, 0);
  auto lines = kerntune({"space", "sample", "search-spaces/example-generic.yaml", "-n", "3", "--seed", "7"});
  ASSERT_EQ(lines.exit_code, 0);
  EXPECT_EQ(std::count(lines.out.begin(), lines.out.end(), '\n'), 3);
  EXPECT_TRUE(lines.out.starts_with("x=")) << lines.out;
}

TEST(SpaceCli, HelpShowsAnExample) {
  for (const char* sub : {"check", "show", "sample"}) {
    auto h = kerntune({"space", sub, "--help"});
    EXPECT_EQ(h.exit_code, 0);
    EXPECT_NE(h.out.find(std::string("kerntune space ") + sub + " search-spaces/"), std::string::npos)
        << h.out;
  }
}

}  // namespace
}  // namespace kerntune::space
