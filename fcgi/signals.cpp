#include "signals.hpp"

#include <fcgiapp.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <csignal>
#include <cerrno>
#include <cstring>

namespace txtpush {

namespace {

// This process's supervisor state, written by signal handlers.
volatile sig_atomic_t g_stop = 0;      // asked to stop
volatile sig_atomic_t g_usr1 = 0;      // USR1 received since last logged
volatile sig_atomic_t g_usr2 = 0;      // USR2 received since last logged
char g_stderr_path[PATH_MAX] = {};     // the file stderr was at start; empty: not a file

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

void on_user_signal(int sig) {
    int saved = errno;
    if (sig == SIGUSR1) {
        reopen_stderr();
        g_usr1 = 1;
    } else {
        g_usr2 = 1;
    }
    errno = saved;
}

void handle(int sig, void (*handler)(int), int flags) {
    struct sigaction sa{};
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, nullptr);
}

}  // namespace

void remember_stderr() {
    struct stat st{};
    if (::fstat(2, &st) != 0 || !S_ISREG(st.st_mode)) return;
    ssize_t n = ::readlink("/proc/self/fd/2", g_stderr_path, sizeof(g_stderr_path) - 1);
    g_stderr_path[n > 0 && g_stderr_path[0] == '/' ? n : 0] = '\0';
}

void reopen_stderr() {
    if (g_stderr_path[0] == '\0') return;
    int fd = ::open(g_stderr_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return;
    ::dup2(fd, 2);
    ::close(fd);
}

sigset_t master_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGCHLD, SIGTERM, SIGQUIT, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&set, sig);
    return set;
}

void install_stop_handlers() {
    for (int sig : {SIGTERM, SIGQUIT, SIGINT}) handle(sig, on_stop_signal, 0);  // no SA_RESTART: wakes accept()
    for (int sig : {SIGUSR1, SIGUSR2}) handle(sig, on_user_signal, SA_RESTART);
    std::signal(SIGHUP, SIG_IGN);   // reloads are the master's business
    std::signal(SIGPIPE, SIG_IGN);  // a vanished peer is an error return, not a death
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
}

bool stop_requested() { return g_stop != 0; }

void log_signals_received(const Log& log) {
    if (g_usr1) {
        g_usr1 = 0;
        log.info("reopened_logs", {{"signal", "USR1"}, {"stderr", g_stderr_path[0] ? g_stderr_path : "(not a file)"}});
    }
    if (g_usr2) {
        g_usr2 = 0;
        log.info("signal_ignored", {{"signal", "USR2"}});
    }
}

StopSignalsHeld::StopSignalsHeld() {
    sigset_t set = stop_signals();
    sigprocmask(SIG_BLOCK, &set, nullptr);
}

StopSignalsHeld::~StopSignalsHeld() {
    sigset_t set = stop_signals();
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
}

}  // namespace txtpush
