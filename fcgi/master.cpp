#include "master.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "child_process.hpp"
#include "listen_socket.hpp"
#include "phase.hpp"
#include "scoreboard.hpp"
#include "signals.hpp"
#include "spool.hpp"
#include "spooler.hpp"
#include "version.hpp"
#include "worker.hpp"

namespace txtpush {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kCrashLoopLimit = 10;  // deaths within kCrashWindow before backing off
constexpr auto kCrashWindow = std::chrono::seconds(10);
constexpr auto kCrashBackoff = std::chrono::seconds(5);
constexpr auto kTick = std::chrono::milliseconds(200);

struct Child {
    int slot = 0;        // 0..size-1: FastCGI workers; size: the spooler
    bool spooler = false;
    int generation = 0;  // bumped by each reload
    size_t board = 0;    // its WorkerSlot in the scoreboard
};

// An old child waiting for its successor to accept before it is told to stop.
struct Handover {
    pid_t successor = 0;
    Clock::time_point give_up;  // told to stop then, whatever its successor does
};

// The supervisor's state: the config in force, the children, recent deaths,
// and the hand-overs of a reload. Only the master touches it, and the master
// never waits: every step is taken from the tick loop.
struct Pool {
    Config config;
    int listen_fd = -1;
    int size = 1;
    int generation = 0;
    std::map<pid_t, Child> children;
    std::set<pid_t> timed_out;
    std::vector<Clock::time_point> recent_deaths;
    Clock::time_point backoff_until{};
    bool ready_notified = false;
    bool misconfigured_notified = false;  // what STATUS= last said of the database
    std::map<pid_t, Handover> handovers;                // old child -> its successor
    std::map<pid_t, Clock::time_point> told_to_stop;    // old children: killed if still there then
};



std::optional<size_t> free_board_slot(const Scoreboard& board) {
    for (size_t i = 0; i < board.slots.size(); ++i)
        if (board.slots[i].pid.load() == 0) return i;
    return std::nullopt;
}

std::optional<pid_t> spawn(Pool& pool, int slot, Scoreboard& board, PushValidator& validator, const Log& log) {
    auto board_slot = free_board_slot(board);
    if (!board_slot) {
        log.error("spawn_failed", {{"error", "every scoreboard slot is taken"},
                                   {"slots", std::to_string(board.slots.size())}});
        return std::nullopt;
    }
    WorkerSlot& ws = board.slots[*board_slot];
    ws.state.store(static_cast<int>(SlotState::starting));
    ws.is_worker.store(slot < pool.size);
    ws.generation.store(static_cast<uint32_t>(pool.generation));
    ws.requests.store(0);
    ws.db_connected.store(false);
    pid_t master = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) {
        ws.state.store(static_cast<int>(SlotState::empty));
        log.error("fork_failed", {{"error", std::strerror(errno)}});
        return std::nullopt;
    }
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // a master killed outright takes its children along
        if (::getppid() != master) ::_exit(1);
        ws.pid.store(::getpid());
        run_child([&] {
            return slot == pool.size ? run_spooler(pool.config, validator, board, ws, log)
                                     : run_worker(pool.listen_fd, pool.config, validator, board, ws, log);
        }, log);
    }
    ws.pid.store(pid);
    pool.children[pid] = Child{slot, slot == pool.size, pool.generation, *board_slot};
    log.debug("worker_spawned", {{"worker_pid", std::to_string(pid)}, {"slot", std::to_string(slot)}});
    return pid;
}

bool has_current(const Pool& pool, int slot) {
    for (const auto& [pid, c] : pool.children)
        if (c.slot == slot && c.generation == pool.generation) return true;
    return false;
}

// Spawns what the current generation is missing: size workers and a spooler.
void fill(Pool& pool, Scoreboard& board, PushValidator& validator, const Log& log) {
    if (Clock::now() < pool.backoff_until) return;
    for (int slot = 0; slot <= pool.size; ++slot)
        if (!has_current(pool, slot)) spawn(pool, slot, board, validator, log);
}

