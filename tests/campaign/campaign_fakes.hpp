#pragma once
// Fakes for the in-process campaign suite: a clock that moves only when told,
// and a scripted Target whose trials measure a known function, fail, raise an
// infrastructure error or ask for a stop, per trial seq or per worker. The
// campaign loop, the optimizer and the store they drive are the real ones.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <csignal>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kerntune/targets/target.hpp"
#include "kerntune/util/clock.hpp"
#include "kerntune/util/stop_token.hpp"

namespace kt_campaign_test {

namespace targets = kerntune::targets;
namespace util = kerntune::util;

/// Starts at a fixed instant; advance() moves both clocks. Thread-safe.
class FakeClock final : public util::Clock {
 public:
  static constexpr double kUnixStart = 1.8e9;
  double unix_seconds() const override {
    std::lock_guard lock(mu_);
    return kUnixStart + elapsed_;
  }
  double monotonic_seconds() const override {
    std::lock_guard lock(mu_);
    return 1000.0 + elapsed_;
  }
  void advance(double seconds) {
    std::lock_guard lock(mu_);
    elapsed_ += seconds;
  }

 private:
  mutable std::mutex mu_;
  double elapsed_ = 0;
};

/// What the fake target does with one trial.
struct Action {
  enum class What {
    measure,       ///< ok: y = (x - 2)^2 + {a: 1, b: 0, c: 2}[m], per repeat + 0.001 * repeat
    fail,          ///< a failed outcome at `stage`
    error,         ///< an infrastructure Error of `kind` (the first `times` attempts; -1: every one)
    interrupt,     ///< asks the stop token for SIGINT and reports `interrupted`, as a real target does on Ctrl-C
    stop_after,    ///< measures, but a SIGTERM arrives before the trial is handed back
  };
  What what = What::measure;
  std::string stage = "workload";
  util::Error::Kind kind = util::Error::Kind::io;
  int times = -1;
  /// measure: the repeats' values of y, in order (cycled); empty: the function above.
  std::vector<double> values;
};

/// The value the fake measures for a configuration (the optimum is x = 2, m = b).
inline double objective(const nlohmann::json& params) {
  const double x = params.value("x", 0.0);
  const std::string m = params.value("m", std::string("a"));
  return (x - 2) * (x - 2) + (m == "b" ? 0.0 : m == "c" ? 2.0 : 1.0);
}

/// Shared by every worker's fake target: the script and the calls it saw.
class Script {
 public:
  struct Call {
    int worker = 0;
    int seq = 0;
    nlohmann::json params;
    bool independent = false;  ///< TrialRequest::independent: asked for a fresh boot
  };
  static constexpr double kTrialSeconds = 10.0;

  explicit Script(FakeClock& clock) : clock_(clock) {}
  void set_stop(util::StopToken* stop) { stop_ = stop; }
  void on_seq(int seq, Action a) {
    std::lock_guard lock(mu_);
    by_seq_[seq] = a;
  }
  /// Every trial on `worker` raises an io error (a VM that will not start).
  void break_worker(int worker) {
    std::lock_guard lock(mu_);
    broken_.insert(worker);
  }
  /// Every measured (ok) trial also takes `d` of real time, so that a worker
  /// whose trials end at once (a broken one) is handed jobs while the healthy
  /// ones are busy: which worker takes which job no longer depends on how fast
  /// the host runs the threads.
  void slow_healthy(std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    slow_ = d;
  }
  /// Every ok trial also reports metric `z`, the value `f` gives for its
  /// parameters and seq (an outcome the recipe may put a limit on).
  void set_z(std::function<double(const nlohmann::json& params, int seq)> f) {
    std::lock_guard lock(mu_);
    z_ = std::move(f);
  }
  /// A trial whose parameter `name` differs from the previous trial's on
  /// its worker (or the worker's first) "boots": `seconds` more on the clock
  /// and a `boot` stage timing, as a VM target reports a new command line.
  void boot_on_change(std::string name, double seconds) {
    std::lock_guard lock(mu_);
    boot_param_ = std::move(name);
    boot_seconds_ = seconds;
  }
  std::vector<Call> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  void clear_calls() {
    std::lock_guard lock(mu_);
    calls_.clear();
  }

