#include "kerntune/campaign/progress.hpp"

#include <cstdio>
#include <fmt/format.h>

#include "kerntune/util/log.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::campaign {

Progress::Progress(Mode mode, int budget, std::string metric, bool maximize, const util::Clock& clock)
    : mode_(mode), budget_(budget), metric_(std::move(metric)), maximize_(maximize), clock_(clock),
      start_(clock.monotonic_seconds()) {}

std::string Progress::best_text() const {
  if (!best_) return "best: -";
  std::string s = fmt::format("best {}={:.6g}", metric_, *best_);
  if (baseline_ && *baseline_ != 0) {
    double change = (*best_ - *baseline_) / std::abs(*baseline_) * 100.0;
    s += fmt::format(" ({:+.1f}% vs baseline {:.6g})", change, *baseline_);
  }
  return s;
}

void Progress::redraw(const std::string& stage) {
  if (mode_ != Mode::tty) return;
  double elapsed = clock_.monotonic_seconds() - start_;
  std::string eta = "?";
  if (trials_timed_ > 0) {
    double per = trial_seconds_sum_ / trials_timed_;
    eta = util::format_duration(per * std::max(0, budget_ - done_));
  }
  std::string line = fmt::format("[{}/{}] trial {} {:<9} elapsed {} ETA {}  {}", done_, budget_, seq_, stage,
                                 util::format_duration(elapsed), eta, best_text());
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  line_open_ = true;
}

void Progress::stage(int seq, const std::string& stage) {
  seq_ = seq;
  redraw(stage);
}

void Progress::trial_finished(int seq, results::TrialKind kind, std::optional<double> value,
                              const std::string& failure, double seconds) {
  seq_ = seq;
  if (results::is_search(kind)) {
    trial_seconds_sum_ += seconds;
    ++trials_timed_;
  }
  if (value && results::is_search(kind)) {
    if (kind == results::TrialKind::baseline && !baseline_) baseline_ = value;
    if (!best_ || (maximize_ ? *value > *best_ : *value < *best_)) best_ = value;
  }
  std::string what = value ? fmt::format("{}={:.6g}", metric_, *value) : fmt::format("failed: {}", failure);
  if (mode_ == Mode::lines) {
    util::log_info("trial {} ({}) {} in {}; {}", seq, results::to_string(kind), what, util::format_duration(seconds), best_text());
  } else if (mode_ == Mode::tty) {
    std::fprintf(stderr, "\r\033[K  trial %d (%s) %s in %s\n", seq, std::string(results::to_string(kind)).c_str(), what.c_str(),
                 util::format_duration(seconds).c_str());
    redraw("done");
  }
}

void Progress::note(const std::string& text) {
  if (mode_ == Mode::quiet) return;
  if (mode_ == Mode::tty && line_open_) std::fprintf(stderr, "\r\033[K");
  util::log_info("{}", text);
  if (mode_ == Mode::tty) redraw("…");
}

void Progress::finish() {
  if (mode_ == Mode::tty && line_open_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    line_open_ = false;
  }
}

}  // namespace kerntune::campaign
