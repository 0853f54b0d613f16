// The worker pool under load, through nginx: a killed worker, a reload, a
// stop, a request past its timeout, and the status counters.
#include <gtest/gtest.h>

#include <signal.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <array>
#include <future>
#include <regex>
#include <mutex>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "e2e_fixture.hpp"
#include "stack_helpers.hpp"

using namespace txtpush;
using test::HttpResponse;
using test::master_pid;
using test::status_metrics;
using test::wait_for_log;

namespace {

bool wait_for_idle_workers(int n, std::chrono::seconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        auto m = status_metrics();
        if (m["txtpush_workers{state=\"idle\"}"] + m["txtpush_workers{state=\"busy\"}"] == n) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

std::string status_push(int ticket) {
    return fmt::format("<Response><MessageStatus><Ticket>{}</Ticket><Status>1</Status>"
                       "<StatusMessage>ok</StatusMessage></MessageStatus></Response>",
                       ticket);
}

// Pushes from `threads` clients until stopped; counts answers by status.
class Load {
public:
    Load(int threads, int first_ticket) {
        for (int t = 0; t < threads; ++t)
            workers_.emplace_back([this, t, first_ticket] {
                for (int i = 0; !stop_; ++i) {
                    int ticket = first_ticket + t * 100000 + i;
                    int status = 0;
                    try {
                        status = test::http_request(test::stack_http_port(), "POST", test::kPushPath,
                                                    test::push_body("gateway", "secret", status_push(ticket)))
                                     .status;
                    } catch (const std::exception&) {
                        status = -1;
                    }
                    std::lock_guard lock(mutex_);
                    ++answers_[status];
                }
            });
    }
    // Answers so far, of any status.
    int answered() {
        std::lock_guard lock(mutex_);
        int n = 0;
        for (auto [status, count] : answers_) n += count;
        return n;
    }
    // Waits until `n` more requests are answered than when it was called.
    bool until_answered(int n, std::chrono::seconds limit = std::chrono::seconds(30)) {
        int from = answered();
        return test::wait_until([&] { return answered() >= from + n; }, limit);
    }
    std::map<int, int> stop() {
        stop_ = true;
        for (auto& w : workers_) w.join();
        workers_.clear();
        return answers_;
    }
    ~Load() {
        if (!workers_.empty()) stop();
    }

private:
    std::atomic<bool> stop_{false};
    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::map<int, int> answers_;
};

class Pool : public test::E2ETest {
protected:
    void reconfigure(const std::vector<std::array<std::string, 3>>& settings) { config_.set(settings); }

    test::StackConfig config_;
};

}  // namespace

TEST_F(Pool, KilledWorkerIsReplacedAndOnlyItsRequestFails) {
    auto before = status_metrics();
    Load load(3, 100000);
    ASSERT_TRUE(load.until_answered(10));
    // A FastCGI worker (not the spooler), as the status page lists them.
    auto workers = test::child_pids("worker");
    ASSERT_FALSE(workers.empty());
    pid_t victim = workers.back();
    ASSERT_EQ(::kill(victim, SIGKILL), 0);
    EXPECT_TRUE(test::wait_until([&] {
        auto now = test::child_pids("worker");
        return now.size() == workers.size() && std::find(now.begin(), now.end(), victim) == now.end();
    }, std::chrono::seconds(10))) << "the killed worker was not replaced";
    EXPECT_TRUE(load.until_answered(10));
    auto answers = load.stop();
    // Stored or spooled both acknowledge the push (a worker may still be
    // waiting out a reconnect after an earlier test's database restart).
    int failed = 0, ok = 0;
    for (auto [status, n] : answers) (status == 200 || status == 202 ? ok : failed) += n;
    EXPECT_GT(ok, 10);
    std::string seen;
    for (auto [status, n] : answers) seen += fmt::format(" {}x{}", n, status);
    EXPECT_LE(failed, 1) << "only a request in flight on the killed worker may fail; answers:" << seen;
    EXPECT_TRUE(wait_for_idle_workers(2, std::chrono::seconds(5)));
    EXPECT_EQ(status_metrics()["txtpush_worker_restarts_total"] - before["txtpush_worker_restarts_total"], 1);
}

TEST_F(Pool, ReloadUnderLoadFailsNothingAndAppliesTheNewConfig) {
    Load load(3, 200000);
    ASSERT_TRUE(load.until_answered(10));
    reconfigure({{"server", "workers", "3"}, {"push", "unknown_sender_name", "Nobody"}});
    EXPECT_TRUE(wait_for_idle_workers(3, std::chrono::seconds(10)));
    EXPECT_TRUE(load.until_answered(10));
    auto answers = load.stop();
    // Stored or spooled both acknowledge the push (a worker may still be
    // waiting out a reconnect after an earlier test's database restart).
    std::string seen;
    for (auto [status, n] : answers) seen += fmt::format(" {}x{}", n, status);
    for (auto [status, n] : answers) EXPECT_TRUE(status == 200 || status == 202) << "answers:" << seen;
    EXPECT_GT(answers[200], 10) << "answers:" << seen;
    EXPECT_TRUE(wait_for_idle_workers(3, std::chrono::seconds(10)));
    HttpResponse r = push(test::fixture("valid/unicode-text.xml"));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_inbox WHERE sourcefirstname = 'Nobody'"), 1);
}

TEST_F(Pool, BadConfigOnReloadIsRefusedAndTheOldPoolServes) {
    size_t at = test::stack_log_size();
    config_.write(config_.original() + "\n[server]\nworkers = many\n");
    ASSERT_EQ(::kill(master_pid(), SIGHUP), 0);
    ASSERT_TRUE(wait_for_log(at, "event=reload_refused", std::chrono::seconds(10)));
    EXPECT_EQ(push(test::fixture("valid/status-single.xml")).status, 200);
    config_.restore();
}

TEST_F(Pool, StatusCountersMatchAndSurviveRecycling) {
    reconfigure({{"server", "max_requests", "3"}});
    auto before = status_metrics();
    for (int i = 0; i < 20; ++i) ASSERT_EQ(push(status_push(400000 + i)).status, 200);
    for (int i = 0; i < 3; ++i) push(test::fixture("invalid/wrong-root.xml"));
    for (int i = 0; i < 2; ++i) push(status_push(1), "wrong");
    push(status_push(400000));  // a replay
    auto after = status_metrics();
    auto diff = [&](const std::string& k) { return after[k] - before[k]; };
    EXPECT_EQ(diff("txtpush_requests_total{outcome=\"stored\"}"), 21);
    EXPECT_EQ(diff("txtpush_requests_total{outcome=\"invalid_xml\"}"), 3);
    EXPECT_EQ(diff("txtpush_refusals_total{reason=\"auth\"}"), 2);
    EXPECT_EQ(diff("txtpush_items_stored_total{kind=\"status\"}"), 20);
    EXPECT_EQ(diff("txtpush_duplicates_total{kind=\"status\"}"), 1);
    EXPECT_EQ(diff("txtpush_request_duration_seconds_count"), 26);
    EXPECT_GE(diff("txtpush_worker_recycles_total"), 6);
}

TEST_F(Pool, StopUnderLoadLetsRequestsInFlightComplete) {
    std::vector<std::future<int>> in_flight;
    {
        pqxx::connection blocker(test::stack_conninfo());
        pqxx::work lock(blocker);
        lock.exec("LOCK TABLE mdl_block_moodletxt_status IN ACCESS EXCLUSIVE MODE");
        for (int i = 0; i < 2; ++i)
            in_flight.push_back(std::async(std::launch::async, [this, i] { return push(status_push(500000 + i)).status; }));
        ASSERT_TRUE(test::wait_until([&] {  // both workers now wait on the lock
            return count("SELECT count(*) FROM pg_stat_activity WHERE usename = 'txtpush_app' "
                         "AND wait_event_type = 'Lock'") == 2;
        }, std::chrono::seconds(10)));
        size_t at = test::stack_log_size();
        ASSERT_EQ(::kill(master_pid(), SIGTERM), 0);
        ASSERT_TRUE(wait_for_log(at, "event=stopping", std::chrono::seconds(10)));
        lock.abort();
        for (auto& f : in_flight) EXPECT_EQ(f.get(), 200);
        EXPECT_TRUE(wait_for_log(at, "event=stopped", std::chrono::seconds(15)));
    }
    test::stack_control("txtpushd-start");
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_status WHERE ticketnumber >= 500000"), 2);
    EXPECT_EQ(push(status_push(500010)).status, 200);
}

namespace {

// A FastCGI client that talks to txtpushd's socket directly (nginx would
// buffer the body), so a test can pause in the middle of a request's body.
class FcgiClient {
public:
    explicit FcgiClient(const std::string& path) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
            throw std::runtime_error("cannot connect to " + path);
        timeval timeout{20, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    }
    ~FcgiClient() { ::close(fd_); }

