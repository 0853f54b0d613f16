// The inbox catch-up against PostgreSQL (lib/inbox_catch_up.hpp): the
// plugin writes Moodle's inbox in transactions of its own, concurrently with
// pushes, and no row it commits is ever stored twice by a push of the same
// message; a long transaction elsewhere does not hold any floor back.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <optional>

#include "migrations.hpp"
#include "push_store.hpp"
#include "test_databases.hpp"
#include "test_support.hpp"

using namespace txtpush;

namespace {

constexpr const char* kDb = "it_inbox";
const DbNames kNames{"mdl_", "txtpush"};

const char* kSite = R"(
INSERT INTO mdl_user (id, username, firstname, lastname) VALUES (100, 'office', 'School', 'Office');
INSERT INTO mdl_block_moodletxt_accounts (username, password, description, defaultuser, lastupdate)
  VALUES ('CollegeSMS', 'x', 'College', 100, 0);
)";

// The plugin's insert, as Moodle's insert_record writes it.
std::string plugin_row(int64_t ticket, const std::string& id = "DEFAULT") {
    return "INSERT INTO mdl_block_moodletxt_inbox (id, userid, ticket, messagetext, source, timereceived, hasbeenread) "
           "VALUES (" + id + ", 100, " + std::to_string(ticket) + ", 'polled', '+447700900201', 1700000000, 0)";
}

class InboxCatchUp : public ::testing::Test {
protected:
    void SetUp() override {
        test::recreate_database(kDb);
        test::run_sql_file(kDb, test::moodle_schema_path());
        db_.emplace(test::conninfo_of(kDb));
        test::exec_sql(*db_, kSite);
        Log quiet(LogLevel::error);
        auto taken = migrate(*db_, kNames, quiet);
        ASSERT_TRUE(taken.ok()) << taken.error().reason;
    }

    PushStore store() { return PushStore(StoreOptions{test::conninfo_of(kDb), kNames, "Unknown"}, log_); }
    size_t push(PushStore& s, int64_t ticket) {
        Push p;
        p.inbound = {InboundSms{ticket, "hello", "+447700900201", 1700000000, "88020", "CollegeSMS"}};
        auto r = s.store(p, 1764000000, "req");
        EXPECT_TRUE(r.ok()) << r.error().reason;
        return r.ok() ? r->inbox_rows_new : 0;
    }
    int64_t count(const std::string& q) { return test::query_number(*db_, q); }
    // PostgreSQL's statistics of the inbox, which a session publishes when it ends.
    int64_t inbox_rows_fetched() {
        return count("SELECT coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0) FROM pg_stat_user_tables "
                     "WHERE relid = 'mdl_block_moodletxt_inbox'::regclass");
    }
    int64_t inbox_rows_written() {
        return count("SELECT n_tup_ins FROM pg_stat_user_tables WHERE relid = 'mdl_block_moodletxt_inbox'::regclass");
    }
    int64_t rows_of(int64_t ticket) {
        return count("SELECT count(*) FROM mdl_block_moodletxt_inbox WHERE ticket = " + std::to_string(ticket));
    }

    Log log_{LogLevel::error};
    std::optional<pqxx::connection> db_;
};

// A transaction of its own that the test drives statement by statement.
struct Session {
    pqxx::connection conn{test::conninfo_of(kDb)};
    std::optional<pqxx::nontransaction> tx{std::in_place, conn};
    pqxx::result exec(const std::string& sql) { return tx->exec(sql); }
};

}  // namespace

// Invariant 2: a row still committing when a push read past its id is read
// again, as a gap, by the next catch-up.
TEST_F(InboxCatchUp, APluginRowCommittedAfterAPushReadPastItIsCaughtNextTime) {
    PushStore worker = store();
    Session plugin;
    plugin.exec("BEGIN");
    plugin.exec(plugin_row(9001));
    EXPECT_EQ(push(worker, 9002), 1u);  // its row's id is above the plugin's
    plugin.exec("COMMIT");
    EXPECT_EQ(push(worker, 9003), 1u);  // reads the gap: the plugin's row goes into the ledger
    EXPECT_EQ(push(worker, 9001), 0u);  // the gateway pushes the plugin's message too
    EXPECT_EQ(rows_of(9001), 1);
}

