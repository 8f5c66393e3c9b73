// Fuzz target: the guest-protocol decoder (src/targets/guest_protocol.cpp).
// Input: a console byte stream as the serial port delivers it (kernel
// messages, agent frames, garbage), fed to the ConsoleParser in chunks whose
// sizes come from the input itself, then every reply id 0..15 is taken.
// Also: base64_decode and normalize_knob_value on the same bytes, and the
// encode → decode round trip of the bytes as a command argument.
#include <string>

#include "fuzz_common.hpp"
#include "kerntune/targets/guest_protocol.hpp"

using namespace kerntune::targets::guest;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = kerntune::fuzz::as_text(data, size);
  ConsoleParser parser;
  parser.set_log_limit(512);  // exercise trimming
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t chunk = 1 + (static_cast<unsigned char>(text[pos]) % 61);
    parser.feed(text.substr(pos, chunk));
    pos += chunk;
    (void)parser.log_since(parser.log_total() > 100 ? parser.log_total() - 100 : 0);
  }
  for (int id = 0; id < 16; ++id) (void)parser.take(id);
  (void)parser.ready();
  (void)parser.protocol_error();
  (void)base64_decode(text);
  (void)normalize_knob_value(text, true);
  (void)normalize_knob_value(text, false);
  // Any bytes survive the trip as a command argument.
  const std::string line = encode_command(7, "set", {std::string(text)});
  const std::size_t x = line.find(" x");
  if (x == std::string::npos) __builtin_trap();
  auto back = base64_decode(std::string_view(line).substr(x + 2, line.size() - x - 3));
  if (!back || *back != text) __builtin_trap();
  return 0;
}