    void begin(const std::map<std::string, std::string>& params) {
        record(1, std::string("\0\1\0\0\0\0\0\0", 8));  // BEGIN_REQUEST: responder, no keep-alive
        std::string p;
        for (const auto& [name, value] : params) {
            p += static_cast<char>(name.size());
            p += static_cast<char>(value.size());
            p += name + value;
        }
        record(4, p);
        record(4, "");
    }
    void body(std::string_view data) { record(5, std::string(data)); }
    void end_body() { record(5, ""); }

    // The response's stdout, up to END_REQUEST.
    std::string response() {
        std::string out;
        for (;;) {
            unsigned char head[8];
            if (!read_exactly(head, 8)) return out;
            size_t length = head[4] << 8 | head[5], padding = head[6];
            std::string content(length + padding, '\0');
            if (!read_exactly(content.data(), content.size())) return out;
            if (head[1] == 6) out += content.substr(0, length);
            if (head[1] == 3) return out;
        }
    }

private:
    void record(int type, const std::string& content) {
        std::string r{1, static_cast<char>(type), 0, 1, static_cast<char>(content.size() >> 8),
                      static_cast<char>(content.size() & 0xff), 0, 0};
        r += content;
        ::send(fd_, r.data(), r.size(), MSG_NOSIGNAL);
    }
    bool read_exactly(void* buf, size_t n) {
        for (size_t got = 0; got < n;) {
            ssize_t k = ::recv(fd_, static_cast<char*>(buf) + got, n - got, 0);
            if (k <= 0) return false;
            got += static_cast<size_t>(k);
        }
        return true;
    }
    int fd_ = -1;
};

// A TCP port that takes connections and never answers: a database that is
// unreachable in the slowest way (each connect waits for its timeout).
class SilentServer {
public:
    SilentServer() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof(addr);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 64) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
            throw std::runtime_error("cannot open a silent port");
        port_ = ntohs(addr.sin_port);
    }
    ~SilentServer() { ::close(fd_); }
    int port() const { return port_; }

private:
    int fd_ = -1;
    int port_ = 0;
};

