// The lava target's server mode: LAVA's REST API (v0.2) through the system
// curl. The token reaches curl in a config file (mode 0600), never on its
// command line; the job travels as a JSON body file.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "lava_target.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/stop.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::targets {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Http {
  long code = 0;
  std::string body;
};

class Client {
 public:
  Client(const LavaOptions& o, std::string dir) : o_(o), dir_(std::move(dir)) {}

  util::Status init() {
    config_ = (fs::path(dir_) / "curl.conf").string();
    int fd = ::open(config_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return util::io_error("cannot write " + config_);
    std::string text = fmt::format("header = \"Authorization: Token {}\"\n", o_.token);  // token: [A-Za-z0-9._-]
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (!ok) return util::io_error("cannot write " + config_);
    return {};
  }
  ~Client() {
    std::error_code ec;
    if (!config_.empty()) fs::remove(config_, ec);
  }

  util::Result<Http> call(const std::string& method, const std::string& path, const std::string& body_file = "") {
    util::RunOptions ro;
    ro.argv = {o_.curl, "-sS", "-K", config_, "-X", method, "-w", "\n%{http_code}", "--max-time", "120"};
    if (!body_file.empty()) {
      ro.argv.insert(ro.argv.end(), {"-H", "Content-Type: application/json", "--data-binary", "@" + body_file});
    }
    ro.argv.push_back(o_.url + path);
    ro.timeout = std::chrono::seconds(150);
    KT_TRY(util::RunResult r, util::run(ro));
    if (!r.ok()) {
      std::string why = fmt::format("{} {}: curl {}: {}", method, path, r.describe(), util::trim(r.err));
      return r.timed_out ? util::timeout_error(std::move(why)) : util::io_error(std::move(why));
    }
    Http h;
    auto nl = r.out.rfind('\n');
    h.body = nl == std::string::npos ? std::string() : r.out.substr(0, nl);
    try {
      h.code = std::stol(r.out.substr(nl == std::string::npos ? 0 : nl + 1));
    } catch (...) {
      return util::io_error(fmt::format("{} {}: no HTTP status from curl", method, path));
    }
    return h;
  }

  util::Result<Http> get_ok(const std::string& path) {
    KT_TRY(Http h, call("GET", path));
    if (h.code != 200) return util::io_error(fmt::format("GET {}: HTTP {}: {}", path, h.code, guest::tail_lines(h.body, 2)));
    return h;
  }

 private:
  const LavaOptions& o_;
  std::string dir_;
  std::string config_;
};

std::string str(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

}  // namespace

util::Result<LavaTarget::Job> LavaTarget::run_server(const std::string& job_yaml, const std::string& dir) {
  Client client(options_, dir);
  KT_TRY_STATUS(client.init());
  std::string body_file = (fs::path(dir) / "submit.json").string();
  KT_TRY_STATUS(util::write_file(body_file, json{{"definition", job_yaml}}.dump()));
  KT_TRY(Http sub, client.call("POST", "/api/v0.2/jobs/", body_file));
  json sj = json::parse(sub.body, nullptr, false);
  if (sub.code != 201 && sub.code != 200)
    return util::io_error(fmt::format("the LAVA server refused the job: HTTP {}: {}", sub.code, guest::tail_lines(sub.body, 3)));
  if (!sj.is_object() || !sj.contains("job_ids") || !sj["job_ids"].is_array() || sj["job_ids"].empty())
    return util::io_error("the LAVA server's reply names no job: " + guest::tail_lines(sub.body, 2));
  Job job;
  job.id = sj["job_ids"][0].dump();
  util::log_info("lava: submitted job {} to {}", job.id, options_.url);
  std::string base = "/api/v0.2/jobs/" + job.id + "/";

  // Poll until LAVA finishes the job. The job's own timeouts bound it once it
  // runs; the queue wait is bounded by twice the job timeout plus 10 minutes.
  auto limit = std::chrono::seconds(600) + 2 * (options_.job_timeout.count() > 0
                                                    ? std::chrono::duration_cast<std::chrono::seconds>(options_.job_timeout)
                                                    : std::chrono::seconds(3600));
  auto t0 = Clock::now();
  json status;
  while (true) {
    if (util::stop_requested() || Clock::now() - t0 > limit) {
      auto c = client.call("POST", base + "cancel/");
      if (!c) util::log_warn("lava: cancelling job {}: {}", job.id, c.error().message);
      if (util::stop_requested()) return util::fail("interrupted", util::Error::Kind::interrupted);
      job.failure = fmt::format("the job did not finish within {} s (timed out; cancelled)",
                                std::chrono::duration_cast<std::chrono::seconds>(limit).count());
      break;
    }
    auto s = client.get_ok(base);
    if (s) {
      status = json::parse(s->body, nullptr, false);
      if (str(status, "state") == "Finished") break;
    } else {
      util::log_warn("lava: polling job {}: {}", job.id, s.error().message);
    }
    std::this_thread::sleep_for(options_.poll_interval);
  }
  std::string health = str(status, "health");
  if (job.failure.empty() && health != "Complete")
    job.failure = fmt::format("LAVA job {} ended {}: {}", job.id, health.empty() ? "without a health" : health,
                              str(status, "failure_comment"));

  // The log (YAML lines) and the results with their suite names.
  if (auto lg = client.get_ok(base + "logs/")) job.log = std::move(lg->body);
  else util::log_warn("lava: job {} log: {}", job.id, lg.error().message);
  std::map<std::string, std::string> suites;
  if (auto su = client.get_ok(base + "suites/?limit=1000")) {
    json j = json::parse(su->body, nullptr, false);
    if (j.is_object() && j.contains("results") && j["results"].is_array())
      for (const auto& s : j["results"])
        if (s.is_object() && s.contains("id")) suites[s["id"].dump()] = str(s, "name");
  }
  KT_TRY(Http tests, client.get_ok(base + "tests/?limit=1000"));
  KT_TRY(job.results, lava::parse_results_json(tests.body));
  for (auto& r : job.results)
    if (auto it = suites.find(r.suite); it != suites.end()) r.suite = it->second;
  return job;
}

}  // namespace kerntune::targets
