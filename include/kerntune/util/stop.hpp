#pragma once
// Cooperative stop: SIGINT/SIGTERM set a flag that long operations poll
// (the campaign loop between stages, util::run while waiting on a child).
namespace kerntune::util {

/// Installs SIGINT/SIGTERM handlers that set the stop flag (idempotent).
void install_stop_handlers();
bool stop_requested();
/// The signal that requested the stop (0 if none).
int stop_signal();
void request_stop(int sig);
void reset_stop();

}  // namespace kerntune::util
