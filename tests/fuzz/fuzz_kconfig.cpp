// Fuzz target: the Kconfig reader (src/kbuild/kconfig_lexer.cpp,
// kconfig_parser.cpp, kconfig_tree.cpp). Input: one Kconfig file, written as
// the top file of a scratch "kernel tree" (with an empty Makefile) and parsed
// alone (follow_source = false: `source` lines are not followed). When it
// parses, every symbol's dependency expressions are printed back.
#include <fstream>
#include <string>

#include "fuzz_common.hpp"
#include "kerntune/kbuild/kconfig.hpp"

using namespace kerntune;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string dir = [] {
    auto d = fuzz::scratch_dir() / "tree";
    std::filesystem::create_directories(d);
    std::ofstream(d / "Makefile") << "";
    return d.string();
  }();
  {
    std::ofstream out(dir + "/Kconfig", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  kbuild::KconfigOptions o;
  o.source_dir = dir;
  o.follow_source = false;
  auto tree = kbuild::KconfigTree::parse(o);
  if (!tree) {
    (void)tree.error().format();
    return 0;
  }
  for (const auto& sym : tree->symbols()) {
    (void)tree->expr_text(sym.dir_dep);
    (void)tree->expr_text(sym.rev_dep);
    for (const auto& p : sym.props) (void)tree->expr_text(p.cond);
  }
  return 0;
}
