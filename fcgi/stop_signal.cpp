#include "stop_signal.hpp"

#include <fcgiapp.h>

#include <csignal>
#include <initializer_list>
#include <signal.h>

namespace txtpush {

namespace {

volatile sig_atomic_t g_stop = 0;  // this process's supervisor state: asked to stop

sigset_t stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGTERM, SIGQUIT, SIGINT}) sigaddset(&set, sig);
    return set;
}

void on_stop_signal(int) {
    g_stop = 1;
    FCGX_ShutdownPending();
}

}  // namespace

void install_stop_handlers() {
    struct sigaction sa{};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGTERM, SIGQUIT, SIGINT}) sigaction(sig, &sa, nullptr);
    std::signal(SIGHUP, SIG_IGN);   // reloads are the master's business
    std::signal(SIGPIPE, SIG_IGN);  // a vanished peer is an error return, not a death
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
}

bool stop_requested() { return g_stop != 0; }

StopSignalsHeld::StopSignalsHeld() {
    sigset_t set = stop_signals();
    sigprocmask(SIG_BLOCK, &set, nullptr);
}

StopSignalsHeld::~StopSignalsHeld() {
    sigset_t set = stop_signals();
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
}

}  // namespace txtpush