void note_crash(Pool& pool, Scoreboard& board, const Log& log) {
    board.metrics.worker_restarts.fetch_add(1);
    auto now = Clock::now();
    pool.recent_deaths.push_back(now);
    std::erase_if(pool.recent_deaths, [&](auto t) { return now - t > kCrashWindow; });
    if (static_cast<int>(pool.recent_deaths.size()) < kCrashLoopLimit) return;
    pool.backoff_until = now + kCrashBackoff;
    pool.recent_deaths.clear();
    board.metrics.crash_loops.fetch_add(1);
    log.error("crash_loop", {{"deaths", std::to_string(kCrashLoopLimit)},
                             {"window_s", std::to_string(kCrashWindow.count())},
                             {"backoff_s", std::to_string(kCrashBackoff.count())}});
}

void note_exit(Pool& pool, Scoreboard& board, pid_t pid, int status, bool stopping, const Log& log) {
    auto it = pool.children.find(pid);
    if (it == pool.children.end()) return;
    Child child = it->second;
    pool.children.erase(it);
    pool.handovers.erase(pid);
    pool.told_to_stop.erase(pid);
    WorkerSlot& ws = board.slots[child.board];
    board.spool.forget(child.board);  // what it reserved and never wrote
    ws.state.store(static_cast<int>(SlotState::empty));
    ws.pid.store(0);

    std::string how = WIFSIGNALED(status) ? fmt::format("signal {}", WTERMSIG(status))
                                          : fmt::format("exit {}", WEXITSTATUS(status));
    bool timed_out = pool.timed_out.erase(pid) > 0;
    bool clean = WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == kExitRecycled);
    if (stopping || child.generation != pool.generation) {
        log.debug("worker_exited", {{"worker_pid", std::to_string(pid)}, {"how", how}});
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == kExitRecycled) {
        board.metrics.worker_recycles.fetch_add(1);
        log.info("worker_recycled", {{"worker_pid", std::to_string(pid)}});
    } else if (timed_out) {
        log.warn("worker_replaced_after_timeout", {{"worker_pid", std::to_string(pid)}});
    } else if (!clean) {
        log.warn("worker_died", {{"worker_pid", std::to_string(pid)}, {"how", how}});
        note_crash(pool, board, log);
    }
}

void reap(Pool& pool, Scoreboard& board, bool stopping, const Log& log) {
    int status = 0;
    for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;) note_exit(pool, board, pid, status, stopping, log);
}

// The request timeout: a worker busy for too long is logged with what it was
// doing (the slow-log) and killed; it is replaced like any other death.
void end_overdue(Pool& pool, Scoreboard& board, const Log& log) {
    if (pool.config.request_timeout == 0) return;
    int64_t limit_ms = static_cast<int64_t>(pool.config.request_timeout) * 1000;
    for (const auto& [pid, child] : pool.children) {
        WorkerSlot& ws = board.slots[child.board];
        if (ws.state.load() != static_cast<int>(SlotState::busy) || pool.timed_out.count(pid)) continue;
        int64_t busy_ms = steady_ms() - ws.busy_since_ms.load();
        if (busy_ms <= limit_ms) continue;
        log.error("request_timeout", {{"worker_pid", std::to_string(pid)},
                                      {"request_id", ws.request_id_now()},
                                      {"phase", phase_name(static_cast<Phase>(ws.phase.load()))},
                                      {"busy_ms", std::to_string(busy_ms)},
                                      {"limit_s", std::to_string(pool.config.request_timeout)}});
        board.metrics.worker_timeouts.fetch_add(1);
        pool.timed_out.insert(pid);
        ::kill(pid, SIGKILL);
    }
}

