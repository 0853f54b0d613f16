#include "signals.hpp"

#include <fcgiapp.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <csignal>
#include <cerrno>
#include <cstring>
#include <initializer_list>

namespace txtpush {

namespace {

// This process's supervisor state, written by signal handlers and read by
// the loops.
volatile sig_atomic_t g_stop = 0;      // asked to stop
char g_stderr_path[PATH_MAX] = {};     // the file stderr was at start; empty: not a file

sigset_t signals_of(std::initializer_list<int> list) {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : list) sigaddset(&set, sig);
    return set;
}

sigset_t stop_signals() { return signals_of({SIGTERM, SIGQUIT, SIGINT}); }
sigset_t user_signals() { return signals_of({SIGUSR1, SIGUSR2}); }

void on_stop_signal(int) {
    g_stop = 1;
    FCGX_ShutdownPending();
}

// Never runs: USR1 and USR2 stay blocked in the children. Set so that
// FCGX_Init, which installs its own where the default still stands, does not.
void never_delivered(int) {}

void handle(int sig, void (*handler)(int)) {
    struct sigaction sa{};
    sa.sa_handler = handler;
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

int reopen_stderr() {
    if (g_stderr_path[0] == '\0') return 0;
    int fd = ::open(g_stderr_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0640);
    if (fd < 0) return errno;
    struct stat st{};
    int failed = ::fstat(fd, &st) != 0 ? errno : (S_ISREG(st.st_mode) ? 0 : EINVAL);
    if (failed == 0) ::dup2(fd, 2);
    ::close(fd);
    return failed;
}

sigset_t master_signals() { return signals_of({SIGCHLD, SIGTERM, SIGQUIT, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}); }

void install_stop_handlers() {
    for (int sig : {SIGTERM, SIGQUIT, SIGINT}) handle(sig, on_stop_signal);  // no SA_RESTART: wakes accept()
    for (int sig : {SIGUSR1, SIGUSR2}) handle(sig, never_delivered);
    std::signal(SIGHUP, SIG_IGN);   // reloads are the master's business
    std::signal(SIGPIPE, SIG_IGN);  // a vanished peer is an error return, not a death
    sigset_t user = user_signals();
    sigprocmask(SIG_SETMASK, &user, nullptr);  // all but USR1 and USR2 unblocked
}

bool stop_requested() { return g_stop != 0; }

void log_signals_received(const Log& log) {
    int saved = errno;  // callers read the errno of what they did before
    sigset_t user = user_signals();
    timespec now{0, 0};
    for (int sig; (sig = sigtimedwait(&user, nullptr, &now)) > 0;) {
        if (sig == SIGUSR2) {
            log.info("signal_ignored", {{"signal", "USR2"}});
            continue;
        }
        if (int failed = reopen_stderr())
            log.error("reopen_failed", {{"signal", "USR1"}, {"stderr", g_stderr_path}, {"error", std::strerror(failed)}});
        else
            log.info("reopened_logs", {{"signal", "USR1"}, {"stderr", g_stderr_path[0] ? g_stderr_path : "(not a file)"}});
    }
    errno = saved;
}

StopSignalsHeld::StopSignalsHeld() {  // USR1 and USR2 are blocked for good already
    sigset_t set = stop_signals();
    sigprocmask(SIG_BLOCK, &set, nullptr);
}

StopSignalsHeld::~StopSignalsHeld() {
    sigset_t set = stop_signals();
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
}

}  // namespace txtpush
