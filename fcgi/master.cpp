#include "master.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>
#include <vector>
#include <cstring>

#include <fmt/format.h>

#include "listen_socket.hpp"
#include "spooler.hpp"
#include "worker.hpp"

namespace txtpush {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kStopGrace = std::chrono::seconds(10);
constexpr int kCrashLoopLimit = 10;  // deaths within kCrashWindow before backing off
constexpr auto kCrashWindow = std::chrono::seconds(10);
constexpr auto kCrashBackoff = std::chrono::seconds(5);

// The supervisor's state: the pool and the recent deaths.
// Slots 0..size-1 are FastCGI workers; slot `size` is the spooler.
struct Pool {
    int listen_fd = -1;
    int size = 1;
    std::map<pid_t, int> workers;  // pid -> slot
    std::vector<Clock::time_point> recent_deaths;
    Clock::time_point backoff_until{};
};

int pool_size(const Config& config) {
    if (config.workers > 0) return config.workers;
    long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
    return cores > 0 ? static_cast<int>(cores) : 1;
}

sigset_t master_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGCHLD, SIGTERM, SIGQUIT, SIGINT, SIGHUP}) sigaddset(&set, sig);
    return set;
}

bool spawn(Pool& pool, int slot, const Config& config, PushValidator& validator, const Log& log) {
    pid_t master = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) {
        log.error("fork_failed", {{"error", std::strerror(errno)}});
        return false;
    }
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // a master killed outright takes its children along
        if (::getppid() != master) ::_exit(1);
        int code = slot == pool.size ? run_spooler(config, validator, log)
                                     : run_worker(pool.listen_fd, config, validator, log);
        std::fflush(nullptr);
        ::_exit(code);
    }
    pool.workers[pid] = slot;
    log.debug("worker_spawned", {{"worker_pid", std::to_string(pid)}, {"slot", std::to_string(slot)}});
    return true;
}

// Free slots are those no live worker holds.
void fill(Pool& pool, const Config& config, PushValidator& validator, const Log& log) {
    if (Clock::now() < pool.backoff_until) return;
    for (int slot = 0; slot <= pool.size; ++slot) {
        bool taken = false;
        for (const auto& [pid, s] : pool.workers) taken |= s == slot;
        if (!taken) spawn(pool, slot, config, validator, log);
    }
}

void note_death(Pool& pool, pid_t pid, int status, bool stopping, const Log& log) {
    pool.workers.erase(pid);
    std::string how = WIFSIGNALED(status) ? fmt::format("signal {}", WTERMSIG(status))
                                          : fmt::format("exit {}", WEXITSTATUS(status));
    if (stopping) {
        log.debug("worker_exited", {{"worker_pid", std::to_string(pid)}, {"how", how}});
        return;
    }
    log.warn("worker_died", {{"worker_pid", std::to_string(pid)}, {"how", how}});
    auto now = Clock::now();
    pool.recent_deaths.push_back(now);
    std::erase_if(pool.recent_deaths, [&](auto t) { return now - t > kCrashWindow; });
    if (static_cast<int>(pool.recent_deaths.size()) >= kCrashLoopLimit) {
        pool.backoff_until = now + kCrashBackoff;
        pool.recent_deaths.clear();
        log.error("crash_loop", {{"deaths", std::to_string(kCrashLoopLimit)},
                                 {"window_s", std::to_string(kCrashWindow.count())},
                                 {"backoff_s", std::to_string(kCrashBackoff.count())}});
    }
}

void reap(Pool& pool, bool stopping, const Log& log) {
    int status = 0;
    for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;) note_death(pool, pid, status, stopping, log);
}

void signal_all(const Pool& pool, int sig) {
    for (const auto& [pid, slot] : pool.workers) ::kill(pid, sig);
}

int stop_pool(Pool& pool, const Log& log) {
    sd_notify(0, "STOPPING=1");
    log.info("stopping", {{"workers", std::to_string(pool.workers.size())}});
    signal_all(pool, SIGTERM);
    auto deadline = Clock::now() + kStopGrace;
    while (!pool.workers.empty() && Clock::now() < deadline) {
        reap(pool, true, log);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!pool.workers.empty()) {
        log.warn("stop_grace_expired", {{"killing", std::to_string(pool.workers.size())}});
        signal_all(pool, SIGKILL);
        while (!pool.workers.empty()) {
            int status = 0;
            pid_t pid = ::waitpid(-1, &status, 0);
            if (pid < 0) break;
            pool.workers.erase(pid);
        }
    }
    log.info("stopped");
    return 0;
}

}  // namespace

int run_master(const std::string& config_path, const Config& config, PushValidator& validator, Log& log) {
    sigset_t signals = master_signals();
    sigprocmask(SIG_BLOCK, &signals, nullptr);

    auto socket = open_listen_socket(config, log);
    if (!socket) {
        log.error("listen_failed", {{"error", socket.error().reason}});
        return 1;
    }
    Pool pool;
    pool.listen_fd = socket->get();
    pool.size = pool_size(config);
    fill(pool, config, validator, log);
    log.info("started", {{"listen", config.listen}, {"workers", std::to_string(pool.size)}, {"config", config_path}});
    sd_notify(0, "READY=1");

    for (;;) {
        timespec tick{1, 0};
        siginfo_t info{};
        int sig = sigtimedwait(&signals, &info, &tick);
        if (sig == SIGTERM || sig == SIGQUIT || sig == SIGINT) return stop_pool(pool, log);
        if (sig == SIGHUP) log.warn("reload_not_supported", {{"hint", "restart the service to apply a new config"}});
        reap(pool, false, log);
        fill(pool, config, validator, log);
    }
}

}  // namespace txtpush
