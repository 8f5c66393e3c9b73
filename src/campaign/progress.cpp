#include "kerntune/campaign/progress.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fmt/format.h>

#include "kerntune/util/log.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::campaign {

namespace {
std::string percent(double ratio) { return fmt::format("{:+.1f}%", (ratio - 1.0) * 100.0); }
}  // namespace

Progress::Progress(Mode mode, int budget, std::string metric, const util::Clock& clock)
    : mode_(mode), budget_(budget), metric_(std::move(metric)), clock_(clock),
      start_(clock.monotonic_seconds()) {
  if (mode_ == Mode::tty) ticker_ = std::thread([this] { tick(); });
}

Progress::~Progress() { finish(); }

void Progress::tick() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::seconds(1));
    if (!stopping_ && line_open_) redraw_locked();
  }
}

std::string Progress::best_text_locked() const {
  if (!best_) return "best: -";
  std::string s = fmt::format("best {:.6g}", best_->value);
  if (!best_->ratio) return s;
  s += fmt::format(" ({} vs defaults", percent(*best_->ratio));
  if (best_->confirmed && best_->lo && best_->hi)
    s += fmt::format(", confirmed over {} rounds, 95% [{}, {}]", best_->rounds, percent(*best_->lo), percent(*best_->hi));
  else if (best_->confirmed)
    s += fmt::format(", confirmed over {} round{}", best_->rounds, best_->rounds == 1 ? "" : "s");
  else
    s += ", unconfirmed";
  return s + ")";
}

std::string Progress::eta_text_locked() const {
  if (!eta_) return "ETA ?";
  const double left = std::max(0.0, *eta_ - (clock_.monotonic_seconds() - eta_at_));
  return "ETA " + util::format_duration(left);
}

std::string Progress::status_line_locked() const {
  return fmt::format("[{}/{}] trial {}: {} | {}, {} | {}", done_, budget_, seq_, stage_,
                     util::format_duration(clock_.monotonic_seconds() - start_), eta_text_locked(),
                     best_text_locked());
}

std::string Progress::best_text() const {
  std::lock_guard lock(mutex_);
  return best_text_locked();
}

std::string Progress::status_line() const {
  std::lock_guard lock(mutex_);
  return status_line_locked();
}

void Progress::redraw_locked() {
  if (mode_ != Mode::tty) return;
  std::fprintf(stderr, "\r\033[K%s", status_line_locked().c_str());
  std::fflush(stderr);
  line_open_ = true;
}

void Progress::set_done(int done) {
  std::lock_guard lock(mutex_);
  done_ = done;
}

void Progress::stage(int seq, const std::string& stage) {
  std::lock_guard lock(mutex_);
  seq_ = seq;
  stage_ = stage;
  if (mode_ == Mode::lines) util::log_debug("trial {}: {}", seq, stage);
  redraw_locked();
}

void Progress::set_best(std::optional<Best> best) {
  std::lock_guard lock(mutex_);
  best_ = best;
}

void Progress::set_eta(std::optional<double> seconds) {
  std::lock_guard lock(mutex_);
  eta_ = seconds;
  eta_at_ = clock_.monotonic_seconds();
}

void Progress::trial_finished(int seq, results::TrialKind kind, std::optional<double> value,
                              const std::string& failure, double seconds) {
  std::lock_guard lock(mutex_);
  seq_ = seq;
  std::string what = value ? fmt::format("{}={:.6g}", metric_, *value) : fmt::format("failed: {}", failure);
  if (mode_ == Mode::lines) {
    util::log_info("trial {} ({}) {} in {}; {}; {}", seq, results::to_string(kind), what, util::format_duration(seconds),
                   best_text_locked(), eta_text_locked());
  } else if (mode_ == Mode::tty) {
    std::fprintf(stderr, "\r\033[K  trial %d (%s) %s in %s\n", seq, std::string(results::to_string(kind)).c_str(),
                 what.c_str(), util::format_duration(seconds).c_str());
    stage_ = "done";
    redraw_locked();
  }
}

void Progress::note(const std::string& text) {
  std::lock_guard lock(mutex_);
  if (mode_ == Mode::quiet) return;
  if (mode_ == Mode::tty && line_open_) std::fprintf(stderr, "\r\033[K");
  util::log_info("{}", text);
  if (mode_ == Mode::tty && line_open_) redraw_locked();
}

void Progress::finish() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (mode_ == Mode::tty && line_open_) {
      std::fprintf(stderr, "\r\033[K");
      std::fflush(stderr);
      line_open_ = false;
    }
  }
  wake_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

}  // namespace kerntune::campaign