  util::Result<targets::TrialOutcome> run(int worker, const targets::TrialRequest& req) {
    Action a;
    std::chrono::milliseconds slow{0};
    std::function<double(const nlohmann::json&, int)> z;
    bool booted = false;
    {
      std::lock_guard lock(mu_);
      const int attempt = attempts_[req.seq]++;
      calls_.push_back({worker, req.seq, req.params, req.independent});
      if (auto it = by_seq_.find(req.seq); it != by_seq_.end()) a = it->second;
      if (broken_.contains(worker)) a = Action{.what = Action::What::error};
      if (a.what == Action::What::error && a.times >= 0 && attempt >= a.times) a = Action{};
      slow = slow_;
      z = z_;
      if (!boot_param_.empty()) {
        const nlohmann::json now = req.params.value(boot_param_, nlohmann::json());
        auto it = held_.find(worker);
        booted = it == held_.end() || it->second != now;
        held_[worker] = now;
      }
    }
    if (booted) clock_.advance(boot_seconds_);
    if (a.what == Action::What::measure && slow.count() > 0) std::this_thread::sleep_for(slow);
    clock_.advance(kTrialSeconds);
    switch (a.what) {
      case Action::What::fail: return targets::TrialOutcome::failure(a.stage, "scripted failure");
      case Action::What::error:
        return util::fail(fmt::format("scripted error on worker {}", worker), a.kind);
      case Action::What::interrupt:
        stop_->request(SIGINT);
        return util::fail("interrupted", util::Error::Kind::interrupted);
      case Action::What::stop_after: stop_->request(SIGTERM); break;
      case Action::What::measure: break;
    }
    targets::TrialOutcome out;
    out.ok = true;
    const double y = objective(req.params);
    const int repeats = std::max(1, req.repeats);
    for (int r = 0; r < repeats; ++r) {
      req.stage(fmt::format("repeat {}/{}", r + 1, repeats));
      out.samples["y"].push_back(a.values.empty() ? y + 0.001 * r : a.values[static_cast<std::size_t>(r) % a.values.size()]);
      if (z) out.samples["z"].push_back(z(req.params, req.seq));
      if (r + 1 < repeats) {  // as a real target asks (TrialRequest::stop_after_repeat)
        if (std::string why = req.should_stop(out.samples); !why.empty()) {
          out.stopped_early = std::move(why);
          break;
        }
      }
    }
    out.timings["workload"] = kTrialSeconds;
    if (booted) out.timings["boot"] = boot_seconds_;
    out.worker = fmt::format("fake-{}", worker);
    return out;
  }

 private:
  FakeClock& clock_;
  util::StopToken* stop_ = nullptr;
  mutable std::mutex mu_;
  std::map<int, Action> by_seq_;
  std::map<int, int> attempts_;  ///< seq → attempts so far
  std::set<int> broken_;
  std::chrono::milliseconds slow_{0};
  std::function<double(const nlohmann::json&, int)> z_;
  std::vector<Call> calls_;
  std::string boot_param_;
  double boot_seconds_ = 0;
  std::map<int, nlohmann::json> held_;  ///< worker → its last value of boot_param_
};

class FakeTarget final : public targets::Target {
 public:
  FakeTarget(Script& script, int worker) : script_(script), worker_(worker) {}
  util::Result<targets::TrialOutcome> run_trial(const targets::TrialRequest& request) override {
    return script_.run(worker_, request);
  }
  std::string kind() const override { return "fake"; }

 private:
  Script& script_;
  int worker_;
};

}  // namespace kt_campaign_test