bool is_zombie(pid_t pid) {
    std::string stat = test::read_text(fmt::format("/proc/{}/stat", pid));
    size_t end = stat.rfind(')');
    return end != std::string::npos && end + 2 < stat.size() && stat[end + 2] == 'Z';
}

// The path of the stack's FastCGI socket.
std::string stack_socket() {
    std::string rundir = test::read_text(test::stack_dir() + "/rundir");
    return rundir.substr(0, rundir.find('\n')) + "/txtpushd.sock";
}

bool gone_or_zombie(pid_t pid) { return ::kill(pid, 0) != 0 || is_zombie(pid); }

// User and system CPU ticks a process has used.
long cpu_ticks(pid_t pid) {
    std::string stat = test::read_text(fmt::format("/proc/{}/stat", pid));
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string field;
    long utime = 0, stime = 0;
    for (int i = 3; fields >> field; ++i) {
        if (i == 14) utime = std::stol(field);
        if (i == 15) {
            stime = std::stol(field);
            break;
        }
    }
    return utime + stime;
}

// Whether `pid` comes to rest (no CPU used between two looks 200 ms apart)
// within `limit`: a process spinning on a failed call never does.
bool comes_to_rest(pid_t pid, std::chrono::seconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    for (long last = cpu_ticks(pid); std::chrono::steady_clock::now() < until;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        long now = cpu_ticks(pid);
        if (now == last) return true;
        last = now;
    }
    return false;
}

