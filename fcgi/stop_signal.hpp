// How a child process (worker or spooler) learns it must stop.
#pragma once

namespace txtpush {

// SIGTERM, SIGQUIT and SIGINT set the stop flag and wake libfcgi's accept()
// (no SA_RESTART); SIGHUP and SIGPIPE are ignored. Unblocks all signals the
// master had blocked.
void install_stop_handlers();
bool stop_requested();

}  // namespace txtpush
