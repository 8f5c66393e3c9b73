#include "kerntune/util/text.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

using namespace kerntune::util;
using namespace std::chrono_literals;

TEST(Duration, ParsesUnitsAndCombinations) {
  EXPECT_EQ(*parse_duration("60s"), 60000ms);
  EXPECT_EQ(*parse_duration("5m"), 300000ms);
  EXPECT_EQ(*parse_duration("1h30m"), 5400000ms);
  EXPECT_EQ(*parse_duration("250ms"), 250ms);
  EXPECT_EQ(*parse_duration("2.5s"), 2500ms);
  EXPECT_EQ(*parse_duration("90"), 90000ms);
}

TEST(Duration, RejectsGarbageWithAHelpfulMessage) {
  for (const char* bad : {"", "abc", "10 parsecs", "5x", "1.2.3s", "-5s", "s"}) {
    auto r = parse_duration(bad);
    EXPECT_FALSE(r) << bad;
  }
  EXPECT_NE(parse_duration("5x").error().message.find("unknown unit 'x'"), std::string::npos);
}

TEST(Closest, SuggestsNearNamesOnly) {
  EXPECT_EQ(closest("rnage", {"range", "name", "scale"}), "range");
  EXPECT_EQ(closest("defualt", {"default", "domain"}), "default");
  EXPECT_FALSE(closest("zzzzzz", {"range", "name"}).has_value());
}

TEST(Text, DetectsBinary) {
  EXPECT_TRUE(is_text("plain: yaml\nünïcode ✓\n"));
  EXPECT_FALSE(is_text(std::string("a\0b", 3)));
  EXPECT_FALSE(is_text("\xff\xfe garbage"));
}

TEST(Text, Sha256KnownVector) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Text, SplitTrimFormat) {
  EXPECT_EQ(split("a,b,,c", ','), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(trim("  x y \n"), "x y");
  EXPECT_EQ(format_duration(12.34), "12.3s");
  EXPECT_EQ(format_duration(185), "3m05s");
  EXPECT_EQ(format_duration(3720), "1h02m");
}

TEST(Closest, TranspositionIsOneEdit) {
  EXPECT_EQ(edit_distance("rnage", "range"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(closest("budegt", {"name", "budget", "seed"}), "budget");
}

// A path that names nothing is the user's mistake (exit 2); a file that is
// there but cannot be opened or written is infrastructure (io, exit 1).
TEST(ReadFile, MissingIsInvalidInputButUnopenableIsIo) {
  auto dir = make_temp_dir("kt-read-file");
  ASSERT_TRUE(dir) << dir.error().message;
  auto missing = read_file(*dir + "/none.yaml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, Error::Kind::invalid_input);
  EXPECT_EQ(missing.error().message, "file not found");

  // A bound UNIX socket exists, but open(2) refuses it (ENXIO), even for root.
  const std::string sock = *dir + "/s.sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(sock.size(), sizeof addr.sun_path);
  std::memcpy(addr.sun_path, sock.c_str(), sock.size() + 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  auto unopenable = read_file(sock);
  ::close(fd);
  ASSERT_FALSE(unopenable);
  EXPECT_EQ(unopenable.error().kind, Error::Kind::io) << unopenable.error().format();
  EXPECT_EQ(unopenable.error().file, sock);

  auto nowhere = write_file(*dir + "/no-such-folder/out.txt", "x");
  ASSERT_FALSE(nowhere);
  EXPECT_EQ(nowhere.error().kind, Error::Kind::io) << nowhere.error().message;
  std::filesystem::remove_all(*dir);
}