// Whether `pid` has handled every signal sent to it (none left pending).
bool no_signal_pending(pid_t pid, std::chrono::seconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        std::string status = test::read_text(fmt::format("/proc/{}/status", pid));
        if (status.find("ShdPnd:\t0000000000000000") != std::string::npos &&
            status.find("SigPnd:\t0000000000000000") != std::string::npos)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

// Whether `sig` has reached `pid`: held pending (a worker holds TERM while a
// request runs), or taken (the process has ended, or is ending).
bool signal_reached(pid_t pid, int sig, std::chrono::seconds limit) {
    return test::wait_until([&] {
        if (gone_or_zombie(pid)) return true;
        std::istringstream status(test::read_text(fmt::format("/proc/{}/status", pid)));
        for (std::string line; std::getline(status, line);)
            if (line.starts_with("ShdPnd:") || line.starts_with("SigPnd:"))
                if (std::stoull(line.substr(7), nullptr, 16) & (1ULL << (sig - 1))) return true;
        return false;
    }, limit);
}

// Starts txtpushd as systemd starts a socket-activated service: the listening
// socket as fd 3, LISTEN_FDS=1, LISTEN_PID its own pid. It becomes the stack's
// txtpushd (pid file, log).
pid_t start_activated(int listen_fd) {
    std::string log = test::stack_dir() + "/txtpushd.log";
    std::string bin = std::string(TXTPUSH_BUILD_DIR) + "/txtpushd";
    std::string conf = test::stack_dir() + "/txtpushd.conf";
    pid_t pid = ::fork();
    if (pid == 0) {
        int out = ::open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
        ::dup2(out, 1);
        ::dup2(out, 2);
        ::dup2(listen_fd, 3);
        ::close_range(4, ~0U, 0);  // nothing else of the test's (its database connections)
        ::setenv("LISTEN_FDS", "1", 1);
        ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
        ::execl(bin.c_str(), bin.c_str(), "-c", conf.c_str(), nullptr);
        ::_exit(127);
    }
    std::ofstream(test::stack_dir() + "/txtpushd.pid") << pid << "\n";
    return pid;
}

}  // namespace

TEST_F(Pool, AStopSignalDuringABodyReadDoesNotChangeTheAnswer) {
    // libfcgi does not retry a read cut by EINTR: a SIGTERM arriving while a
    // worker reads a body used to turn a valid push into a 400.
    std::string socket = stack_socket();
    auto workers = test::child_pids("worker");
    ASSERT_FALSE(workers.empty());
    std::string body = test::push_body("gateway", "secret", status_push(600001));
    FcgiClient client(socket);
    client.begin({{"REQUEST_METHOD", "POST"},
                  {"CONTENT_TYPE", "application/x-www-form-urlencoded"},
                  {"CONTENT_LENGTH", std::to_string(body.size())},
                  {"DOCUMENT_URI", test::kPushPath},
                  {"REQUEST_ID", "signal-mid-body"}});
    client.body(body.substr(0, body.size() / 2));
    ASSERT_TRUE(test::wait_until([] { return status_metrics()["txtpush_workers{state=\"busy\"}"] >= 1; },
                                 std::chrono::seconds(10)));  // a worker now waits for the rest
    for (pid_t pid : workers) ::kill(pid, SIGTERM);
    for (pid_t pid : workers) EXPECT_TRUE(signal_reached(pid, SIGTERM, std::chrono::seconds(10))) << pid;
    client.body(body.substr(body.size() / 2));
    client.end_body();
    std::string answer = client.response();
    EXPECT_EQ(answer.rfind("Status: 200", 0), 0u) << answer;
    EXPECT_TRUE(wait_for_idle_workers(2, std::chrono::seconds(10)));
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_status WHERE ticketnumber = 600001"), 1);
}

