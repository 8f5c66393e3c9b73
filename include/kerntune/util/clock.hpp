#pragma once
// Where long-running loops read the time. Abstract so tests drive time with a
// fake (the campaign suite advances it per trial); the real implementation is
// real_clock() (docs/STYLE: side effects behind small interfaces).
namespace kerntune::util {

class Clock {
 public:
  virtual ~Clock() = default;
  /// Seconds since the Unix epoch (wall time: stored start/finish times).
  virtual double unix_seconds() const = 0;
  /// Monotonic seconds from an arbitrary origin (durations, ETAs).
  virtual double monotonic_seconds() const = 0;
};

/// std::chrono::system_clock and steady_clock. Thread-safe.
Clock& real_clock();

}  // namespace kerntune::util
