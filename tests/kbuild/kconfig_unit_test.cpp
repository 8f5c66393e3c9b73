// Unit tests on small synthetic Kconfig trees written to a temp folder.
#include <gtest/gtest.h>

#include <filesystem>

#include "kerntune/kbuild/config_file.hpp"
#include "kerntune/kbuild/from_kconfig.hpp"
#include "kerntune/kbuild/kconfig.hpp"
#include "kerntune/kbuild/kconfig_apply.hpp"
#include "kerntune/kbuild/kconfig_eval.hpp"
#include "kerntune/util/text.hpp"

namespace kb = kerntune::kbuild;
namespace fs = std::filesystem;
using kerntune::util::Error;

namespace {

std::string make_tree(const std::string& name, const std::string& kconfig,
                      const std::map<std::string, std::string>& more = {}) {
  fs::path d = fs::temp_directory_path() / ("kt-kconfig-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d / "scripts" / "kconfig");
  EXPECT_TRUE(kerntune::util::write_file((d / "Makefile").string(), "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\n"));
  EXPECT_TRUE(kerntune::util::write_file((d / "Kconfig").string(), kconfig));
  auto files = more;
  files.emplace("arch/x86/Kconfig", "config X86_ONLY\n\tdef_bool y\n");
  for (const auto& [f, t] : files) {
    fs::create_directories((d / f).parent_path());
    EXPECT_TRUE(kerntune::util::write_file((d / f).string(), t));
  }
  return d.string();
}

kb::KconfigTree parse(const std::string& dir) {
  kb::KconfigOptions o;
  o.source_dir = dir;
  auto t = kb::KconfigTree::parse(o);
  if (!t) throw std::runtime_error(t.error().format());
  return std::move(*t);
}

const char* kSample = R"K(mainmenu "Test $(ARCH)"
cc-opt = $(shell,echo y)
config MODULES
	bool "modules"
	modules
	default y
menu "Timers"
choice
	prompt "Timer frequency"
	default HZ_250
config HZ_100
	bool "100 HZ"
config HZ_250
	bool "250 HZ"
config HZ_1000
	bool "1000 HZ"
	depends on !SLOW
endchoice
config HZ
	int
	default 100 if HZ_100
	default 250 if HZ_250
	default 1000
config SLOW
	bool "slow machine"
	help
	  A help text over
	  two lines.

	  And a paragraph.
endmenu
source "arch/$(SRCARCH)/Kconfig"
config NET
	bool "net"
	default y
if NET
config TCP_BBR
	tristate "bbr"
	depends on TCP_ADV
	select CRC if TCP_BBR = y
config TCP_ADV
	bool "advanced tcp"
endif
config CRC
	tristate
config COUNT
	int "count"
	range 2 8
	default 12
config PROBE
	def_bool $(cc-opt)
config NAME
	string "name"
	default "tiny"
)K";

}  // namespace

TEST(KconfigUnit, ParsesMacrosChoicesHelpAndSource) {
  auto dir = make_tree("parse", kSample, {{"arch/x86/Kconfig", "config X86_ONLY\n\tdef_bool y\n"}});
  auto t = parse(dir);
  EXPECT_EQ(t.root().title, "Test x86_64");
  ASSERT_GE(t.find("X86_ONLY"), 0);  // $(SRCARCH) in source
  const auto& slow = t.symbol(t.find("SLOW"));
  EXPECT_EQ(slow.help, "A help text over\ntwo lines.\n\nAnd a paragraph.");
  const auto& hz1000 = t.symbol(t.find("HZ_1000"));
  EXPECT_TRUE(hz1000.is_choice_value);
  EXPECT_EQ(t.symbol(hz1000.choice).members.size(), 3u);
  EXPECT_TRUE(t.symbol(t.find("PROBE")).uses_shell);
  EXPECT_EQ(t.symbol(t.find("TCP_BBR")).type, kb::SymType::tristate);
  // `if NET` and `depends on TCP_ADV` both reach the dependency
  EXPECT_EQ(t.expr_text(t.symbol(t.find("TCP_BBR")).dir_dep), "NET && TCP_ADV");
}

TEST(KconfigUnit, SyntaxErrorIsLocated) {
  auto dir = make_tree("syntax", "config A\n\tbool \"a\"\n\tdepends on (B\n");
  kb::KconfigOptions o;
  o.source_dir = dir;
  auto t = kb::KconfigTree::parse(o);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().file, "Kconfig");
  EXPECT_EQ(t.error().line, 3);
  EXPECT_EQ(t.error().kind, Error::Kind::invalid_input);
}

TEST(KconfigUnit, EvaluatesDefaultsSelectsRangesAndChoices) {
  auto t = parse(make_tree("eval", kSample));
  kb::KconfigEval ev(t, kb::ConfigFile{});
  EXPECT_EQ(ev.str(t.find("HZ")), "250");
  EXPECT_EQ(ev.str(t.find("COUNT")), "8");  // default 12 clamped to range 2..8
  EXPECT_EQ(ev.str(t.find("PROBE")), "n");  // shell macros are not run
  EXPECT_EQ(ev.str(t.find("NAME")), "tiny");
  kb::ConfigFile user = kb::ConfigFile::parse("CONFIG_TCP_ADV=y\nCONFIG_TCP_BBR=y\nCONFIG_HZ_1000=y\nCONFIG_SLOW=y\n");
  kb::KconfigEval ev2(t, user);
  EXPECT_EQ(ev2.str(t.find("CRC")), "y");          // selected by BBR=y
  EXPECT_EQ(ev2.str(t.find("HZ")), "250");         // HZ_1000 invisible with SLOW: default member
  EXPECT_EQ(ev2.default_value(t.find("TCP_BBR")), "n");
  kb::ConfigFile mod = kb::ConfigFile::parse("CONFIG_TCP_ADV=y\nCONFIG_TCP_BBR=m\n");
  kb::KconfigEval ev3(t, mod);
  EXPECT_EQ(ev3.str(t.find("TCP_BBR")), "m");
  EXPECT_EQ(ev3.str(t.find("CRC")), "n");  // select only if TCP_BBR = y
  mod.set("MODULES", "n");
  kb::KconfigEval ev4(t, mod);
  EXPECT_EQ(ev4.str(t.find("TCP_BBR")), "y");  // m acts as y without modules
}

