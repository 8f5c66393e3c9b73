#pragma once
// Headless Chromium for the tests that render a page (the report, the
// dashboard): finding the binary, its flags, and the requests a page made
// according to Chromium's net log.
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kerntune/util/subprocess.hpp"

namespace kt_test {

inline std::optional<std::string> chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"})
    if (auto p = kerntune::util::which(name)) return p;
  return std::nullopt;
}

inline std::vector<std::string> chromium_argv(const std::string& bin, const std::string& profile) {
  return {bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
          "--user-data-dir=" + profile};
}

/// The network URLs of the requests a page made, from Chromium's net log
/// (one event a line): every event whose "initiator" is an origin (not "not
/// an origin") and whose "url" is http(s), ws(s) or ftp. Per line, not per
/// innermost {…}: a request event's "site_for_cookies" holds braces inside a
/// string ("SiteForCookies: {site=http://…}"), which split such an object and
/// hid the request (an http:// page's requests all were). A plain scan, not
/// std::regex: libstdc++'s regex recursed once per character on a long log
/// under AddressSanitizer.
inline std::set<std::string> page_request_urls(const std::string& log) {
  constexpr auto npos = std::string_view::npos;
  constexpr std::string_view initiator = "\"initiator\":\"", url = "\"url\":\"";
  std::set<std::string> urls;
  std::string_view rest(log);
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == npos ? std::string_view() : rest.substr(nl + 1);
    auto at = line.find(initiator);
    if (at == npos || line.substr(at + initiator.size()).starts_with("not an origin")) continue;
    auto u = line.find(url);
    if (u == npos) continue;
    std::string_view value = line.substr(u + url.size());
    value = value.substr(0, value.find('"'));
    for (std::string_view scheme : {"http://", "https://", "ws://", "wss://", "ftp://"})
      if (value.starts_with(scheme)) { urls.insert(std::string(value)); break; }
  }
  return urls;
}

}  // namespace kt_test
