#pragma once
// Progress of a running campaign. On a terminal: one status line rewritten in
// place (and every second, so a long build or boot still moves):
//
//   [3/8] trial 4: repeat 2/5 | 2m10s, ETA 11m40s | best 10717 (-67.2% vs defaults, unconfirmed)
//
// the stage the running trial is in (building kernel, booting, applying,
// setup, warm-up k/n, repeat k/n, restoring — as the target reports it), the
// elapsed time, the ETA from the campaign's stored trial timings (confirmation
// included, results/cost.hpp), and the recommender's pick so far with its
// change from the defaults, confirmed (with the 95% interval over the
// confirmation rounds) or not. Without a terminal: one log line per trial
// with the same figures; nothing with --quiet.
//
// Thread-safe: worker threads report stages while the coordinating thread
// reports finished trials.
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "kerntune/results/view.hpp"
#include "kerntune/util/clock.hpp"

namespace kerntune::campaign {

class Progress {
 public:
  enum class Mode { tty, lines, quiet };
  /// The recommendation so far, as the progress line shows it.
  struct Best {
    double value = 0;                  ///< the pick's value of the metric
    std::optional<double> ratio;       ///< pick / defaults (nullopt: no baseline value)
    std::optional<double> lo, hi;      ///< 95% interval of the ratio, when there is one
    bool confirmed = false;            ///< from interleaved confirmation rounds
    int rounds = 0;                    ///< confirmation rounds behind the interval
  };
  /// `clock` (must outlive the Progress) times the elapsed time and the ETA.
  Progress(Mode mode, int budget, std::string metric, const util::Clock& clock = util::real_clock());
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void set_done(int done);
  /// The running trial `seq` entered `stage`.
  void stage(int seq, const std::string& stage);
  /// After a trial: its value (nullopt when failed) and wall time.
  void trial_finished(int seq, results::TrialKind kind, std::optional<double> value,
                      const std::string& failure, double seconds);
  /// The recommender's pick so far (nullopt: none yet).
  void set_best(std::optional<Best> best);
  /// The ETA as of now (nullopt: unknown); it counts down until the next call.
  void set_eta(std::optional<double> seconds);
  void note(const std::string& text);
  void finish();

  /// "best 10717 (-67.2% vs defaults, unconfirmed)" — the best-so-far part of the line.
  std::string best_text() const;
  /// The whole status line as a terminal shows it now.
  std::string status_line() const;

 private:
  std::string best_text_locked() const;
  std::string status_line_locked() const;
  std::string eta_text_locked() const;
  void redraw_locked();
  void tick();

  Mode mode_;
  int budget_;
  std::string metric_;
  const util::Clock& clock_;
  double start_;  ///< clock_.monotonic_seconds() at construction

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  int done_ = 0;
  int seq_ = 0;
  std::string stage_ = "starting";
  std::optional<Best> best_;
  std::optional<double> eta_;  ///< as of eta_at_
  double eta_at_ = 0;
  bool line_open_ = false;
  std::thread ticker_;  ///< tty only: redraws every second
};

}  // namespace kerntune::campaign