TEST(KconfigUnit, FromKconfigDerivesTypesDefaultsAndWhen) {
  auto t = parse(make_tree("space", kSample));
  kb::KconfigEval ev(t, kb::ConfigFile{});
  kb::FromKconfigOptions o;
  o.symbols = {"HZ_1000", "SLOW", "TCP_ADV", "TCP_BBR", "COUNT", "NAME", "PROBE"};
  auto s = kb::space_from_kconfig(ev, o);
  ASSERT_TRUE(s) << s.error().format();
  ASSERT_EQ(s->parameters.size(), 5u);  // NAME (string) and PROBE (no prompt) skipped
  const auto& hz = s->parameters[0];
  EXPECT_EQ(hz.name, "HZ_CHOICE");
  EXPECT_EQ(hz.type, "choice");
  EXPECT_EQ(hz.values, (std::vector<std::string>{"HZ_100", "HZ_250", "HZ_1000"}));
  EXPECT_EQ(hz.default_text, "HZ_250");
  EXPECT_EQ(s->parameters[1].name, "SLOW");
  EXPECT_EQ(s->parameters[1].default_text, "false");
  EXPECT_EQ(s->parameters[3].name, "TCP_BBR");
  EXPECT_EQ(s->parameters[3].when, "TCP_ADV == true");
  EXPECT_EQ(s->parameters[4].lo, 2);
  EXPECT_EQ(s->parameters[4].hi, 8);
  EXPECT_EQ(s->parameters[4].default_text, "8");
  EXPECT_EQ(s->warnings.size(), 2u);
  std::string yaml = s->yaml();
  EXPECT_NE(yaml.find("when: \"TCP_ADV == true\""), std::string::npos) << yaml;
  // by menu title
  kb::FromKconfigOptions m;
  m.menu = "Timers";
  auto sm = kb::space_from_kconfig(ev, m);
  ASSERT_TRUE(sm);
  ASSERT_EQ(sm->parameters.size(), 2u);  // the HZ choice and SLOW (HZ has no prompt)
  EXPECT_EQ(sm->parameters[1].name, "SLOW");
}

TEST(KconfigUnit, FromKconfigBadInput) {
  auto t = parse(make_tree("bad", kSample));
  kb::KconfigEval ev(t, kb::ConfigFile{});
  kb::FromKconfigOptions o;
  o.symbols = {"TCP_BRR"};
  auto s = kb::space_from_kconfig(ev, o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, Error::Kind::invalid_input);
  EXPECT_NE(s.error().message.find("did you mean 'TCP_BBR'"), std::string::npos) << s.error().message;
  kb::FromKconfigOptions m;
  m.menu = "Timer";
  auto sm = kb::space_from_kconfig(ev, m);
  ASSERT_FALSE(sm);
  EXPECT_NE(sm.error().message.find("did you mean \"Timers\""), std::string::npos) << sm.error().message;
}

TEST(KconfigUnit, ProposalLinesCheckSymbolsAndTypes) {
  auto t = parse(make_tree("lines", kSample));
  auto ok = kb::proposal_lines(t, {{"HZ_CHOICE", std::string("HZ_1000")}, {"SLOW", true}, {"COUNT", 4LL},
                                   {"TCP_BBR", std::string("m")}});
  ASSERT_TRUE(ok) << ok.error().format();
  EXPECT_EQ(ok->at("HZ_1000"), "y");
  EXPECT_EQ(ok->at("HZ_250"), "n");
  EXPECT_EQ(ok->at("SLOW"), "y");
  EXPECT_EQ(ok->at("COUNT"), "4");
  auto unknown = kb::proposal_lines(t, {{"NOPE", true}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().kind, Error::Kind::invalid_input);
  EXPECT_NE(unknown.error().message.find("unknown Kconfig symbol 'NOPE'"), std::string::npos);
  auto wrong = kb::proposal_lines(t, {{"COUNT", std::string("many")}});
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("is not an integer"), std::string::npos) << wrong.error().message;
  auto tri = kb::proposal_lines(t, {{"TCP_BBR", std::string("x")}});
  ASSERT_FALSE(tri);
  auto str = kb::proposal_lines(t, {{"NAME", std::string("x")}});
  ASSERT_FALSE(str);
}

TEST(KconfigUnit, ConfigFileRoundTrip) {
  auto f = kb::ConfigFile::parse(
      "#\n# comment\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_S=\"a \\\"q\\\" b\"\nCONFIG_H=0x10\nCONFIG_A=m\n");
  EXPECT_EQ(f.get("A"), "m");
  EXPECT_EQ(f.get("B"), "n");
  EXPECT_EQ(f.get("S"), "a \"q\" b");
  EXPECT_FALSE(f.get("C").has_value());
  auto g = kb::ConfigFile::parse(f.text());
  EXPECT_EQ(g.flat(), f.flat());
  EXPECT_NE(f.text().find("# CONFIG_B is not set"), std::string::npos);
}
