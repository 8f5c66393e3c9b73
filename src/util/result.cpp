#include "kerntune/util/result.hpp"

#include <fmt/format.h>

namespace kerntune::util {

std::string Error::format() const {
  if (file.empty()) return message;
  if (line <= 0) return fmt::format("{}: {}", file, message);
  if (column <= 0) return fmt::format("{}:{}: {}", file, line, message);
  return fmt::format("{}:{}:{}: {}", file, line, column, message);
}

}  // namespace kerntune::util
