// What every signal does, in every process of the pool (nginx's ngx_signals
// is the model). Each child sets its dispositions before libfcgi's FCGX_Init,
// which installs its own SIGUSR1 handler only where the disposition is still
// the default (that handler would fail every later accept with EINTR).
//
//   signal        master                          worker                        spooler
//   TERM INT QUIT stop: children finish, exit 0   stop after the request in     stop between pushes
//                                                 hand (held while it runs)
//   HUP           reload the configuration        ignored (the master's)        ignored
//   USR1          reopen stderr if it is a file,  reopen stderr if it is a      the same
//                 log, send USR1 to the children  file, log it
//   USR2          log it, nothing else            log it, nothing else          the same
//   PIPE          ignored                         ignored (a vanished peer is   ignored
//                                                 an error return)
//   CHLD          reap, replace                   default                       default
//
// In the children USR1 and USR2 stay blocked (a handler is set only so that
// libfcgi keeps its own out) and are taken between requests with
// sigtimedwait: no system call of a request in hand is ever interrupted by
// them (libfcgi's accept waits in select(), which SA_RESTART would not restart).
#pragma once

#include <signal.h>

#include "log.hpp"

namespace txtpush {

// Remembers which file stderr is (if a regular file), so USR1 reopens that
// path after a rotation renamed it. Called by the master before it forks.
void remember_stderr();
// Reopens stderr on the remembered path (created if a rotation moved it);
// nothing when stderr is not a file (the journal, a tty). Never blocks (a
// FIFO put in its place is refused). Returns 0, or the errno that failed it.
int reopen_stderr();

// The signals the master takes with sigtimedwait (blocked, never delivered).
sigset_t master_signals();

// A child's dispositions, as the table says; unblocks what the master blocked.
void install_stop_handlers();
bool stop_requested();

// Takes the USR1 and USR2 sent to a child since the last call: reopens
// stderr for USR1 and logs both. The worker between requests, the spooler
// each round.
void log_signals_received(const Log& log);

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
