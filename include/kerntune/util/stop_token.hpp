#pragma once
// StopToken: what a loop polls to learn it should stop. Abstract so an
// in-process caller (the campaign test suite) stops a campaign at a chosen
// moment; signal_stop() is the process-wide SIGINT/SIGTERM flag of stop.hpp.
// Targets and util::run still poll that flag: a token of another kind stops
// the loop between trials, not a child that is running.
#include <atomic>

namespace kerntune::util {

class StopToken {
 public:
  virtual ~StopToken() = default;
  /// The signal that asked for the stop; 0 while nothing did.
  virtual int signal() const = 0;
  /// Asks for a stop as if `sig` had arrived.
  virtual void request(int sig) = 0;
  bool requested() const { return signal() != 0; }
};

/// The process-wide flag (util::stop_requested) as a StopToken. Thread-safe.
StopToken& signal_stop();

/// A token only its holder sets. Thread-safe.
class ManualStop final : public StopToken {
 public:
  int signal() const override { return sig_.load(); }
  void request(int sig) override { sig_.store(sig); }

 private:
  std::atomic<int> sig_{0};
};

}  // namespace kerntune::util
