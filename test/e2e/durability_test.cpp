// Nothing answered 2xx is lost: PostgreSQL stopped mid-stream, and the whole
// service killed with SIGKILL while pushes wait in the spool.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "e2e_fixture.hpp"

using namespace txtpush;
using test::HttpResponse;

namespace {

std::string status_push(int ticket) {
    return fmt::format("<Response><MessageStatus><Ticket>{}</Ticket><Status>5</Status>"
                       "<StatusMessage><![CDATA[Delivered]]></StatusMessage></MessageStatus></Response>",
                       ticket);
}

size_t spooled() {
    namespace fs = std::filesystem;
    fs::path dir = test::stack_dir() + "/spool";
    if (!fs::exists(dir)) return 0;
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".push";
    return n;
}

bool wait_for_empty_spool(std::chrono::seconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (spooled() > 0 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return spooled() == 0;
}

// Whatever happens in a test, the next one finds the stack running.
struct StackRestorer {
    ~StackRestorer() {
        try {
            test::stack_control("pg-start");
        } catch (...) {
        }
    }
};

class Durability : public test::E2ETest {
protected:
    // After a database restart the fixture's own connection is gone too.
    int64_t stored_once(const std::vector<int>& tickets) {
        db_.emplace(test::stack_conninfo());
        int64_t ok = 0;
        for (int t : tickets)
            ok += count(fmt::format("SELECT count(*) FROM mdl_block_moodletxt_status WHERE ticketnumber = {}", t)) == 1;
        return ok;
    }
};

}  // namespace

TEST_F(Durability, DatabaseStoppedAndStartedMidStream) {
    StackRestorer restore;
    std::vector<int> accepted;
    auto push_one = [&](int ticket) {
        HttpResponse r = push(status_push(ticket));
        if (r.status == 200 || r.status == 202) accepted.push_back(ticket);
        else ADD_FAILURE() << "push " << ticket << " answered " << r.status << ": " << r.body;
        return r.status;
    };
    for (int i = 0; i < 20; ++i) push_one(20000 + i);
    test::stack_control("pg-stop");
    // While it is down, every push is spooled: acknowledged, never refused.
    for (int i = 20; i < 40; ++i) EXPECT_EQ(push_one(20000 + i), 202) << "push " << i << " with the database down";
    test::stack_control("pg-start");
    // Once it is back, pushes are stored again: each worker reconnects after
    // its backoff (at most 2 s), at whatever speed this machine runs.
    int ticket = 20040, stored = 0;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (stored < 10 && std::chrono::steady_clock::now() < until) stored += push_one(ticket++) == 200;
    EXPECT_EQ(stored, 10) << "the database came back but pushes were not stored";
    ASSERT_TRUE(wait_for_empty_spool(std::chrono::seconds(60)));
    EXPECT_EQ(stored_once(accepted), static_cast<int64_t>(accepted.size()));
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_status"), static_cast<int64_t>(accepted.size()));
}

TEST_F(Durability, ServiceKilledWithPushesInTheSpool) {
    StackRestorer restore;
    test::stack_control("pg-stop");
    std::vector<int> accepted;
    for (int i = 0; i < 10; ++i) {
        HttpResponse r = push(status_push(30000 + i));
        ASSERT_EQ(r.status, 202) << r.body;
        accepted.push_back(30000 + i);
    }
    ASSERT_EQ(spooled(), 10u);
    test::stack_control("txtpushd-kill");
    test::stack_control("pg-start");
    test::stack_control("txtpushd-start");
    ASSERT_TRUE(wait_for_empty_spool(std::chrono::seconds(60)));
    EXPECT_EQ(stored_once(accepted), 10);
}

TEST_F(Durability, StartedWithTheDatabaseDownItSpoolsAndStoresLater) {
    StackRestorer restore;
    test::stack_control("pg-stop");
    test::stack_control("txtpushd-kill");
    test::stack_control("txtpushd-start");
    std::vector<int> accepted;
    auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 5; ++i) {
        HttpResponse r = push(status_push(31000 + i));
        ASSERT_EQ(r.status, 202) << r.body;
        accepted.push_back(31000 + i);
    }
    std::cout << "5 pushes spooled in "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
              << " s with the database down\n";
    test::stack_control("pg-start");
    ASSERT_TRUE(wait_for_empty_spool(std::chrono::seconds(60)));
    EXPECT_EQ(stored_once(accepted), 5);
}

TEST_F(Durability, SpoolerAndLiveWorkersStoringTheSameKeysInOppositeOrders) {
    StackRestorer restore;
    auto batch = [](int first, bool descending) {
        std::string xml = "<Response>";
        for (int i = 0; i < 30; ++i) {
            int ticket = descending ? first + 29 - i : first + i;
            xml += fmt::format("<MessageStatus><Ticket>{}</Ticket><Status>1</Status><StatusMessage>x</StatusMessage>"
                               "</MessageStatus>", ticket);
        }
        return xml + "</Response>";
    };
    constexpr int kPushes = 20;
    test::stack_control("pg-stop");
    for (int p = 0; p < kPushes; ++p) ASSERT_EQ(push(batch(40000 + p * 30, false)).status, 202);
    test::stack_control("pg-start");
    // The spooler replays ascending while live workers store the same keys descending.
    std::vector<std::thread> live;
    std::atomic<int> bad{0};
    for (int t = 0; t < 2; ++t)
        live.emplace_back([&, t] {
            for (int p = t; p < kPushes; p += 2) {
                HttpResponse r = push(batch(40000 + p * 30, true));
                if (r.status != 200 && r.status != 202) ++bad;
            }
        });
    for (auto& t : live) t.join();
    EXPECT_EQ(bad.load(), 0) << "no overlapping push may fail";
    ASSERT_TRUE(wait_for_empty_spool(std::chrono::seconds(60)));
    db_.emplace(test::stack_conninfo());
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_status WHERE ticketnumber BETWEEN 40000 AND 40599"),
              kPushes * 30);
    EXPECT_EQ(count("SELECT count(DISTINCT ticketnumber) FROM mdl_block_moodletxt_status "
                    "WHERE ticketnumber BETWEEN 40000 AND 40599"), kPushes * 30);
}

TEST_F(Durability, SpoolListSaysWhyPushesWait) {
    StackRestorer restore;
    test::stack_control("pg-stop");
    ASSERT_EQ(push(status_push(31000)).status, 202);
    // The spooler notes why, once its replay meets the database's answer.
    std::string listing;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    const std::string command = fmt::format("{}/txtpushd spool list -c {}/txtpushd.conf 2>&1", TXTPUSH_BUILD_DIR,
                                            test::stack_dir());
    while (listing.find("# waiting: ") == std::string::npos && std::chrono::steady_clock::now() < until) {
        std::unique_ptr<FILE, int (*)(FILE*)> out(::popen(command.c_str(), "r"), ::pclose);
        listing.clear();
        for (char buf[512]; std::fgets(buf, sizeof buf, out.get());) listing += buf;
        if (listing.find("# waiting: ") == std::string::npos) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_NE(listing.find("# waiting: database unavailable"), std::string::npos) << listing;
    EXPECT_NE(listing.find(".push"), std::string::npos) << listing;
    test::stack_control("pg-start");
    ASSERT_TRUE(wait_for_empty_spool(std::chrono::seconds(60)));
    EXPECT_EQ(stored_once({31000}), 1);
}