// Waits for the children to exit, killing what is left after the grace period.
void drain(Pool& pool, Scoreboard& board, const Log& log, std::chrono::seconds grace) {
    auto deadline = Clock::now() + grace;
    while (!pool.children.empty() && Clock::now() < deadline) {
        reap(pool, board, true, log);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (pool.children.empty()) return;
    log.warn("stop_grace_expired", {{"killing", std::to_string(pool.children.size())}});
    for (const auto& [pid, child] : pool.children) ::kill(pid, SIGKILL);
    while (!pool.children.empty()) {
        int status = 0;
        pid_t pid = ::waitpid(-1, &status, 0);
        if (pid < 0) break;
        note_exit(pool, board, pid, status, true, log);
    }
}

int stop_pool(Pool& pool, Scoreboard& board, const Log& log) {
    sd_notify(0, "STOPPING=1");
    log.info("stopping", {{"children", std::to_string(pool.children.size())}});
    for (const auto& [pid, child] : pool.children) ::kill(pid, SIGTERM);
    drain(pool, board, log, std::chrono::seconds(pool.config.stop_grace));
    log.info("stopped");
    return 0;
}

// Tells an old child to stop; it is killed if still there after stop_grace,
// so it cannot go on serving with the old configuration.
void retire(Pool& pool, pid_t pid) {
    ::kill(pid, SIGTERM);
    pool.told_to_stop[pid] = Clock::now() + std::chrono::seconds(pool.config.stop_grace);
}

// SIGHUP: a new config starts a new generation of children at once; each old
// child is told to stop once its successor accepts (see hand_over), so no
// request fails. A bad config changes nothing.
void reload(Pool& pool, Scoreboard& board, const std::string& path, PushValidator& validator, Log& log) {
    auto fresh = load_config(path);
    if (!fresh) {
        log.error("reload_refused", {{"error", fresh.error().reason}, {"hint", "the running pool is unchanged"}});
        return;
    }
    sd_notify(0, "RELOADING=1");
    if (fresh->listen != pool.config.listen || fresh->socket_mode != pool.config.socket_mode)
        log.warn("reload_keeps_socket", {{"listen", pool.config.listen}, {"hint", "restart to move the socket"}});
    fresh->listen = pool.config.listen;
    // Pushes waiting in the old spool would be stranded by a new folder.
    if (fresh->spool_dir != pool.config.spool_dir)
        log.warn("reload_keeps_spool", {{"dir", pool.config.spool_dir}, {"hint", "restart to move the spool"}});
    fresh->spool_dir = pool.config.spool_dir;
    int old_generation = pool.generation;
    pool.config = std::move(*fresh);
    pool.size = pool_size(pool.config);
    board.pool_size.store(pool.size);
    log.set_level(pool.config.log_level);
    ++pool.generation;
    reset_inbox_floor(board, static_cast<uint32_t>(pool.generation));  // perhaps another database now
    // Old children by role: worker slot number, or -1 for the spooler.
    std::map<int, pid_t> old_by_role;
    for (const auto& [pid, child] : pool.children)
        if (child.generation == old_generation) old_by_role[child.spooler ? -1 : child.slot] = pid;
    for (int slot = 0; slot <= pool.size; ++slot) {
        auto successor = spawn(pool, slot, board, validator, log);
        auto old = old_by_role.find(slot == pool.size ? -1 : slot);
        if (old == old_by_role.end()) continue;
        pool.handovers[old->second] = Handover{successor.value_or(0), Clock::now() + std::chrono::seconds(5)};
        old_by_role.erase(old);
    }
    for (const auto& [role, pid] : old_by_role) retire(pool, pid);  // the pool shrank
    if (pool.handovers.empty()) sd_notify(0, "READY=1");          // nothing to hand over
    board.metrics.reloads.fetch_add(1);
    log.info("reloaded", {{"workers", std::to_string(pool.size)}, {"generation", std::to_string(pool.generation)}});
}

// Each tick: old children whose successor accepts (or died, or is late) are
// told to stop; those told to stop and still there after stop_grace are killed.
void hand_over(Pool& pool, Scoreboard& board, const Log& log) {
    auto now = Clock::now();
    for (auto it = pool.handovers.begin(); it != pool.handovers.end();) {
        auto successor = pool.children.find(it->second.successor);
        bool accepting = successor != pool.children.end() &&
                         board.slots[successor->second.board].state.load() != static_cast<int>(SlotState::starting);
        if (!accepting && successor != pool.children.end() && now < it->second.give_up) {
            ++it;
            continue;
        }
        retire(pool, it->first);
        it = pool.handovers.erase(it);
        if (pool.handovers.empty()) sd_notify(0, "READY=1");
    }
    for (auto it = pool.told_to_stop.begin(); it != pool.told_to_stop.end();) {
        if (now <= it->second) {
            ++it;
            continue;
        }
        log.warn("stop_grace_expired", {{"worker_pid", std::to_string(it->first)}});
        ::kill(it->first, SIGKILL);
        it = pool.told_to_stop.erase(it);
    }
}

// Ready for systemd once every worker accepts.
void notify_when_ready(Pool& pool, Scoreboard& board, const Log& log) {
    if (pool.ready_notified) return;
    // Ready means pushes are taken: stored, or spooled while the database is
    // away. Its reachability is on the status page and in the log instead.
    int accepting = 0;
    for (const auto& [pid, child] : pool.children) {
        const WorkerSlot& ws = board.slots[child.board];
        if (!ws.is_worker.load()) continue;
        accepting += ws.state.load() != static_cast<int>(SlotState::starting);
    }
    if (accepting < pool.size) return;
    pool.ready_notified = true;
    sd_notify(0, "READY=1");
    log.info("ready", {{"workers", std::to_string(accepting)}});
}

// USR1, nginx's habit: the master's stderr reopened, then each child's.
void reopen_logs(const Pool& pool, const Log& log) {
    if (int failed = reopen_stderr()) log.error("reopen_failed", {{"signal", "USR1"}, {"error", std::strerror(failed)}});
    for (const auto& [pid, child] : pool.children) ::kill(pid, SIGUSR1);
    log.info("reopened_logs", {{"signal", "USR1"}, {"children", std::to_string(pool.children.size())}});
}

// systemd's STATUS= says when the database is not what txtpush was migrated
// for (pushes are refused with 503 then): `systemctl status txtpushd` shows it.
void notify_database_state(Pool& pool, const Scoreboard& board) {
    bool misconfigured = board.db_misconfigured_ms.load() != 0;
    if (misconfigured == pool.misconfigured_notified) return;
    pool.misconfigured_notified = misconfigured;
    sd_notify(0, misconfigured ? "STATUS=database is not what txtpush was migrated for: pushes answered 503 "
                                 "(see event=db_misconfigured)"
                               : "STATUS=serving");
}

}  // namespace

