// How a child process (worker or spooler) learns it must stop.
#pragma once

namespace txtpush {

// SIGTERM, SIGQUIT and SIGINT set the stop flag and wake libfcgi's accept()
// (no SA_RESTART); SIGHUP and SIGPIPE are ignored. Unblocks all signals the
// master had blocked.
void install_stop_handlers();
bool stop_requested();

// While one lives, the stop signals are held back (blocked, left pending):
// a stop or reload never interrupts the reading, storing or answering of a
// request in hand, which libfcgi does not retry on EINTR. They are delivered
// when it ends, between requests.
class StopSignalsHeld {
public:
    StopSignalsHeld();
    ~StopSignalsHeld();
    StopSignalsHeld(const StopSignalsHeld&) = delete;
    StopSignalsHeld& operator=(const StopSignalsHeld&) = delete;
};

}  // namespace txtpush