TEST_F(Pool, AReloadWhoseWorkersCannotReachTheDatabaseNeverBlocksTheMaster) {
    // New workers used to connect before accepting and the master waited for
    // each (5 s apiece) during SIGHUP: nothing was reaped, no timeout enforced.
    SilentServer silent;
    config_.write(std::regex_replace(config_.original(), std::regex("\nconninfo = [^\n]*"),
                                     fmt::format("\nconninfo = host=127.0.0.1 port={} dbname=x user=x", silent.port())));
    size_t at = test::stack_log_size();
    ASSERT_EQ(::kill(master_pid(), SIGHUP), 0);
    pid_t killed = 0;  // any child alive now, of either generation
    for (pid_t pid : test::child_pids("worker"))
        if (!killed && ::kill(pid, SIGKILL) == 0) killed = pid;
    ASSERT_NE(killed, 0);
    // A master that blocked on its new workers' connects (5 s each) would
    // reap nothing and log nothing for 10 s.
    EXPECT_TRUE(test::wait_until([&] { return ::kill(killed, 0) != 0; }, std::chrono::seconds(4)))
        << "the master did not reap a dead child during the reload";
    EXPECT_TRUE(wait_for_log(at, "event=reloaded", std::chrono::seconds(4))) << test::stack_log(at);
    // The new generation accepts at once and spools what it cannot store.
    HttpResponse r = push(status_push(610001));
    EXPECT_TRUE(r.status == 202 || r.status == 200) << r.status << " " << r.body;
    config_.restore();
    EXPECT_TRUE(wait_for_idle_workers(2, std::chrono::seconds(10)));
}

