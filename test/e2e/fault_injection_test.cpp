// Acknowledged means stored: pushes with unique tickets flow through nginx
// while the stack is hurt in turn (database stopped, workers, the spooler and
// the whole service killed, reloads and stops mid-request, a permission
// error, statement timeouts, a full spool). Afterwards every push answered
// 200 or 202 is in the database exactly once.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "e2e_fixture.hpp"
#include "stack_helpers.hpp"

using namespace txtpush;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kFirstTicket = 7000000;

// One push: `statuses` status updates from `ticket` on, and with every fifth
// an inbound SMS with the same ticket.
std::string push_xml(int64_t ticket, int statuses) {
    std::string xml = "<Response>";
    for (int i = 0; i < statuses; ++i)
        xml += fmt::format("<MessageStatus><Ticket>{}</Ticket><Status>5</Status><StatusMessage>{}</StatusMessage>"
                           "</MessageStatus>",
                           ticket + i, std::string(statuses > 1 ? 400 : 10, 'd'));
    if (ticket % 5 == 0)
        xml += fmt::format("<InboundMessage><Ticket>{}</Ticket><MessageText>hi</MessageText><Phone>+447700900999</Phone>"
                           "<Date>1764000000</Date><Destination>88020</Destination>"
                           "<DestinationAccount>CollegeSMS</DestinationAccount></InboundMessage>",
                           ticket);
    return xml + "</Response>";
}

struct Sent {
    int64_t ticket;
    int statuses;
    int answer;
    int phase;  // the fault step it was sent in
};

// What was pushed and answered, from every sending thread.
class Ledger {
public:
    int64_t next(int statuses) { return next_.fetch_add(statuses); }
    std::atomic<int> phase{0};
    void add(Sent s) {
        std::lock_guard lock(mutex_);
        sent_.push_back(s);
    }
    std::vector<Sent> all() {
        std::lock_guard lock(mutex_);
        return sent_;
    }
    size_t size() {
        std::lock_guard lock(mutex_);
        return sent_.size();
    }
    // Pushes answered `status` among those sent from the `from`-th on.
    int answered_from(size_t from, int status) {
        std::lock_guard lock(mutex_);
        int n = 0;
        for (size_t i = from; i < sent_.size(); ++i) n += sent_[i].answer == status;
        return n;
    }

private:
    std::atomic<int64_t> next_{kFirstTicket};
    std::mutex mutex_;
    std::vector<Sent> sent_;
};

int push_once(Ledger& ledger, int statuses) {
    int64_t ticket = ledger.next(statuses);
    int answer = -1;
    try {
        answer = test::http_request(test::stack_http_port(), "POST", test::kPushPath,
                                    test::push_body("gateway", "secret", push_xml(ticket, statuses)))
                     .status;
    } catch (const std::exception&) {
    }
    ledger.add({ticket, statuses, answer, ledger.phase.load()});
    return answer;
}

size_t spooled_files() {
    namespace fs = std::filesystem;
    size_t n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(test::stack_dir() + "/spool", ec)) n += e.path().extension() == ".push";
    return n;
}

bool master_alive() {
    try {
        return ::kill(test::master_pid(), 0) == 0;
    } catch (...) {
        return false;
    }
}

// Whatever happens, the next test finds the stack whole.
struct StackHealer {
    ~StackHealer() {
        try {
            test::stack_control("pg-start");
            if (!master_alive()) test::stack_control("txtpushd-start");
        } catch (...) {
        }
    }
};

class FaultInjection : public test::E2ETest {
protected:
    void as_owner(const std::string& sql) {
        pqxx::connection owner(test::stack_conninfo());
        pqxx::work txn(owner);
        txn.exec(sql);
        txn.commit();
    }
};

}  // namespace

