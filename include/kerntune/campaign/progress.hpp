#pragma once
// Progress of a running campaign: on a terminal a status line rewritten in
// place (trial, stage, elapsed, ETA, best so far vs baseline); without a
// terminal one log line per trial; nothing with --quiet.
#include <optional>
#include <string>

#include "kerntune/util/clock.hpp"
#include "kerntune/results/view.hpp"

namespace kerntune::campaign {

class Progress {
 public:
  enum class Mode { tty, lines, quiet };
  /// `clock` (must outlive the Progress) times the elapsed time and the ETA.
  Progress(Mode mode, int budget, std::string metric, bool maximize, const util::Clock& clock = util::real_clock());

  void set_done(int done) { done_ = done; }
  void stage(int seq, const std::string& stage);
  /// After a trial: its value (nullopt when failed), the baseline and best so far.
  void trial_finished(int seq, results::TrialKind kind, std::optional<double> value,
                      const std::string& failure, double seconds);
  void set_baseline(double v) { baseline_ = v; }
  void note(const std::string& text);
  void finish();

 private:
  std::string best_text() const;
  void redraw(const std::string& stage);
  Mode mode_;
  int budget_;
  int done_ = 0;
  int seq_ = 0;
  std::string metric_;
  bool maximize_;
  std::optional<double> baseline_;
  std::optional<double> best_;
  const util::Clock& clock_;
  double start_;  ///< clock_.monotonic_seconds() at construction
  double trial_seconds_sum_ = 0;
  int trials_timed_ = 0;
  bool line_open_ = false;
};

}  // namespace kerntune::campaign