TEST_F(Pool, ARestartUnderLoadFailsNoRequestWhenTheSocketIsHeldAsSystemdHoldsIt) {
    // txtpushd.socket: systemd keeps the listening socket across a restart,
    // so connections wait in its queue while the new master starts.
    std::string path = stack_socket();
    struct stat st{};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    pid_t started_by_stack = master_pid();
    ASSERT_EQ(::kill(started_by_stack, SIGTERM), 0);
    for (int i = 0; i < 400 && !gone_or_zombie(started_by_stack); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(gone_or_zombie(started_by_stack));

    int held = ::socket(AF_UNIX, SOCK_STREAM, 0);  // what systemd holds
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    ::unlink(path.c_str());
    ASSERT_EQ(::bind(held, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(::chmod(path.c_str(), st.st_mode & 07777), 0);
    ASSERT_EQ(::chown(path.c_str(), st.st_uid, st.st_gid), 0);
    ASSERT_EQ(::listen(held, 511), 0);

    size_t at = test::stack_log_size();
    pid_t first = start_activated(held);
    ASSERT_TRUE(wait_for_log(at, "event=listen_inherited", std::chrono::seconds(10))) << test::stack_log(at);
    ASSERT_TRUE(wait_for_idle_workers(2, std::chrono::seconds(10)));
    Load load(4, 700000);
    ASSERT_TRUE(load.until_answered(20));
    ASSERT_EQ(::kill(first, SIGTERM), 0);  // systemctl restart: stop, then start
    int status = 0;
    ::waitpid(first, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    start_activated(held);
    EXPECT_TRUE(load.until_answered(20)) << "nothing answered after the restart";
    auto answers = load.stop();
    ::close(held);
    EXPECT_GT(answers[200], 0);
    answers.erase(200);
    EXPECT_TRUE(answers.empty()) << "requests failed across the restart: " << answers.begin()->first << " x"
                                 << answers.begin()->second;
    EXPECT_TRUE(wait_for_idle_workers(2, std::chrono::seconds(10)));
}

TEST_F(Pool, EverySignalAnOperatorSendsLeavesThePoolServing) {
    // kill -USR1 (nginx's "reopen logs"), USR2 and PIPE, to the master and to
    // each child, under load: nothing fails, nothing dies, nothing spins.
    // No generation still handing over: two idle workers, one spooler.
    ASSERT_TRUE(wait_for_idle_workers(2, std::chrono::seconds(10)));
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (test::child_pids("spooler").size() != 1 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    pid_t master = master_pid();
    auto workers = test::child_pids("worker");
    auto spoolers = test::child_pids("spooler");
    ASSERT_FALSE(workers.empty());
    ASSERT_EQ(spoolers.size(), 1u);
    auto before = status_metrics();
    size_t at = test::stack_log_size();
    {
        Load load(3, 700000);
        std::vector<pid_t> everyone = workers;
        everyone.push_back(spoolers[0]);
        everyone.push_back(master);
        for (int sig : {SIGUSR1, SIGUSR2, SIGPIPE})
            for (pid_t pid : everyone) ASSERT_EQ(::kill(pid, sig), 0) << pid << " " << sig;
        // Children take them between requests, the master at once.
        for (pid_t pid : everyone) EXPECT_TRUE(no_signal_pending(pid, std::chrono::seconds(10))) << pid;
        // The pool serves on: 100 more pushes answered after the signals.
        auto served = [&] { return status_metrics()["txtpush_requests_total{outcome=\"stored\"}"]; };
        double after_signals = served();
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (served() < after_signals + 100 && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        auto answers = load.stop();
        std::string seen;
        for (auto [status, n] : answers) {
            seen += fmt::format(" {}x{}", n, status);
            EXPECT_TRUE(status == 200 || status == 202) << "answers:" << seen;
        }
        EXPECT_GE(served(), after_signals + 100) << "answers:" << seen;
    }
    EXPECT_EQ(master_pid(), master);
    EXPECT_EQ(::kill(master, 0), 0);
    EXPECT_EQ(test::child_pids("worker"), workers);
    EXPECT_EQ(test::child_pids("spooler"), spoolers);
    EXPECT_EQ(status_metrics()["txtpush_worker_restarts_total"], before["txtpush_worker_restarts_total"]);
    for (pid_t pid : workers) EXPECT_TRUE(comes_to_rest(pid, std::chrono::seconds(10))) << "worker " << pid << " spins";
    EXPECT_TRUE(wait_for_log(at, "event=reopened_logs signal=USR1 children=", std::chrono::seconds(5)))
        << test::stack_log(at);
    EXPECT_NE(test::stack_log(at).find("event=signal_ignored signal=USR2"), std::string::npos);
}

TEST_F(Pool, AUsr1DuringABodyReadDoesNotChangeTheAnswer) {
    std::string socket = stack_socket();
    auto workers = test::child_pids("worker");
    ASSERT_FALSE(workers.empty());
    std::string body = test::push_body("gateway", "secret", status_push(700001));
    FcgiClient client(socket);
    client.begin({{"REQUEST_METHOD", "POST"},
                  {"CONTENT_TYPE", "application/x-www-form-urlencoded"},
                  {"CONTENT_LENGTH", std::to_string(body.size())},
                  {"DOCUMENT_URI", test::kPushPath},
                  {"REQUEST_ID", "usr1-mid-body"}});
    client.body(body.substr(0, body.size() / 2));
    // A worker now waits for the rest of the body; USR1 reaches it there and
    // stays pending until the request is answered.
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (status_metrics()["txtpush_workers{state=\"busy\"}"] < 1 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (pid_t pid : workers) ::kill(pid, SIGUSR1);
    client.body(body.substr(body.size() / 2));
    client.end_body();
    std::string answer = client.response();
    EXPECT_EQ(answer.rfind("Status: 200", 0), 0u) << answer;
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_status WHERE ticketnumber = 700001"), 1);
}

TEST_F(Pool, ADatabaseThatNeverAnswersGetsEveryPushSpooledWithinTheRequestTimeout) {
    // One deadline per request: the credentials' read, each connect and each
    // statement get what remains of request_timeout, and the push is spooled
    // (202) before it passes; the master's kill is never needed.
    ASSERT_EQ(push(status_push(800001)).status, 200);  // the credentials are known, and remembered
    auto before = status_metrics();
    SilentServer silent;
    size_t at = test::stack_log_size();
    auto old_generation = test::child_pids("worker");
    reconfigure({{"server", "request_timeout", "3"},
                 {"database", "conninfo", fmt::format("host=127.0.0.1 port={} dbname=x user=x", silent.port())}});
    // Until the old workers (connected to the real database) have handed over.
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    auto any_old = [&] {
        for (pid_t pid : test::child_pids("worker"))
            if (std::find(old_generation.begin(), old_generation.end(), pid) != old_generation.end()) return true;
        return false;
    };
    while (any_old() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_FALSE(any_old()) << "the old workers never handed over";
    for (int i = 0; i < 6; ++i) {
        auto started = std::chrono::steady_clock::now();
        HttpResponse r = push(status_push(800002 + i));
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        EXPECT_EQ(r.status, 202) << r.body;
        EXPECT_LT(seconds, 3.0) << "push " << i << " was answered after request_timeout";
    }
    auto after = status_metrics();
    EXPECT_EQ(after["txtpush_worker_timeouts_total"], before["txtpush_worker_timeouts_total"]);
    EXPECT_EQ(after["txtpush_worker_restarts_total"], before["txtpush_worker_restarts_total"]);
    EXPECT_EQ(test::stack_log(at).find("event=request_timeout"), std::string::npos) << test::stack_log(at);
    config_.restore();
    EXPECT_TRUE(wait_for_idle_workers(2, std::chrono::seconds(10)));
}

TEST_F(Pool, Usr1ReopensTheLogALogrotateRenamed) {
    const std::string log = test::stack_dir() + "/txtpushd.log";
    size_t before = test::stack_log_size();
    ASSERT_EQ(::rename(log.c_str(), (log + ".1").c_str()), 0);
    ASSERT_EQ(::kill(master_pid(), SIGUSR1), 0);
    // The master reopens at once; each worker when it takes its next request.
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::string fresh;
    for (int i = 0; fresh.find("event=reopened_logs signal=USR1 stderr=") == std::string::npos &&
                    std::chrono::steady_clock::now() < until;
         ++i) {
        EXPECT_EQ(push(status_push(810000 + i)).status, 200);
        fresh = test::read_text(log);
    }
    std::string rotated = test::read_text(log + ".1").substr(before);
    std::remove((log + ".1").c_str());
    EXPECT_NE(fresh.find("event=reopened_logs signal=USR1 children="), std::string::npos) << fresh;
    EXPECT_NE(fresh.find("event=reopened_logs signal=USR1 stderr=" + log), std::string::npos) << fresh;
    EXPECT_NE(fresh.find("event=push_stored"), std::string::npos) << fresh;
    EXPECT_EQ(rotated.find("event=reopened_logs signal=USR1 stderr="), std::string::npos)
        << "a worker wrote its reopen line to the rotated file";
}

TEST_F(Pool, RequestPastTheTimeoutIsLoggedAndItsWorkerReplaced) {
    // A database never overruns it now (each statement gets what remains):
    // the master's kill is for a worker stuck elsewhere, here a client that
    // stops sending its body (nginx would buffer it; this talks FastCGI).
    reconfigure({{"server", "request_timeout", "3"}});
    auto before = status_metrics();
    size_t at = test::stack_log_size();
    std::string body = test::push_body("gateway", "secret", status_push(300001));
    {
        FcgiClient client(stack_socket());
        client.begin({{"REQUEST_METHOD", "POST"},
                      {"CONTENT_TYPE", "application/x-www-form-urlencoded"},
                      {"CONTENT_LENGTH", std::to_string(body.size())},
                      {"DOCUMENT_URI", test::kPushPath},
                      {"REQUEST_ID", "stalled-body"}});
        client.body(body.substr(0, body.size() / 2));
        EXPECT_TRUE(wait_for_log(at, "event=request_timeout", std::chrono::seconds(10))) << test::stack_log(at);
    }
    EXPECT_NE(test::stack_log(at).find("request_id=stalled-body phase=reading"), std::string::npos)
        << test::stack_log(at);
    EXPECT_TRUE(wait_for_idle_workers(2, std::chrono::seconds(5)));
    EXPECT_EQ(status_metrics()["txtpush_worker_timeouts_total"] - before["txtpush_worker_timeouts_total"], 1);
    EXPECT_EQ(push(status_push(300002)).status, 200);
}