// Invariant 3a: nextval takes no transaction id. A writer that drew its id,
// then took one after a push's read ended, commits its row long after a
// later read's xmin passed that read's xmax.
TEST_F(InboxCatchUp, AWriterThatDrewItsIdBeforeItHadATransactionIdIsNotMissed) {
    PushStore worker = store();
    Session plugin;
    std::string id;
    for (int attempt = 0; attempt < 64 && id.empty(); ++attempt) {  // nextval logs (and takes one) every 32nd call
        plugin.exec("BEGIN");
        std::string drawn = plugin.exec("SELECT nextval('mdl_block_moodletxt_inbox_id_seq')")[0][0].c_str();
        if (plugin.exec("SELECT pg_current_xact_id_if_assigned() IS NULL")[0][0].as<bool>()) id = drawn;
        else plugin.exec("ROLLBACK");
    }
    ASSERT_FALSE(id.empty()) << "nextval took a transaction id every time";
    EXPECT_EQ(push(worker, 9102), 1u);  // writes a row above the id drawn
    EXPECT_EQ(push(worker, 9103), 1u);  // reads past the id drawn, the writer in no snapshot
    plugin.exec("SELECT pg_current_xact_id()");  // now it has one, newer than that read
    EXPECT_EQ(push(worker, 9104), 1u);  // a read whose xmin passed the last one's xmax
    plugin.exec(plugin_row(9101, id));
    plugin.exec("COMMIT");
    EXPECT_EQ(push(worker, 9105), 1u);
    EXPECT_EQ(push(worker, 9101), 0u);
    EXPECT_EQ(rows_of(9101), 1);
}

// Invariant 1 under a long transaction (a Moodle backup, a cron run): the
// floor still rises to the top, so a push reads only what was written since.
TEST_F(InboxCatchUp, ALongTransactionElsewhereDoesNotHoldTheFloorBack) {
    test::exec_sql(*db_, "CREATE TABLE cron_log (t text)");
    Session cron;
    cron.exec("BEGIN");
    cron.exec("INSERT INTO cron_log VALUES ('backup started')");  // it has a transaction id, the oldest
    PushStore worker = store();
    for (int64_t t = 9200; t < 9210; ++t) EXPECT_EQ(push(worker, t), 1u);
    test::exec_sql(*db_, plugin_row(9210));
    EXPECT_EQ(push(worker, 9211), 1u);
    int64_t max_id = count("SELECT max(id) FROM mdl_block_moodletxt_inbox");
    EXPECT_EQ(push(worker, 9210), 0u);  // the plugin's row was caught; this read sees every row
    EXPECT_EQ(worker.inbox_cursor().floor(), max_id);
    EXPECT_EQ(worker.inbox_cursor().gap_ids(), 0);
    // The spooler raises the shared watermark as far, the transaction still open.
    PushStore spooler = store();
    ASSERT_TRUE(spooler.catch_up_inbox().ok());
    EXPECT_EQ(count("SELECT watermark FROM txtpush.inbox_watch"), max_id);
    cron.exec("ROLLBACK");
}

// Invariant 5 under a long transaction that holds an inbox id open: the
// shared floor stays below it, yet a process that starts (a new worker, a
// reload) reads what was written since the spooler's last catch-up, not
// every row above that floor. Counted by the inbox's index fetches, which a
// session publishes when it ends.
TEST_F(InboxCatchUp, AProcessThatStartsDuringALongTransactionReadsOnlyWhatIsNew) {
    Session plugin;
    plugin.exec("BEGIN");
    plugin.exec(plugin_row(9400));  // its id drawn, its row not committed: the floor stays below it
    {
        PushStore writer = store();
        for (int64_t t = 9401; t < 9601; ++t) ASSERT_EQ(push(writer, t), 1u);
    }
    {
        PushStore spooler = store();
        ASSERT_TRUE(spooler.catch_up_inbox().ok());
    }
    ASSERT_LT(count("SELECT watermark FROM txtpush.inbox_watch"), 10);  // held back by the open id
    // The writer's and the spooler's reads published (they ended) before the count.
    ASSERT_TRUE(test::wait_until([&] {
        return inbox_rows_written() >= 200 &&
               count("SELECT n_tup_upd FROM pg_stat_user_tables WHERE relid = 'txtpush.inbox_watch'::regclass") >= 1;
    }, std::chrono::seconds(20)));
    int64_t fetched_before = inbox_rows_fetched();
    {
        PushStore started = store();
        EXPECT_EQ(push(started, 9601), 1u);
        EXPECT_EQ(started.inbox_cursor().gap_ids(), 1);  // the open id, taken from the spooler
    }  // its session ends: its statistics are published
    ASSERT_TRUE(test::wait_until([&] { return inbox_rows_written() >= 201; }, std::chrono::seconds(20)));
    EXPECT_LE(inbox_rows_fetched() - fetched_before, 20);  // 200 rows above the floor
    plugin.exec("COMMIT");
    PushStore later = store();
    EXPECT_EQ(push(later, 9400), 0u);  // the plugin's row, committed at last, caught
    EXPECT_EQ(rows_of(9400), 1);
}