TEST_F(FaultInjection, EveryAcknowledgedPushIsStoredExactlyOnce) {
    StackHealer heal;
    test::StackConfig config;
    Ledger ledger;
    std::atomic<bool> stop{false};
    std::vector<std::thread> senders;
    for (int t = 0; t < 3; ++t)
        senders.emplace_back([&] {
            while (!stop)  // as a gateway would, it does not hammer a service that refuses
                if (int answer = push_once(ledger, 1); answer != 200 && answer != 202) std::this_thread::sleep_for(20ms);
        });
    std::vector<std::string> phases{"start"};
    auto step = [&](const char* what) {
        std::cout << "fault: " << what << std::endl;
        phases.push_back(what);
        ledger.phase = static_cast<int>(phases.size()) - 1;
    };
    // Each fault lasts until it has shown in the answers, and the next starts
    // once pushes are stored again: conditions with a deadline, whatever the
    // machine's speed, never fixed durations.
    auto until_answered = [&](int status, int n, std::string_view what) {
        size_t from = ledger.size();
        EXPECT_TRUE(test::wait_until([&] { return ledger.answered_from(from, status) >= n; }, 90s))
            << what << ": fewer than " << n << " pushes answered " << status;
    };
    auto until_replaced = [&](const char* role, pid_t old) {
        EXPECT_TRUE(test::wait_until([&] {
            auto now = test::child_pids(role);
            return !now.empty() && std::find(now.begin(), now.end(), old) == now.end();
        }, 30s)) << "no new " << role << " replaced " << old;
    };
    until_answered(200, 10, "before any fault");

    step("PostgreSQL stopped until pushes are spooled");
    test::stack_control("pg-stop");
    until_answered(202, 5, "PostgreSQL stopped");
    test::stack_control("pg-start");
    until_answered(200, 5, "PostgreSQL back");

    step("a worker killed");
    pid_t worker = test::child_pids("worker").at(0);
    ::kill(worker, SIGKILL);
    until_replaced("worker", worker);
    until_answered(200, 5, "after the worker was replaced");

    step("the spooler killed while it drains");
    test::stack_control("pg-stop");
    until_answered(202, 5, "PostgreSQL stopped");
    test::stack_control("pg-start");
    pid_t spooler = test::child_pids("spooler").at(0);
    ::kill(spooler, SIGKILL);
    until_replaced("spooler", spooler);
    until_answered(200, 5, "after the spooler was replaced");

    step("SIGHUP twice under load");
    test::StackConfig::reload();
    test::StackConfig::reload();
    until_answered(200, 10, "after the reloads");

    step("the runtime role loses its INSERT right");
    as_owner("REVOKE INSERT ON mdl_block_moodletxt_status FROM txtpush_app");
    until_answered(503, 3, "the right revoked");
    as_owner("GRANT INSERT ON mdl_block_moodletxt_status TO txtpush_app");
    until_answered(200, 5, "the right granted again");

    step("statements time out (status table locked, request_timeout 3 s)");
    config.set({{"server", "request_timeout", "3"}});
    {
        pqxx::connection blocker(test::stack_conninfo());
        pqxx::work lock(blocker);
        lock.exec("LOCK TABLE mdl_block_moodletxt_status IN ACCESS EXCLUSIVE MODE");
        until_answered(202, 2, "the table locked");
        lock.abort();
    }
    config.restore();
    until_answered(200, 5, "the table unlocked");

    step("SIGTERM mid-request, then started again");
    pid_t master = test::master_pid();
    ::kill(master, SIGTERM);
    EXPECT_TRUE(test::wait_until([&] { return ::kill(master, 0) != 0; }, 20s)) << "the master did not stop";
    test::stack_control("txtpushd-start");
    until_answered(200, 5, "started again");

    step("the whole service killed, then started again");
    test::stack_control("txtpushd-kill");
    test::stack_control("txtpushd-start");
    until_answered(200, 5, "started again");

    step("the spool filled (1 MiB) while PostgreSQL is down");
    config.set({{"spool", "max_bytes", "1048576"}});
    test::stack_control("pg-stop");
    int full = 0;
    for (int i = 0; i < 400 && full < 3; ++i) full += push_once(ledger, 40) == 503;
    test::stack_control("pg-start");
    config.restore();
    until_answered(200, 5, "PostgreSQL back");

    stop = true;
    for (auto& t : senders) t.join();
    EXPECT_GT(full, 0) << "the spool never filled";
    test::wait_until([] { return spooled_files() == 0; }, 120s);
    EXPECT_EQ(spooled_files(), 0u);

    // Rows per ticket, in Moodle's tables.
    db_.emplace(test::stack_conninfo());
    std::map<int64_t, int64_t> statuses, inbox;
    {
        pqxx::work txn(*db_);
        for (const auto& row : txn.exec(fmt::format("SELECT ticketnumber, count(*) FROM mdl_block_moodletxt_status "
                                                    "WHERE ticketnumber >= {} GROUP BY 1", kFirstTicket)))
            statuses[row[0].as<int64_t>()] = row[1].as<int64_t>();
        for (const auto& row : txn.exec(fmt::format("SELECT ticket, count(*) FROM mdl_block_moodletxt_inbox "
                                                    "WHERE ticket >= {} GROUP BY 1", kFirstTicket)))
            inbox[row[0].as<int64_t>()] = row[1].as<int64_t>();
    }
    int64_t acknowledged = 0, stored = 0, lost = 0, duplicated = 0, refused = 0;
    std::map<int, int> answers;
    for (const Sent& s : ledger.all()) {
        ++answers[s.answer];
        bool acked = s.answer == 200 || s.answer == 202;
        (acked ? acknowledged : refused) += 1;
        for (int64_t t = s.ticket; t < s.ticket + s.statuses; ++t) {
            bool with_inbound = t == s.ticket && t % 5 == 0;  // as push_xml writes them
            int64_t rows = statuses[t] + (with_inbound ? inbox[t] : 0);
            int64_t expected = with_inbound ? 2 : 1;
            if (rows > expected) ++duplicated;
            if (!acked) continue;
            if (rows == expected) ++stored;
            else if (rows < expected) ++lost;
        }
    }
    std::cout << fmt::format("pushes acknowledged={} refused={}; acknowledged items stored={} lost={} duplicated={}\n",
                             acknowledged, refused, stored, lost, duplicated);
    for (auto [status, n] : answers) std::cout << fmt::format("  answer {}: {}\n", status, n);
    EXPECT_GT(acknowledged, 500);
    // Each fault took effect: the database ones were answered as they should be.
    auto answered_in = [&](std::string_view phase, int status) {
        int n = 0;
        for (const Sent& s : ledger.all()) n += phases.at(s.phase).starts_with(phase) && s.answer == status;
        return n;
    };
    EXPECT_GT(answered_in("PostgreSQL stopped", 202), 0) << "nothing was spooled while the database was down";
    EXPECT_GT(answered_in("the spooler killed", 202), 0) << "nothing was spooled while the database was down";
    EXPECT_GT(answered_in("the runtime role loses", 503), 0) << "the revoked right changed no answer";
    EXPECT_GT(answered_in("statements time out", 202), 0) << "no statement timed out into the spool";
    EXPECT_GT(answered_in("the spool filled", 503), 0) << "the spool never refused";
    EXPECT_EQ(lost, 0);
    EXPECT_EQ(duplicated, 0);
}
