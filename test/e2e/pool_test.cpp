// The worker pool under load, through nginx: a killed worker, a reload, a
// stop, a request past its timeout, and the status counters.
#include <gtest/gtest.h>

#include <signal.h>

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
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    // A FastCGI worker (not the spooler), as the status page lists them.
    auto workers = test::child_pids("worker");
    ASSERT_FALSE(workers.empty());
    pid_t victim = workers.back();
    ASSERT_EQ(::kill(victim, SIGKILL), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto answers = load.stop();
    int failed = 0, ok = 0;
    for (auto [status, n] : answers) (status == 200 ? ok : failed) += n;
    EXPECT_GT(ok, 10);
    EXPECT_LE(failed, 1) << "only a request in flight on the killed worker may fail";
    EXPECT_TRUE(wait_for_idle_workers(2, std::chrono::seconds(5)));
    EXPECT_EQ(status_metrics()["txtpush_worker_restarts_total"] - before["txtpush_worker_restarts_total"], 1);
}

TEST_F(Pool, ReloadUnderLoadFailsNothingAndAppliesTheNewConfig) {
    Load load(3, 200000);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    reconfigure({{"server", "workers", "3"}, {"push", "unknown_sender_name", "Nobody"}});
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto answers = load.stop();
    EXPECT_EQ(answers.size(), 1u) << "every answer must be 200";
    EXPECT_GT(answers[200], 10);
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

TEST_F(Pool, RequestPastTheTimeoutIsLoggedAndItsWorkerReplaced) {
    reconfigure({{"server", "request_timeout", "1"}});
    auto before = status_metrics();
    size_t at = test::stack_log_size();
    {
        // Hold the table so the push waits in its storing phase.
        pqxx::connection blocker(test::stack_conninfo());
        pqxx::work lock(blocker);
        lock.exec("LOCK TABLE mdl_block_moodletxt_status IN ACCESS EXCLUSIVE MODE");
        HttpResponse r = push(status_push(300001));
        EXPECT_EQ(r.status, 502);  // nginx: the worker was ended
        lock.abort();
    }
    EXPECT_TRUE(wait_for_log(at, "phase=storing", std::chrono::seconds(5))) << test::stack_log(at);
    EXPECT_NE(test::stack_log(at).find("event=request_timeout"), std::string::npos);
    EXPECT_TRUE(wait_for_idle_workers(2, std::chrono::seconds(5)));
    EXPECT_EQ(status_metrics()["txtpush_worker_timeouts_total"] - before["txtpush_worker_timeouts_total"], 1);
    EXPECT_EQ(push(status_push(300002)).status, 200);
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
        std::this_thread::sleep_for(std::chrono::milliseconds(500));  // both workers now wait on the lock
        size_t at = test::stack_log_size();
        ASSERT_EQ(::kill(master_pid(), SIGTERM), 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        lock.abort();
        for (auto& f : in_flight) EXPECT_EQ(f.get(), 200);
        EXPECT_TRUE(wait_for_log(at, "event=stopped", std::chrono::seconds(15)));
    }
    test::stack_control("txtpushd-start");
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_status WHERE ticketnumber >= 500000"), 2);
    EXPECT_EQ(push(status_push(500010)).status, 200);
}