// Invariant 6: the workers of a pool share the floor each reached, so a
// push reads what was written since the last read by any of them, not since
// its own worker's. Counted by the inbox's index fetches, as above.
TEST_F(InboxCatchUp, AWorkerReadsOnlyWhatNoWorkerOfItsPoolHasRead) {
    struct Floor : SharedInboxFloor {
        int64_t value = 0;
        int64_t get() const override { return value; }
        void raise(int64_t f) override { value = std::max(value, f); }
    } floor;
    std::optional<PushStore> other(std::in_place, StoreOptions{test::conninfo_of(kDb), kNames, "Unknown"}, log_);
    other->share_inbox_floor(&floor);
    EXPECT_EQ(push(*other, 9700), 1u);  // started
    {
        PushStore busy = store();
        busy.share_inbox_floor(&floor);
        for (int64_t t = 9701; t < 9901; ++t) {
            ASSERT_EQ(push(busy, t), 1u);
            if (t == 9800) test::exec_sql(*db_, plugin_row(9999));  // the plugin's, caught by busy's next read
        }
    }  // its session ends: its statistics are published before the count
    ASSERT_TRUE(test::wait_until([&] { return inbox_rows_written() >= 200; }, std::chrono::seconds(20)));
    int64_t fetched_before = inbox_rows_fetched();
    EXPECT_EQ(push(*other, 9901), 1u);
    other.reset();  // its session ends: its statistics are published
    ASSERT_TRUE(test::wait_until([&] { return inbox_rows_written() >= 202; }, std::chrono::seconds(20)));
    EXPECT_LE(inbox_rows_fetched() - fetched_before, 20);  // 201 rows written since its last read
    // What it did not read is known all the same: the plugin's row is not written again.
    PushStore later = store();
    later.share_inbox_floor(&floor);
    EXPECT_EQ(push(later, 9999), 0u);
    EXPECT_EQ(rows_of(9999), 1);
}

// The shared row gone (a DBA's cleanup): the spooler says so and how to
// restore it; pushes go on, reading from the floor up.
TEST_F(InboxCatchUp, WithoutTheSharedRowTheSpoolerSaysWhatToRestore) {
    test::exec_sql(*db_, "DELETE FROM txtpush.inbox_watch");
    PushStore spooler = store();
    auto caught = spooler.catch_up_inbox();
    ASSERT_FALSE(caught.ok());
    EXPECT_EQ(caught.error().kind, ErrorKind::misconfigured);
    EXPECT_NE(caught.error().reason.find("INSERT INTO txtpush.inbox_watch (watermark) VALUES (0)"), std::string::npos)
        << caught.error().reason;
    PushStore worker = store();
    EXPECT_EQ(push(worker, 9501), 1u);
}

// Invariant 3b: an id drawn and thrown away (a rolled-back insert) holds the
// floor only until the patience has passed and its transactions have ended.
TEST_F(InboxCatchUp, AnIdThrownAwayHoldsTheFloorUntilThePatienceHasPassed) {
    PushStore worker = store();
    Session plugin;
    plugin.exec("BEGIN");
    plugin.exec(plugin_row(9301));
    EXPECT_EQ(push(worker, 9302), 1u);
    plugin.exec("ROLLBACK");
    EXPECT_EQ(push(worker, 9303), 1u);
    EXPECT_EQ(worker.inbox_cursor().gap_ids(), 1);  // within the patience: kept
    EXPECT_LT(worker.inbox_cursor().floor(), worker.inbox_cursor().top());
    // A new reader starts at the shared watermark, as every worker does.
    PushStore spooler = store();
    ASSERT_TRUE(spooler.catch_up_inbox().ok());
    EXPECT_LT(count("SELECT watermark FROM txtpush.inbox_watch"), count("SELECT max(id) FROM mdl_block_moodletxt_inbox"));
}