int pool_size(const Config& config) {
    if (config.workers > 0) return config.workers;
    long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
    return cores > 0 ? static_cast<int>(cores) : 1;
}

int run_master(const std::string& config_path, const Config& config, PushValidator& validator, Log& log) {
    sigset_t signals = master_signals();
    sigprocmask(SIG_BLOCK, &signals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);  // a log reader gone away must not end the pool
    remember_stderr();

    auto socket = open_listen_socket(config, log);
    if (!socket) {
        log.error("listen_failed", {{"error", socket.error().reason}});
        return socket.error().kind == ErrorKind::config ? 2 : 1;
    }
    SharedScoreboard shared;
    Scoreboard& board = shared.get();
    Pool pool;
    pool.config = config;
    pool.listen_fd = socket->fd.get();
    pool.size = pool_size(config);
    board.pool_size.store(pool.size);
    board.start_time.store(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count()));
    Spool(config.spool_dir, config.spool_max_bytes, &board.spool).recount();  // before any child uses it
    fill(pool, board, validator, log);
    log.info("started", {{"version", std::string(kVersion)},
                         {"listen", socket->name},
                         {"workers", std::to_string(pool.size)},
                         {"credentials", config.credentials.configured() ? "config" : "moodletxt"},
                         {"config", config_path}});

    for (;;) {
        timespec tick{0, std::chrono::nanoseconds(kTick).count()};
        siginfo_t info{};
        int sig = sigtimedwait(&signals, &info, &tick);
        if (sig == SIGTERM || sig == SIGQUIT || sig == SIGINT) return stop_pool(pool, board, log);
        reap(pool, board, false, log);
        if (sig == SIGHUP) reload(pool, board, config_path, validator, log);
        if (sig == SIGUSR1) reopen_logs(pool, log);
        if (sig == SIGUSR2) log.info("signal_ignored", {{"signal", "USR2"}});
        hand_over(pool, board, log);
        end_overdue(pool, board, log);
        fill(pool, board, validator, log);
        notify_when_ready(pool, board, log);
        notify_database_state(pool, board);
    }
}

}  // namespace txtpush
