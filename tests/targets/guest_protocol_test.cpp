// Unit tests of the guest wire format: base64, command encoding, the console
// parser (frames among kernel noise, panics, split reads), knob normalization.
#include <gtest/gtest.h>

#include "kerntune/targets/guest_protocol.hpp"

namespace kt = kerntune::targets::guest;

TEST(GuestBase64, RoundTripsEveryByteAndLength) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  for (std::size_t n = 0; n <= 10; ++n) {
    std::string s = all.substr(100, n);
    auto back = kt::base64_decode(kt::base64_encode(s));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, s) << n;
  }
  auto back = kt::base64_decode(kt::base64_encode(all));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, all);
  EXPECT_EQ(kt::base64_encode("hello"), "aGVsbG8=");
}

TEST(GuestBase64, DecodeIgnoresLineWrapsAndRejectsGarbage) {
  auto v = kt::base64_decode("aGVs\nbG8=\r\n");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, "hello");
  EXPECT_FALSE(kt::base64_decode("aGV$bG8=").has_value());
  EXPECT_FALSE(kt::base64_decode("aG=Vs").has_value());
}

TEST(GuestCommand, EveryArgumentIsOneOpaqueToken) {
  std::string line = kt::encode_command(7, "write", {"/proc/sys/kernel/hostname", "a b;$(x)\n`y`", ""});
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_EQ(line.find('$'), std::string::npos);
  EXPECT_EQ(line.find(';'), std::string::npos);
  EXPECT_EQ(line.find('`'), std::string::npos);
  // ID, verb, and three tokens each starting with 'x' (the empty one is just "x").
  EXPECT_TRUE(line.starts_with("7 write x"));
  EXPECT_TRUE(line.ends_with(" x\n"));
  EXPECT_THROW(kt::encode_command(1, "Bad verb", {}), std::logic_error);
}

TEST(ConsoleParser, FramesAmongNoiseAndSplitReads) {
  kt::ConsoleParser p;
  std::string stream =
      "[    1.23] Linux version 6.1\r\n"
      "\r\n@@KT:READY 3.10 2.00\r\n"
      "@@KT:BEGIN 1\r\n" + kt::base64_encode("60\n") + "\r\n@@KT:END 1 0 \r\n"
      "@@KT:BEGIN 2\r\n" + kt::base64_encode("out") + "\r\n@@KT:END 2 3 timedout=0 memmin=1234\r\n";
  // Feed one byte at a time: frames must survive any split.
  for (char c : stream) p.feed(std::string_view(&c, 1));
  EXPECT_TRUE(p.ready());
  EXPECT_FALSE(p.panic().has_value());
  auto r1 = p.take(1);
  ASSERT_TRUE(r1.has_value());
  EXPECT_EQ(r1->rc, 0);
  EXPECT_EQ(r1->payload, "60\n");
  EXPECT_FALSE(p.take(1).has_value());
  auto r2 = p.take(2);
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(r2->rc, 3);
  EXPECT_EQ(r2->payload, "out");
  EXPECT_EQ(r2->fields.at("memmin"), "1234");
  EXPECT_EQ(r2->fields.at("timedout"), "0");
  // The log keeps kernel lines and frame markers, not payloads.
  EXPECT_NE(p.log().find("Linux version 6.1"), std::string::npos);
  EXPECT_NE(p.log().find("@@KT:END 2 3"), std::string::npos);
  EXPECT_EQ(p.log().find(kt::base64_encode("out")), std::string::npos);
  EXPECT_EQ(p.log().find('\r'), std::string::npos);
}

TEST(ConsoleParser, KernelMessageInsideAFrameGoesToTheLog) {
  kt::ConsoleParser p;
  p.feed("@@KT:BEGIN 4\n" + kt::base64_encode("abc") + "\n[   9.9] random: crng init done\n@@KT:END 4 0\n");
  auto r = p.take(4);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->payload, "abc");
  EXPECT_NE(p.log().find("crng init done"), std::string::npos);
}

TEST(ConsoleParser, DetectsKernelPanic) {
  kt::ConsoleParser p;
  p.feed("[    0.9] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\n");
  ASSERT_TRUE(p.panic().has_value());
  EXPECT_EQ(*p.panic(), "Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)");
}

TEST(ConsoleParser, EndWithoutBeginIsAProtocolError) {
  kt::ConsoleParser p;
  p.feed("@@KT:END 9 0\n");
  EXPECT_TRUE(p.protocol_error().has_value());
}

TEST(ConsoleParser, LogIsBoundedAndPositionsSurviveTrimming) {
  kt::ConsoleParser p;
  p.set_log_limit(100);
  for (int i = 0; i < 50; ++i) p.feed("line " + std::to_string(i) + "\n");
  EXPECT_LE(p.log().size(), 125u);
  std::size_t mark = p.log_total();
  p.feed("after the mark\n");
  EXPECT_EQ(p.log_since(mark), "after the mark\n");
  EXPECT_NE(p.log().find("line 49"), std::string::npos);
  EXPECT_EQ(p.log().find("line 1\n"), std::string::npos);
}

TEST(KnobValue, NormalizesLikeAPersonWouldWriteIt) {
  EXPECT_EQ(kt::normalize_knob_value("60\n"), "60");
  EXPECT_EQ(kt::normalize_knob_value("4096\t131072\t6291456\n"), "4096 131072 6291456");
  EXPECT_EQ(kt::normalize_knob_value("always [madvise] never\n"), "madvise");
  EXPECT_EQ(kt::normalize_knob_value("[always] defer defer+madvise madvise never\n"), "always");
  EXPECT_EQ(kt::normalize_knob_value("kerntune-guest\n"), "kerntune-guest");
  EXPECT_EQ(kt::normalize_knob_value(""), "");
  EXPECT_EQ(kt::normalize_knob_value("none (voluntary) full\n"), "voluntary");
  EXPECT_EQ(kt::normalize_knob_value("(none)\n"), "(none)");
  // /proc/sys strings are not choice lists.
  EXPECT_EQ(kt::normalize_knob_value("a [b] c\n", false), "a [b] c");
  EXPECT_EQ(kt::normalize_knob_value("a [b] c\n", true), "b");
  // Two marked entries: not a choice list.
  EXPECT_EQ(kt::normalize_knob_value("[a] [b]\n"), "[a] [b]");
}
