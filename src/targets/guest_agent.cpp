#include "guest_agent.hpp"

namespace kerntune::targets::guest {

namespace {
// The script lives in its own file so it reads (and diffs) as shell.
constexpr std::string_view kScript =
#include "guest-agent/agent.sh.inc"
    ;
}  // namespace

std::string_view agent_script() { return kScript; }

}  // namespace kerntune::targets::guest
